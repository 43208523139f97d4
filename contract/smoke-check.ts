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

/** One HTTP request of a smoke check, answered with its status; rejects with a TimeoutError when it takes longer than `timeoutMs`. */
export type SmokeCheckTransport = (request: { readonly method: string; readonly url: string; readonly body?: string; readonly timeoutMs: number }) => Promise<number>;

/** The global fetch: for a caller on the agent's own host (the sentinel) or on the same engine's machine. */
export const fetchTransport: SmokeCheckTransport = async ({ method, url, body, timeoutMs }) => {
    const response = await fetch(url, {
        method,
        ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } }),
        signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
    return response.status;
};

/**
 * Runs one check against `baseUrl` as seen from where `transport` sends it:
 * an agent on a remote host is checked through that host (see the CLI's SSH
 * transport), never through this machine's loopback.
 */
export async function runSmokeCheck(baseUrl: string, check: SmokeCheck, timeoutMs: number, transport: SmokeCheckTransport = fetchTransport): Promise<SmokeCheckResult> {
    try {
        const status = await transport({ method: check.method, url: `${baseUrl}${check.path}`, ...(check.body === undefined ? {} : { body: check.body }), timeoutMs });
        return status === check.expectStatus
            ? { check: check.name, ok: true }
            : { check: check.name, ok: false, detail: `${check.method} ${check.path} answered ${status}, expected ${check.expectStatus}` };
    } catch (error) {
        const cause = error instanceof Error && error.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : "no connection";
        return { check: check.name, ok: false, detail: `${check.method} ${check.path}: ${cause}` };
    }
}
