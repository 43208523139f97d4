/**
 * How policy findings and secrets are spoken of, by the pack and by the CLI
 * alike: one home for the violation levels and for the secret marker.
 */

/** A violation's level, as the engine reports it: "mandatory" blocks the update, "advisory" only warns. */
export type ViolationLevel = "advisory" | "mandatory";

/** What the engine (and every report of the fleet) shows in place of a secret value. */
export const SECRET_MARKER = "[secret]";
