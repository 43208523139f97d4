// A webhook channel signs with a secret of its own: never the key that holds
// its own URL or another channel's, which anyone holding that URL knows.
import { describe, expect, it } from "vitest";
import { load, problemsOf, sourceWith, stackProblem } from "./fixtures";

const pager = (signingSecret: string) => sourceWith((s) => {
    s.fleet.channels.pager = { type: "webhook", urlSecret: "calendarToken", signingSecret, agents: ["jarvis"] };
});

describe("a webhook channel's signing secret", () => {
    it("takes a key of its own", () => {
        expect(load(pager("pagerSigningSecret")).channels.find((c) => c.name === "pager")).toMatchObject({ urlSecret: "calendarToken", signingSecret: "pagerSigningSecret" });
    });

    it("refuses the key that holds its own URL", () => {
        expect(problemsOf(pager("calendarToken"))).toEqual([stackProblem("fleet.channels.pager.signingSecret",
            'expected a signing secret of its own, got "calendarToken", the key that holds its own URL: anyone holding that URL could forge this channel\'s signatures (pulumi config set --secret <a new key> <a random value>)')]);
    });

    it("refuses the key that holds another channel's URL", () => {
        expect(problemsOf(pager("opsSlackWebhookUrl"))).toEqual([stackProblem("fleet.channels.pager.signingSecret",
            'expected a signing secret of its own, got "opsSlackWebhookUrl", the key that holds channel ops-slack\'s URL: anyone holding that URL could forge this channel\'s signatures (pulumi config set --secret <a new key> <a random value>)')]);
    });
});
