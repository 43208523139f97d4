import { FleetPolicy, agentPolicy, isDeployedEnvironment, reportAgent } from "./fleet-policy";

const DIGEST_RE = /@(sha256:[a-f0-9]{64})$/;
// An immutable version tag: semver-like, optionally with a pre-release suffix.
const VERSION_TAG_RE = /^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;

/** The tag of an image reference, or undefined when it has none. */
export function imageTag(image: string): string | undefined {
    const name = image.split("@")[0];
    const lastSlash = name.lastIndexOf("/");
    const colon = name.indexOf(":", lastSlash + 1);
    return colon >= 0 ? name.slice(colon + 1) : undefined;
}

/** The digest of an image reference ("sha256:…"), or undefined when it names none. */
export function imageDigest(image: string): string | undefined {
    return DIGEST_RE.exec(image)?.[1];
}

/**
 * Whether two references name the same image. A digest is the image's
 * identity: "repo@sha256:X", "repo:1.4.2@sha256:X" and "repo:1.4.1@sha256:X"
 * are one image, whatever the tags say. Without digests, the references
 * themselves are compared.
 */
export function sameImage(a: string, b: string): boolean {
    const digestA = imageDigest(a);
    const digestB = imageDigest(b);
    return digestA !== undefined && digestB !== undefined ? digestA === digestB : a === b;
}

/** A digest, or an immutable version tag; never "latest" or untagged. */
export function isPinned(image: string): boolean {
    if (DIGEST_RE.test(image)) return true;
    const tag = imageTag(image);
    return tag !== undefined && VERSION_TAG_RE.test(tag);
}

/** Rule 4a: staging and production run exactly the image that was reviewed. */
export function pinnedImages(): FleetPolicy {
    return {
        appliesTo: "all tiers, staging and production",
        fix: "Set `image` to a digest (`repo@sha256:…`) or a version tag (`repo:1.4.2`), never `latest` or no tag.",
        policy: agentPolicy(
            "pinned-images",
            "In staging and production every agent image is pinned to a digest or an immutable version tag.",
            (inputs, agent, report) => {
                if (!isDeployedEnvironment(agent.environment)) return;
                if (!isPinned(agent.image)) {
                    reportAgent(report, inputs, "image", `pin the image to a digest or a version tag like "1.4.2", got ${JSON.stringify(agent.image)}`);
                }
            },
        ),
    };
}

/** Rule 4b: tier 1's rollback plan is a previous, pinned, different image. */
export function rollbackImage(): FleetPolicy {
    return {
        appliesTo: "all tiers, staging and production",
        fix: "Set `rollbackImage` to the previous known-good image, pinned, and different from `image`.",
        policy: agentPolicy(
            "rollback-image",
            "In staging and production every agent names a pinned rollbackImage that differs from its image: the rollback plan.",
            (inputs, agent, report) => {
                if (!isDeployedEnvironment(agent.environment)) return;
                if (agent.rollbackImage === undefined) {
                    reportAgent(report, inputs, "rollbackImage", "set rollbackImage to the previous known-good image (pinned)");
                } else if (!isPinned(agent.rollbackImage)) {
                    reportAgent(report, inputs, "rollbackImage", `pin rollbackImage to a digest or a version tag, got ${JSON.stringify(agent.rollbackImage)}`);
                } else if (sameImage(agent.rollbackImage, agent.image)) {
                    reportAgent(report, inputs, "rollbackImage", "set rollbackImage to the previous release; it is the same image as image (compared by digest where both have one), so there is nothing to roll back to");
                }
            },
        ),
    };
}
