/**
 * Image references ("ghcr.io/acme/pesti:1.4.2@sha256:…"), split the way the
 * loader (versions) and the policies (pinning, rollback identity) read them.
 * A ":" after the last "/" starts the tag, so registry ports ("host:5000/x")
 * are not mistaken for one.
 */
export interface ImageRef {
    /** Repository with registry, without tag or digest. */
    readonly repository: string;
    readonly tag?: string;
    /** "sha256:<64 hex>". */
    readonly digest?: string;
}

const DIGEST_RE = /@(sha256:[a-f0-9]{64})$/;

export function parseImageRef(image: string): ImageRef {
    const digest = DIGEST_RE.exec(image)?.[1];
    const name = digest ? image.slice(0, image.length - digest.length - 1) : image.split("@")[0];
    const lastSlash = name.lastIndexOf("/");
    const colon = name.indexOf(":", lastSlash + 1);
    return colon >= 0
        ? { repository: name.slice(0, colon), tag: name.slice(colon + 1), digest }
        : { repository: name, digest };
}

/**
 * Whether two references name the same image. A digest is the image's
 * identity: "repo@sha256:X", "repo:1.4.2@sha256:X" and "repo:1.4.1@sha256:X"
 * are one image, whatever the tags say. Without digests, the references
 * themselves are compared.
 */
export function sameImage(a: string, b: string): boolean {
    const digestA = parseImageRef(a).digest;
    const digestB = parseImageRef(b).digest;
    return digestA !== undefined && digestB !== undefined ? digestA === digestB : a === b;
}

// An immutable version tag: semver-like, optionally with a pre-release suffix.
const VERSION_TAG_RE = /^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;

/** A digest, or an immutable version tag; never "latest" or untagged. */
export function isPinned(image: string): boolean {
    const { tag, digest } = parseImageRef(image);
    if (digest) return true;
    return tag !== undefined && VERSION_TAG_RE.test(tag);
}
