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
    private readonly server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            this.received.push({ path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
            const answer = this.answers.shift() ?? { status: 200 };
            if (answer === "hang") return;
            res.writeHead(answer.status, answer.headers ?? {});
            res.end("ok");
        });
    });

    async start(): Promise<string> {
        await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
        return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    stop(): Promise<void> {
        this.server.closeAllConnections();
        return new Promise((resolve) => this.server.close(() => resolve()));
    }
}
