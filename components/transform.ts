import * as pulumi from "@pulumi/pulumi";

/**
 * A hook that adjusts a child resource before it is created, in the style of
 * SST's `transform`: change `args` in place, or return new args.
 */
export type Transform<Args> = (args: Args, opts: pulumi.CustomResourceOptions, name: string) => Args | void;

/** Runs an optional transform and returns the args and options to create the child with. */
export function applyTransform<Args>(
    transform: Transform<Args> | undefined,
    name: string,
    args: Args,
    opts: pulumi.CustomResourceOptions,
): [Args, pulumi.CustomResourceOptions] {
    if (!transform) return [args, opts];
    const replaced = transform(args, opts, name);
    return [replaced ?? args, opts];
}
