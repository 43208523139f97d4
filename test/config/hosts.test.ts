// fleet.hosts and agents' placement: the servers a stack deploys to, each
// address judged by one rule (also docker:host's), every problem at once
// with its file and field.
import { describe, expect, it } from "vitest";
import { CATALOG_FILE, Draft, catalogProblem, load, problemsOf, sourceWith, stackProblem } from "./fixtures";

const APP_1 = "ssh://deploy@app-1.example.com";
const APP_2 = "ssh://deploy@app-2.example.com:2222";

function withHosts(hosts: unknown, mutate: (source: Draft) => void = () => undefined): Draft {
    return sourceWith((source) => {
        source.fleet.hosts = hosts;
        mutate(source);
    });
}

describe("fleet.hosts", () => {
    it("is empty without hosts: the stack's one engine runs every agent", () => {
        const spec = load(sourceWith(() => undefined));
        expect(spec.hosts).toEqual([]);
        expect(spec.agents.map((a) => a.hosts)).toEqual([[], []]);
    });

    it("names the servers in name order, and puts every agent on every host unless it says where", () => {
        const spec = load(withHosts({ "app-2": { docker: APP_2 }, "app-1": { docker: APP_1 } }, (s) => {
            s.fleet.agents.pesti.hosts = ["app-2"];
        }));
        expect(spec.hosts).toEqual([{ name: "app-1", docker: APP_1 }, { name: "app-2", docker: APP_2 }]);
        expect(Object.fromEntries(spec.agents.map((a) => [a.name, a.hosts]))).toEqual({ jarvis: ["app-1", "app-2"], pesti: ["app-2"] });
    });

    it("takes placement from the catalog too, and names the catalog when it is wrong there", () => {
        const source = withHosts({ "app-1": { docker: APP_1 } }, (s) => {
            s.catalog!.value.agents.jarvis.hosts = ["app-9"];
        });
        expect(problemsOf(source)).toEqual([catalogProblem("agents.jarvis.hosts[0]", 'expected a host of fleet.hosts (app-1), got "app-9"')]);
        expect(CATALOG_FILE).toBe("stacks/catalog.yaml");
    });

    it.each([
        ["a user", "ssh://app-1.example.com", 'expected the deploy user in the address, like "ssh://deploy@app-1.example.com", got "ssh://app-1.example.com"'],
        ["no password", "ssh://deploy:hunter2@app-1.example.com", "expected an ssh:// address without a password (keys or an ssh-agent authenticate; a password here would be stored in the stack file), got one with a password (not shown)"],
        ["no path", "ssh://deploy@app-1.example.com/var/run/docker.sock", 'expected no path in an ssh:// address (the engine is reached through `docker system dial-stdio`), got "ssh://deploy@app-1.example.com/var/run/docker.sock"'],
        ["ssh, not plain tcp, to a server", "tcp://10.0.0.5:2375", 'expected ssh://user@host for a server, got "tcp://10.0.0.5:2375": plain tcp:// gives the Docker API, which is root on that server, to anyone on the network (tcp:// is accepted for loopback only)'],
        ["a known scheme", "http://app-1:2375", 'expected a Docker engine address like "ssh://deploy@app-1.example.com", "unix:///var/run/docker.sock" or "tcp://127.0.0.1:2375", got "http://app-1:2375"'],
        ["an absolute socket", "unix://docker.sock", 'expected an absolute socket path like "unix:///var/run/docker.sock", got "unix://docker.sock"'],
    ])("refuses an address without %s, naming the host's field", (_what, address, message) => {
        expect(problemsOf(withHosts({ "app-1": { docker: address } }))).toEqual([stackProblem("fleet.hosts.app-1.docker", message)]);
    });

    it("never repeats a password written into an address", () => {
        const problems = problemsOf(withHosts({ "app-1": { docker: "ssh://deploy:s3cr3t-seed@app-1" } }));
        expect(problems).toHaveLength(1);
        expect(JSON.stringify(problems)).not.toContain("s3cr3t-seed");
    });

    it("accepts tcp:// on loopback (a local engine, or a tunnel the operator opened) and a unix socket", () => {
        const spec = load(withHosts({ local: { docker: "tcp://127.0.0.1:2375" }, sock: { docker: "unix:///run/user/1000/docker.sock" } }));
        expect(spec.hosts.map((h) => h.name)).toEqual(["local", "sock"]);
    });

    it("reports every problem at once: names, fields, addresses, placement and docker:host", () => {
        const source = withHosts({ "App_1": { docker: APP_1 }, "app-2": { docker: APP_1, port: 22 }, "app-3": { docker: APP_1 } }, (s) => {
            s.fleet.agents.jarvis.hosts = ["app-3", "app-3", "app-7"];
            s.fleet.agents.pesti.hosts = [];
            (s as { dockerHost?: unknown }).dockerHost = "ssh://deploy@elsewhere";
        });
        // A broken fleet.hosts hides no other problem, and adds no false one about placement against it.
        expect(problemsOf(source).map((p) => `${p.path}: ${p.message}`).sort()).toEqual([
            'config.docker:host: expected no docker:host when fleet.hosts names the servers: move it into fleet.hosts, got "ssh://deploy@elsewhere"',
            "fleet.agents.pesti.hosts: expected at least one host name (leave hosts out to run on every host), got an empty list",
            'fleet.hosts.App_1: expected a host name of lower-case letters, digits and dashes like "app-1", got "App_1"',
            'fleet.hosts.app-2.port: expected a known field, got unknown field "port"',
        ]);
        const placementOnly = withHosts({ "app-3": { docker: APP_1 } }, (s) => {
            s.fleet.agents.jarvis.hosts = ["app-3", "app-3", "app-7"];
        });
        expect(problemsOf(placementOnly).map((p) => `${p.path}: ${p.message}`)).toEqual([
            'fleet.agents.jarvis.hosts[1]: expected each host once, got "app-3" twice',
            'fleet.agents.jarvis.hosts[2]: expected a host of fleet.hosts (app-3), got "app-7"',
        ]);
    });

    it("refuses two hosts at one address, and docker:host beside fleet.hosts", () => {
        const source = withHosts({ "app-1": { docker: APP_1 }, "app-2": { docker: APP_1 } }, (s) => {
            (s as { dockerHost?: unknown }).dockerHost = "ssh://deploy@elsewhere";
        });
        expect(problemsOf(source)).toEqual([
            stackProblem("config.docker:host", 'expected no docker:host when fleet.hosts names the servers (app-1, app-2): move it into fleet.hosts, got "ssh://deploy@elsewhere"'),
            stackProblem("fleet.hosts.app-2.docker", `expected each host at its own address, got "${APP_1}", which is host app-1's too`),
        ]);
    });

    it("judges docker:host by the same rule when the stack has no hosts", () => {
        const source = sourceWith((s) => {
            (s as { dockerHost?: unknown }).dockerHost = "tcp://192.168.1.20:2375";
        });
        expect(problemsOf(source).map((p) => p.path)).toEqual(["config.docker:host"]);
        expect(problemsOf(sourceWith((s) => {
            (s as { dockerHost?: unknown }).dockerHost = "ssh://deploy@app-1.example.com";
        }))).toEqual([]);
    });

    it("refuses hosts on an agent of a stack without fleet.hosts", () => {
        expect(problemsOf(sourceWith((s) => {
            s.fleet.agents.pesti.hosts = ["app-1"];
        }))).toEqual([stackProblem("fleet.agents.pesti.hosts", 'expected no hosts when the stack names none in fleet.hosts, got a list of 1 item')]);
    });

    it("under swarm takes one host, its manager, and leaves placement to Swarm", () => {
        const swarm = (hosts: unknown, mutate: (source: Draft) => void = () => undefined) => withHosts(hosts, (s) => {
            s.fleet.runtime = "swarm";
            mutate(s);
        });
        expect(load(swarm({ manager: { docker: APP_1 } })).agents.map((a) => a.hosts)).toEqual([[], []]);
        expect(problemsOf(swarm({ "app-1": { docker: APP_1 }, "app-2": { docker: APP_2 } }, (s) => {
            s.fleet.agents.jarvis.hosts = ["app-1"];
        }))).toEqual([
            stackProblem("fleet.hosts", "expected one host under runtime swarm, its manager (Swarm places the tasks on its nodes; use placementConstraints), got 2: app-1, app-2"),
            stackProblem("fleet.agents.jarvis.hosts", 'expected no hosts under runtime swarm (Swarm places the tasks; use placementConstraints), got a list of 1 item'),
        ]);
    });

    it("keeps an agent's spec hash when only its hosts change: where it runs is not what runs", async () => {
        const { agentSpecHash } = await import("../../config");
        const one = load(withHosts({ "app-1": { docker: APP_1 }, "app-2": { docker: APP_2 } }, (s) => {
            s.fleet.agents.jarvis.hosts = ["app-1"];
        }));
        const both = load(withHosts({ "app-1": { docker: APP_1 }, "app-2": { docker: APP_2 } }));
        const none = load(sourceWith(() => undefined));
        const jarvis = (spec: typeof one) => agentSpecHash(spec.agents.find((a) => a.name === "jarvis")!);
        expect(jarvis(one)).toBe(jarvis(both));
        expect(jarvis(both)).toBe(jarvis(none));
    });
});

describe("fleet.registries", () => {
    const withRegistries = (registries: unknown, options: { hosts: boolean } = { hosts: true }) => withHosts({ "app-1": { docker: APP_1 } }, (s) => {
        s.fleet.registries = registries;
        if (!options.hosts) delete s.fleet.hosts;
    });

    it("takes each registry's login, its password a secret key the stack sets as a secret", () => {
        const spec = load(withRegistries({ "registry.acme.dev": { username: "deploy", passwordSecret: "openaiApiKey" }, "10.0.0.5:5000": { username: "ci", passwordSecret: "calendarToken" } }));
        expect(spec.registries).toEqual([
            { address: "10.0.0.5:5000", username: "ci", passwordSecret: "calendarToken" },
            { address: "registry.acme.dev", username: "deploy", passwordSecret: "openaiApiKey" },
        ]);
    });

    it("refuses a password that is not a set secret, a bad address, and a login without hosts to reach", () => {
        expect(problemsOf(withRegistries({ "registry.acme.dev": { username: "deploy", passwordSecret: "registryPassword" } }))).toEqual([
            stackProblem("fleet.registries.registry.acme.dev.passwordSecret", 'expected secret config key "registryPassword" to be set (pulumi config set --secret registryPassword <value> --stack production), got nothing'),
        ]);
        expect(problemsOf(withRegistries({ "https://registry.acme.dev": { username: "deploy", passwordSecret: "openaiApiKey" } })).map((p) => p.path)).toEqual(["fleet.registries.https://registry.acme.dev"]);
        expect(problemsOf(withRegistries({ "registry.acme.dev": { username: "deploy", passwordSecret: "openaiApiKey" } }, { hosts: false }))).toEqual([
            stackProblem("fleet.registries", "expected fleet.hosts beside fleet.registries (the logins reach each host's Docker provider; a stack on one engine logs in there with `docker login`), got registries registry.acme.dev and no hosts"),
        ]);
    });

    it("never repeats a password pasted where its key name belongs", () => {
        const problems = problemsOf(withRegistries({ "registry.acme.dev": { username: "deploy", passwordSecret: "hunter2/seeded+pw==" } }));
        expect(problems.map((p) => p.path)).toEqual(["fleet.registries.registry.acme.dev.passwordSecret"]);
        expect(JSON.stringify(problems)).not.toContain("hunter2/seeded+pw==");
    });
});
