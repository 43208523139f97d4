/**
 * `fleet release <agent> <image> --stack <name>`: the agent's current image
 * becomes its rollbackImage and the new one its image, in the stack file.
 * A release names an image to pull: an agent that builds its image (dev) gets
 * `build: false`, so that the release is never built from the working tree
 * under the new tag, overwriting an image it was not built from.
 */
import { isDeployedEnvironment } from "../../contract";
import { isPinned } from "../../contract";
import { EXIT, UserError, Output, asCommand, formatTable } from "../output";
import { StackFileEditor } from "./stack-edit";
import { fleetUpCommand } from "./targets";

export interface ReleaseOptions {
    readonly agent: string;
    readonly image: string;
    readonly stack: string;
    readonly cwd?: string;
    readonly json?: boolean;
}

interface ReleaseJson {
    readonly stack: string;
    readonly agent: string;
    readonly file: string;
    readonly image: string;
    readonly rollbackImage: string;
    /** False when the agent already ran this image and nothing was written. */
    readonly changed: boolean;
    /** True when the agent built its image and now pulls the release instead (`build: false`). */
    readonly stoppedBuilding: boolean;
    /** The command that deploys it, when something changed. */
    readonly command?: string;
}

export function runRelease(options: ReleaseOptions, output: Output): Promise<number> {
    return asCommand(output, async () => {
        const cwd = options.cwd ?? process.cwd();
        const editor = StackFileEditor.open(cwd, options.stack);
        const before = editor.agent(options.agent);
        const at = `${editor.file.display}: fleet.agents.${options.agent}.image`;
        if (isDeployedEnvironment(before.environment) && !isPinned(options.image)) {
            throw new UserError(`${at}: expected a pinned image in ${before.environment} (a version tag like "repo:1.4.3" or a digest "repo@sha256:…"), got "${options.image}"`);
        }
        const changed = before.image !== options.image || before.build !== undefined;
        const stoppedBuilding = before.build !== undefined;
        const result: ReleaseJson = {
            stack: options.stack, agent: options.agent, file: editor.file.display, image: options.image,
            rollbackImage: before.image !== options.image ? before.image : before.rollbackImage ?? before.image, changed, stoppedBuilding,
        };
        if (changed) {
            editor.setAgentField(options.agent, ["image"], options.image);
            if (before.image !== options.image) editor.setAgentField(options.agent, ["rollbackImage"], before.image);
            if (stoppedBuilding) editor.setAgentField(options.agent, ["build"], false);
            // Throws (and writes nothing) when the edited config is invalid, e.g. a malformed image reference.
            editor.save();
        }
        const command = changed ? `npx ${fleetUpCommand(options.stack, options.agent)}` : undefined;
        if (options.json) {
            output.out(JSON.stringify({ ...result, ...(command ? { command } : {}) }, null, 2));
        } else {
            output.out(formatTable(["agent", "image", "rollbackImage", "file"], [[options.agent, result.image, result.rollbackImage, result.file]]));
            if (stoppedBuilding) output.out(`\n${options.agent} built its image from ${before.build!.context}; it now pulls ${options.image} instead (build: false).`);
            output.out(command ? `\nReleased. Deploy this agent with:\n  ${command}` : `\n${options.agent} already runs ${options.image}; nothing changed.`);
        }
        return EXIT.ok;
    });
}
