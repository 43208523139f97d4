// Durations: parsing config text, and formatting the way Go's
// time.Duration.String() does so the Docker provider shows no false diffs.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { durationMs, goDuration, humanDuration, isDuration } from "../../contract";

const TEN_DAYS_MS = 10 * 86_400_000;

describe("goDuration", () => {
    // Expected strings are what `fmt.Println(time.Duration(ms) * time.Millisecond)` prints.
    it.each([
        [0, "0s"],
        [1, "1ms"],
        [500, "500ms"],
        [999, "999ms"],
        [1_000, "1s"],
        [1_500, "1.5s"],
        [1_001, "1.001s"],
        [1_010, "1.01s"],
        [10_000, "10s"],
        [59_999, "59.999s"],
        [60_000, "1m0s"],
        [61_500, "1m1.5s"],
        [90_000, "1m30s"],
        [3_600_000, "1h0m0s"],
        [3_600_001, "1h0m0.001s"],
        [5_400_000, "1h30m0s"],
        [86_400_000, "24h0m0s"],
        [TEN_DAYS_MS, "240h0m0s"],
    ])("%i ms is %s", (ms, text) => {
        expect(goDuration(ms)).toBe(text);
    });

    it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("rejects %s", (ms) => {
        expect(() => goDuration(ms)).toThrow(/whole, non-negative number of milliseconds/);
    });
});

describe("durationMs", () => {
    it.each([
        ["0s", 0],
        ["500ms", 500],
        ["10s", 10_000],
        ["1m30s", 90_000],
        ["1h30m", 5_400_000],
        ["24h", 86_400_000],
        ["2d", 2 * 86_400_000],
        ["1d12h", 36 * 3_600_000],
        ["1m0s", 60_000],
        ["1h0m0s", 3_600_000],
    ])("parses %s as %i ms", (text, ms) => {
        expect(isDuration(text)).toBe(true);
        expect(durationMs(text)).toBe(ms);
    });

    it.each(["ten", "10", "1.5s", "", "10 s", " 10s", "10s ", "-10s", "10S", "10sec", "1h 30m", "s", "10us", "1e3ms"])(
        "rejects %j",
        (text) => {
            expect(isDuration(text)).toBe(false);
            expect(() => durationMs(text)).toThrow(`expected a duration like "10s", got ${JSON.stringify(text)}`);
        },
    );

    it("reads back everything goDuration writes for whole seconds", () => {
        // goDuration's fractional seconds ("1.5s") are outside the config grammar; whole ones must parse.
        fc.assert(fc.property(fc.integer({ min: 0, max: TEN_DAYS_MS / 1_000 }), (seconds) => {
            expect(durationMs(goDuration(seconds * 1_000))).toBe(seconds * 1_000);
        }), { numRuns: 300 });
    });
});

describe("humanDuration", () => {
    it.each([
        [0, "0s"],
        [500, "500ms"],
        [90_000, "1m30s"],
        [86_400_000, "24h"],
        [61_500, "1m1s500ms"],
        [3_600_000 + 1, "1h1ms"],
    ])("%i ms is %s", (ms, text) => {
        expect(humanDuration(ms)).toBe(text);
    });

    it("round-trips every whole millisecond count up to 10 days", () => {
        fc.assert(fc.property(fc.integer({ min: 0, max: TEN_DAYS_MS }), (ms) => {
            const text = humanDuration(ms);
            expect(isDuration(text)).toBe(true);
            expect(durationMs(text)).toBe(ms);
        }), { numRuns: 1_000 });
    });

    it("round-trips the boundaries", () => {
        for (const ms of [0, 1, 999, 1_000, 59_999, 60_000, 3_599_999, 3_600_000, 86_399_999, 86_400_000, TEN_DAYS_MS]) {
            expect(durationMs(humanDuration(ms))).toBe(ms);
        }
    });
});
