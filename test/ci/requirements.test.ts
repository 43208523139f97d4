/**
 * The rule every suite with machine requirements follows (test/support/requirements.ts):
 * skip with the reason on a developer's machine, fail naming the piece in CI.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { skipUnlessAvailable } from "../support/requirements";

describe("skipUnlessAvailable", () => {
    afterEach(() => { vi.unstubAllEnvs(); vi.restoreAllMocks(); });

    it("runs a suite that lacks nothing, in CI or not", () => {
        vi.stubEnv("CI", "true");
        expect(skipUnlessAvailable("test/e2e/x", [])).toBe(false);
        vi.stubEnv("CI", "");
        expect(skipUnlessAvailable("test/e2e/x", [])).toBe(false);
    });

    it("skips on a developer's machine, saying what is missing", () => {
        vi.stubEnv("CI", "");
        const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
        expect(skipUnlessAvailable("test/e2e/x", ["the docker resource plugin 5.2.0"])).toBe(true);
        expect(warn).toHaveBeenCalledWith(expect.stringContaining("test/e2e/x skipped: test/e2e/x needs the docker resource plugin 5.2.0"));
    });

    it("fails in CI instead of skipping, naming every missing piece", () => {
        vi.stubEnv("CI", "true");
        expect(() => skipUnlessAvailable("test/e2e/x", ["pulumi-language-nodejs on PATH", "the github resource plugin 6.15.0"]))
            .toThrow(/^test\/e2e\/x needs pulumi-language-nodejs on PATH, the github resource plugin 6.15.0 .*fails rather than skips/);
    });
});
