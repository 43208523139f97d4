/**
 * A local stand-in for GitHub's REST API: records every request (method,
 * path, token, JSON body) and answers from the subclass's routes. Tests of
 * the commands that talk to GitHub (`fleet comment --post`, `fleet status
 * --issue`) point GITHUB_API_URL at it and assert the requests.
 */
import * as http from "http";
import type { AddressInfo } from "net";

export interface SeenRequest {
    readonly method: string;
    readonly path: string;
    readonly auth?: string;
    readonly body?: unknown;
}

export interface StubRequest {
    readonly method: string;
    readonly url: URL;
    /** The raw body ("" when there is none). */
    readonly text: string;
}

export type Send = (status: number, body: unknown, headers?: Record<string, string>) => void;

export abstract class GitHubStub {
    readonly seen: SeenRequest[] = [];
    private readonly server = http.createServer((req, res) => void this.handle(req, res));

    async start(): Promise<string> {
        await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
        return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    stop(): Promise<void> {
        return new Promise((resolve) => this.server.close(() => resolve()));
    }

    /** Answers one request; anything it does not answer is a 404. */
    protected abstract route(request: StubRequest, send: Send): void;

    private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const text = Buffer.concat(chunks).toString("utf8");
        const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
        const method = req.method ?? "GET";
        this.seen.push({ method, path: `${url.pathname}${url.search}`, auth: req.headers.authorization, ...(text ? { body: JSON.parse(text) } : {}) });
        let answered = false;
        const send: Send = (status, body, headers = {}) => {
            answered = true;
            res.writeHead(status, { "content-type": "application/json", ...headers });
            res.end(JSON.stringify(body));
        };
        this.route({ method, url, text }, send);
        if (!answered) send(404, { message: `no route for ${method} ${url.pathname}` });
    }
}
