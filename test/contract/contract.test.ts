// The shared contract: parsers the program, the policy pack and the CLI all use.
import { describe, expect, it } from "vitest";
import { parseGoDurationMs, parseImageRef } from "../../contract";

describe("parseImageRef", () => {
    const DIGEST = `sha256:${"ab".repeat(32)}`;
    it.each([
        ["ghcr.io/acme/pesti:1.4.2", { repository: "ghcr.io/acme/pesti", tag: "1.4.2" }],
        [`ghcr.io/acme/pesti:1.4.2@${DIGEST}`, { repository: "ghcr.io/acme/pesti", tag: "1.4.2", digest: DIGEST }],
        [`ghcr.io/acme/pesti@${DIGEST}`, { repository: "ghcr.io/acme/pesti", digest: DIGEST }],
        ["registry.local:5000/team/agent", { repository: "registry.local:5000/team/agent" }],
        ["registry.local:5000/team/agent:2.0.0", { repository: "registry.local:5000/team/agent", tag: "2.0.0" }],
        ["pesti", { repository: "pesti" }],
    ])("splits %s", (ref, expected) => {
        expect(parseImageRef(ref)).toEqual({ digest: undefined, tag: undefined, ...expected });
    });
});

describe("parseGoDurationMs", () => {
    it.each([["10s", 10_000], ["1m0s", 60_000], ["1h30m0s", 5_400_000], ["1.5s", 1_500], ["500ms", 500], ["0s", 0], ["250us", 0.25]])("reads %s", (text, ms) => {
        expect(parseGoDurationMs(text)).toBe(ms);
    });
    it.each(["10", "1d", "ten", "", undefined, 10])("refuses %s", (text) => {
        expect(parseGoDurationMs(text)).toBeUndefined();
    });
});
