// The provider's cpus read-back, traced from terraform-provider-docker's
// nanoInt64ToDecimalString; the real-engine suite checks the whole numbers live.
import { describe, expect, it } from "vitest";
import { cpusRoundTrip, providerCpus } from "../../contract";

describe("providerCpus", () => {
    it.each([
        [1, "1.0"], [2, "2.0"], [10, "10."], [20, "20."], [64, "64.0"],
        [0.5, "0.5"], [0.25, "0.25"], [1.5, "1.5"], [10.5, "10.5"], [2.125, "2.125"], [0.101, "0.101"],
        [0.05, "0.1"], [0.01, "0.0"], [0.001, "0.0"], [0.15, "0.15"], [0.07, "0.1"],
    ])("reads %s back as %s", (cpus, spelled) => {
        expect(providerCpus(cpus)).toBe(spelled);
    });

    it("accepts only counts that read back as the same number", () => {
        expect([1, 10, 0.5, 0.25, 1.5, 2.125].every(cpusRoundTrip)).toBe(true);
        expect([0.05, 0.01, 0.001, 0.07].some(cpusRoundTrip)).toBe(false);
    });
});
