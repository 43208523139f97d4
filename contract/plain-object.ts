/** True for a map as YAML or JSON gives one: an object that is not null and not a list. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
