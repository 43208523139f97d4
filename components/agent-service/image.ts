import { createHash } from "crypto";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { AgentSpec } from "../../config";
import { Transform, applyTransform } from "../transform";

export interface AgentImageTransforms {
    /** Adjusts the `docker.RemoteImage` of a pulled image. */
    readonly remoteImage?: Transform<docker.RemoteImageArgs>;
    /** Adjusts the `docker.Image` of a locally built image. */
    readonly image?: Transform<docker.ImageArgs>;
}

/**
 * Resource name for an image shared by several agents: readable from the
 * reference, and collision-free through a short hash of it (references
 * differing only in punctuation would otherwise share a name).
 */
export function sharedImageResourceName(owner: string, image: string): string {
    const slug = image.toLowerCase().replace(/@sha256:.*/, "").replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
    const hash = createHash("sha256").update(image).digest("hex").slice(0, 8);
    return `${owner}-image-${slug}-${hash}`;
}

/**
 * Declares the image an agent runs and returns the id to pin its instances to,
 * so that a new build or a new pull replaces them.
 * - `build` set: a `docker.Image` built locally and never pushed (dev).
 * - otherwise: a `docker.RemoteImage` kept locally on destroy, because other
 *   agents and the rollback path may share it.
 */
export function declareAgentImage(
    resourceName: string,
    spec: Pick<AgentSpec, "image" | "build">,
    parent: pulumi.Resource,
    transform?: AgentImageTransforms,
): pulumi.Output<string> {
    if (spec.build) {
        const [args, opts] = applyTransform<docker.ImageArgs>(transform?.image, resourceName, {
            imageName: spec.image,
            build: {
                context: spec.build.context,
                // The provider resolves dockerfile against the project directory, not the context.
                dockerfile: spec.build.dockerfile === undefined ? undefined : path.join(spec.build.context, spec.build.dockerfile),
                args: { ...spec.build.args },
            },
            skipPush: true,
        }, { parent });
        // For a local image that is never pushed, repoDigest holds the local image id.
        return new docker.Image(resourceName, args, opts).repoDigest;
    }
    const [args, opts] = applyTransform<docker.RemoteImageArgs>(transform?.remoteImage, resourceName, {
        name: spec.image,
        keepLocally: true,
    }, { parent });
    return new docker.RemoteImage(resourceName, args, opts).imageId;
}
