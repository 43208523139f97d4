import { createHash } from "crypto";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { AgentSpec } from "../../config";
import { parseImageRef } from "../../contract";
import type { AgentRuntime } from "../runtimes";
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
 * Declares the image an agent runs and returns the reference to pin its
 * instances to, so that a new build or a new pull rolls them:
 * - `build` set: a `docker.Image` built locally. For "local-id" it is never
 *   pushed (dev, one host); for "registry-digest" it is pushed to the
 *   registry its name points at, so every Swarm node can pull it.
 * - otherwise: a `docker.RemoteImage` kept locally on destroy, because other
 *   agents and the rollback path may share it.
 * "local-id" returns the image id on this host; "registry-digest" returns
 * "repo@sha256:…", which every node resolves to the same bits.
 */
export function declareAgentImage(
    resourceName: string,
    spec: Pick<AgentSpec, "image" | "build">,
    parent: pulumi.Resource,
    transform?: AgentImageTransforms,
    reference: AgentRuntime["imageReference"] = "local-id",
    /** The Docker provider of the host the image goes to; default the stack's default provider. */
    provider?: pulumi.ProviderResource,
): pulumi.Output<string> {
    const on = provider ? { provider } : {};
    if (spec.build) {
        const [args, opts] = applyTransform<docker.ImageArgs>(transform?.image, resourceName, {
            imageName: spec.image,
            build: {
                context: spec.build.context,
                // The provider resolves dockerfile against the project directory, not the context.
                dockerfile: spec.build.dockerfile === undefined ? undefined : path.join(spec.build.context, spec.build.dockerfile),
                args: { ...spec.build.args },
            },
            skipPush: reference === "local-id",
        }, { parent, ...on });
        // Pushed, repoDigest is the registry digest; never pushed, it holds the local image id.
        return new docker.Image(resourceName, args, opts).repoDigest;
    }
    const [args, opts] = applyTransform<docker.RemoteImageArgs>(transform?.remoteImage, resourceName, {
        name: spec.image,
        keepLocally: true,
    }, { parent, ...on });
    const image = new docker.RemoteImage(resourceName, args, opts);
    if (reference === "local-id") return image.imageId;
    // repoDigest is whichever repository's digest the local image lists first: another
    // repository holding the same bits may come first. The digest is what pins the bits;
    // the repository is the one the agent names, so that every node pulls from there.
    return image.repoDigest.apply((repoDigest) => `${parseImageRef(spec.image).repository}@${repoDigest.slice(repoDigest.indexOf("@") + 1)}`);
}
