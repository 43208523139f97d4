/**
 * One rule for the suites that need what a machine may lack (the Pulumi
 * engine's pieces, root, a second host's tools):
 *
 * - on a developer's or user's machine such a suite is skipped, and says what
 *   is missing and where docs/contributing.md explains it;
 * - in CI (CI=true) nothing may be missing, because .ci/run provides it all
 *   (scripts/engine.sh builds the whole engine), so a missing piece fails the
 *   run at collection, naming the piece, instead of hiding the suite.
 */

/** Returns true when the suite should be skipped; throws in CI instead. */
export function skipUnlessAvailable(suite: string, missing: readonly string[]): boolean {
    if (missing.length === 0) return false;
    const why = `${suite} needs ${missing.join(", ")} (see docs/contributing.md, "Real-engine tests")`;
    if (process.env.CI === "true") {
        throw new Error(`${why}. CI provides every piece (.ci/run, scripts/engine.sh), so this fails rather than skips.`);
    }
    console.warn(`${suite} skipped: ${why}`);
    return true;
}
