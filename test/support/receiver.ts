/** A local HTTP receiver for alert deliveries: records every request, answers from a script. */
import * as http from "http";
import type { AddressInfo } from "net";

export interface Received {
    readonly path: string;
    readonly headers: http.IncomingHttpHeaders;
    readonly body: string;
    readonly at: number;
}

/** What to answer: a status (and headers), or "hang" to never answer. */
export type Answer = { readonly status: number; readonly headers?: Record<string, string> } | "hang";

export class Receiver {
    readonly received: Received[] = [];
    /** Answers in order; when they run out, 200. */
    answers: Answer[] = [];
    /** Every answer waits this long first: a slow receiver. */
    delayMs = 0;
    private readonly server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            this.received.push({ path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
            const answer = this.answers.shift() ?? { status: 200 };
            if (answer === "hang") return;
            setTimeout(() => {
                res.writeHead(answer.status, answer.headers ?? {});
                res.end("ok");
            }, this.delayMs);
        });
    });

    /** Listens on a free port of `host` (default loopback; a Docker network's gateway, for senders in containers). */
    async start(host = "127.0.0.1"): Promise<string> {
        return this.listen(0, host);
    }

    /** Listens on a given port (0: any free one), e.g. to come back where a sender expects it. */
    async listen(port: number, host = "127.0.0.1"): Promise<string> {
        await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
        return `http://${host}:${(this.server.address() as AddressInfo).port}`;
    }

    stop(): Promise<void> {
        this.server.closeAllConnections();
        return new Promise((resolve) => this.server.close(() => resolve()));
    }
}
