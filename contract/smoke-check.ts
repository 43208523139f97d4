/**
 * Running one smoke check against an agent: the sentinel does it inside the
 * watch window, `fleet verify` after a deploy. Dependency-free (the global
 * fetch), so the sentinel's bundle and the CLI share it.
 */
import type { SmokeCheck } from "./watch";

export interface SmokeCheckResult {
    readonly check: string;
    readonly ok: boolean;
    /** Why it failed: the answer and what was expected, or no connection; never the response body. */
    readonly detail?: string;
}

export async function runSmokeCheck(baseUrl: string, check: SmokeCheck, timeoutMs: number): Promise<SmokeCheckResult> {
    try {
        const response = await fetch(`${baseUrl}${check.path}`, {
            method: check.method,
            ...(check.body === undefined ? {} : { body: check.body, headers: { "content-type": "application/json" } }),
            signal: AbortSignal.timeout(timeoutMs),
        });
        await response.arrayBuffer();
        return response.status === check.expectStatus
            ? { check: check.name, ok: true }
            : { check: check.name, ok: false, detail: `${check.method} ${check.path} answered ${response.status}, expected ${check.expectStatus}` };
    } catch (error) {
        const cause = error instanceof Error && error.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : "no connection";
        return { check: check.name, ok: false, detail: `${check.method} ${check.path}: ${cause}` };
    }
}
