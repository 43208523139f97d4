import { describe, expect, it } from "vitest";
import { REPLAY_WINDOW_SECONDS, signature, verifySignature } from "../../alerts";

const SECRET = "SEEDED-signing-secret";
const BODY = '{"id":"abc","event":"health.failed"}';
const NOW = 1_763_800_000;

describe("webhook signatures", () => {
    it("a receiver accepts the signature over the raw body and timestamp", () => {
        expect(verifySignature(SECRET, BODY, { signature: signature(SECRET, NOW, BODY), timestamp: String(NOW) }, NOW + 2)).toEqual({ ok: true });
    });

    it("refuses a changed body, another secret, and a changed timestamp", () => {
        const sig = signature(SECRET, NOW, BODY);
        expect(verifySignature(SECRET, BODY.replace("abc", "abd"), { signature: sig, timestamp: String(NOW) }, NOW)).toEqual({ ok: false, reason: "bad signature" });
        expect(verifySignature("other", BODY, { signature: sig, timestamp: String(NOW) }, NOW)).toEqual({ ok: false, reason: "bad signature" });
        expect(verifySignature(SECRET, BODY, { signature: sig, timestamp: String(NOW + 1) }, NOW)).toEqual({ ok: false, reason: "bad signature" });
    });

    it("refuses a replay outside the window, and a request without the headers", () => {
        const old = NOW - REPLAY_WINDOW_SECONDS - 1;
        expect(verifySignature(SECRET, BODY, { signature: signature(SECRET, old, BODY), timestamp: String(old) }, NOW)).toEqual({ ok: false, reason: "stale timestamp" });
        expect(verifySignature(SECRET, BODY, {}, NOW)).toEqual({ ok: false, reason: "missing headers" });
    });

    it("is HMAC-SHA256, hex, with a version prefix", () => {
        expect(signature(SECRET, NOW, BODY)).toMatch(/^v1=[0-9a-f]{64}$/);
    });
});
