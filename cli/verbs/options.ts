/** Arguments and options several verbs share, so each reads the same in every help text. */

export const AGENT_ARGUMENT = "the agent, as named under fleet.agents";
export const STACK_FILE_OPTION = "the stack whose file (stacks/Pulumi.<name>.yaml) to edit";
export const CWD_OPTION = "project directory, where Pulumi.yaml is (default: the current directory)";

/** `--stack a --stack b,c`: every name given, in order. */
export function collectStacks(value: string, previous: string[] = []): string[] {
    return [...previous, ...value.split(",").map((s) => s.trim()).filter(Boolean)];
}
