// A URL field carries no credentials: fleet.webhookBaseUrl (and a host's ssh:// address, tested with the hosts).
import { describe, expect, it } from "vitest";
import { load, problemsOf, sourceWith, stackProblem } from "./fixtures";

const withBase = (url: string) => sourceWith((s) => {
    s.fleet.webhookBaseUrl = url;
});

describe("fleet.webhookBaseUrl", () => {
    it("takes a public URL", () => {
        expect(load(withBase("https://hooks.acme.dev/fleet/")).webhookBaseUrl).toBe("https://hooks.acme.dev/fleet");
    });

    it.each(["https://deploy:s3cr3t-seed@hooks.acme.dev", "https://s3cr3t-seed@hooks.acme.dev/fleet"])("refuses credentials in it without echoing them (%#)", (url) => {
        const problems = problemsOf(withBase(url));
        expect(problems).toEqual([stackProblem("fleet.webhookBaseUrl",
            "expected a public URL without credentials, like \"https://hooks.acme.dev\" (agents verify each delivery's signature; a user or password here would be sent to GitHub and kept in the stack file), got one with credentials (not shown)")]);
        expect(JSON.stringify(problems)).not.toContain("s3cr3t-seed");
    });
});
