/**
 * The servers a stack deploys to (`fleet.hosts`) and the one rule for a
 * Docker engine address, wherever one is written: `fleet.hosts.<name>.docker`,
 * `docker:host` or DOCKER_HOST.
 */

/** A host's name: it becomes part of resource and container names, so DNS-label style and dot-free. */
export const HOST_NAME_RE = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
export const HOST_NAME_TEXT = 'a host name of lower-case letters, digits and dashes like "app-1"';

/** One server of the stack: where its Docker engine is reached. */
export interface HostSpec {
    /** Its key under `fleet.hosts`: "app-1". */
    readonly name: string;
    /** A DOCKER_HOST-style address: "ssh://deploy@app-1.example.com". */
    readonly docker: string;
}

export const DOCKER_ADDRESS_TEXT = 'a Docker engine address like "ssh://deploy@app-1.example.com", "unix:///var/run/docker.sock" or "tcp://127.0.0.1:2375"';

const LOOPBACK_HOSTNAMES = new Set(["localhost", "[::1]", "::1"]);

function isLoopback(hostname: string): boolean {
    return LOOPBACK_HOSTNAMES.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * What is wrong with a Docker engine address, or undefined when nothing is.
 * - ssh:// names its user (the deploy user; root by accident is the usual
 *   mistake) and carries no password: keys and agents authenticate.
 * - Plain tcp:// is the Docker API unauthenticated and unencrypted, which is
 *   root on the server for anyone on the path: loopback only (a local engine
 *   or a tunnel the operator opened). TLS client certificates are not
 *   configurable here; servers are reached over ssh://.
 */
export function dockerAddressProblem(address: string): string | undefined {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(address)?.[1];
    if (scheme === "unix") {
        return address.length > "unix:///".length && address.startsWith("unix:///") ? undefined : `expected an absolute socket path like "unix:///var/run/docker.sock", got ${JSON.stringify(address)}`;
    }
    let url: URL;
    try {
        url = new URL(address);
    } catch {
        return `expected ${DOCKER_ADDRESS_TEXT}, got ${JSON.stringify(address)}`;
    }
    if (scheme === "ssh") {
        if (url.password) return "expected an ssh:// address without a password (keys or an ssh-agent authenticate; a password here would be stored in the stack file), got one with a password (not shown)";
        if (!url.username) return `expected the deploy user in the address, like "ssh://deploy@${url.hostname || "app-1.example.com"}", got ${JSON.stringify(address)}`;
        if (!url.hostname) return `expected a server in the address, like "ssh://deploy@app-1.example.com", got ${JSON.stringify(address)}`;
        if (url.pathname !== "" && url.pathname !== "/") return `expected no path in an ssh:// address (the engine is reached through \`docker system dial-stdio\`), got ${JSON.stringify(address)}`;
        return undefined;
    }
    if (scheme === "tcp") {
        if (isLoopback(url.hostname)) return undefined;
        return `expected ssh://user@host for a server, got ${JSON.stringify(address)}: plain tcp:// gives the Docker API, which is root on that server, to anyone on the network (tcp:// is accepted for loopback only)`;
    }
    return `expected ${DOCKER_ADDRESS_TEXT}, got ${JSON.stringify(address)}`;
}

/** A registry the hosts log in to before they pull (`fleet.registries`). */
export interface RegistrySpec {
    /** As image references name it: "registry.example.com" or "10.0.0.5:5000". */
    readonly address: string;
    readonly username: string;
    /** The secret stack config key holding the password (or token). */
    readonly passwordSecret: string;
}

/** A registry address as image references start: a host name or IP, with an optional port. */
export const REGISTRY_ADDRESS_RE = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/;
