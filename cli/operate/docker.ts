/**
 * A Docker Engine API client (dockerode) for a `DOCKER_HOST`-style address,
 * the way the Docker provider reads it: `unix://` sockets, `tcp://` and
 * `ssh://` hosts. Shared by doctor, verify and status.
 */
import Docker from "dockerode";

/** Where Docker listens when neither DOCKER_HOST nor the stack says otherwise. */
export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

export function dockerFor(host: string = DEFAULT_DOCKER_HOST): Docker {
    if (host.startsWith("unix://")) return new Docker({ socketPath: host.slice("unix://".length) });
    const url = new URL(host);
    if (url.protocol === "ssh:") return new Docker({ protocol: "ssh", host: url.hostname, port: url.port ? Number(url.port) : 22, ...(url.username ? { username: url.username } : {}) });
    return new Docker({ host: url.hostname, port: url.port ? Number(url.port) : 2375, protocol: "http" });
}
