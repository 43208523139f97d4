/**
 * Edits a stack file in place for `fleet release`, `fleet flag` and
 * `fleet rollback`, starting from the stack module's read-only view of it
 * (config/stack.ts), the one explicit step that writes: yaml's Document API keeps comments, key order and
 * formatting; every edit is validated by loading the edited fleet through
 * the same loader the program uses before anything is written; and the file
 * is replaced atomically, so nothing is ever half-applied.
 */
import * as fs from "fs";
import * as path from "path";
import { Document, isMap, isNode, isScalar, isSeq, parseDocument, visit } from "yaml";
import {
    AgentSpec, FeatureFlagSpec, FleetSpec, PartialAgentConfig, ProjectInfo, ResolvedFleet, StackFile, StackView, catalogSource, mergeLayers, openStackView,
} from "../../config";
import { UserError } from "../../config/errors";

/** A time as the stack file records it: UTC, to the second ("2026-11-22T10:00:00Z"). */
export function isoSeconds(at: Date): string {
    return at.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export class StackFileEditor {
    private constructor(
        /** The file as it was read, before any edit. */
        readonly view: StackView,
        private doc: Document,
    ) {}

    get project(): ProjectInfo {
        return this.view.project;
    }

    get file(): StackFile {
        return this.view.file;
    }

    get stack(): string {
        return this.view.stack;
    }

    /** The document as edited so far, to go back to with `restore`. */
    snapshot(): Document {
        return this.doc.clone();
    }

    /** Discards every edit since `snapshot`. */
    restore(snapshot: Document): void {
        this.doc = snapshot.clone();
    }

    /** Starts editing a stack the stack module has read. */
    static of(view: StackView): StackFileEditor {
        return new StackFileEditor(view, parseDocument(view.file.text));
    }

    /** Opens `stacks/Pulumi.<stack>.yaml` of the project in `cwd` for editing; bad input is a UserError (exit 2). */
    static open(cwd: string, stack: string): StackFileEditor {
        return StackFileEditor.of(openStackView(cwd, stack));
    }

    /** Where the fleet lives in the file: config.<project>:fleet. */
    private get fleetPath(): string[] {
        return ["config", `${this.project.name}:fleet`];
    }

    /** The fleet as the loader resolves it from the file as edited so far; FleetConfigError when it is invalid. */
    spec(): FleetSpec {
        return this.resolved().spec;
    }

    /** The same, with each agent's merged config (what a verified record keeps). */
    resolved(): ResolvedFleet {
        return this.view.resolvedWith(this.valueAt(this.fleetPath));
    }

    /** What an agent inherits from below its own entry: the catalog's entry merged with this file's agentDefaults. */
    inheritedAgentConfig(agent: string): PartialAgentConfig {
        const catalog = catalogSource(this.project.dir)?.value as { agents?: Record<string, PartialAgentConfig> } | undefined;
        const defaults = this.valueAt([...this.fleetPath, "agentDefaults"]) as PartialAgentConfig | undefined;
        return mergeLayers<PartialAgentConfig>(catalog?.agents?.[agent], defaults);
    }

    /** One agent of the edited fleet; a UserError naming the stack's agents when there is no such agent. */
    agent(name: string): AgentSpec {
        const spec = this.spec();
        const agent = spec.agents.find((a) => a.name === name);
        if (!agent) {
            throw new UserError(`${this.file.display}: fleet.agents: no agent "${name}" (agents: ${spec.agents.map((a) => a.name).join(", ") || "none"})`);
        }
        return agent;
    }


    /** A field of one agent's entry in this file (not the catalog's or agentDefaults'). */
    getAgentField(agent: string, field: readonly (string | number)[]): unknown {
        return this.valueAt([...this.fleetPath, "agents", agent, ...field]);
    }

    /**
     * A field as this file's entry for the agent would inherit it: from the
     * file's agentDefaults, else the catalog (the loader's layer order).
     * Lists replace rather than merge across layers, so an edit of one item
     * of an inherited list starts from a copy of that list.
     */
    inheritedAgentField(agent: string, field: string): unknown {
        const fromDefaults = this.valueAt([...this.fleetPath, "agentDefaults", field]);
        if (fromDefaults !== undefined) return fromDefaults;
        const catalog = catalogSource(this.project.dir)?.value as { agents?: Record<string, Record<string, unknown>> } | undefined;
        return catalog?.agents?.[agent]?.[field];
    }

    /** The plain value at a path of the document (maps and lists as objects and arrays). */
    private valueAt(at: readonly (string | number)[]): unknown {
        const node: unknown = this.doc.getIn(at, true);
        return isNode(node) ? node.toJS(this.doc) : node;
    }

    /**
     * Sets (or with undefined, removes) a field of one agent's entry, creating the entry's maps as needed.
     * Values under `quoted` keys are written in double quotes: a bare ISO time is a timestamp to YAML 1.1
     * readers (Pulumi's among them), a string only to YAML 1.2.
     */
    setAgentField(agent: string, field: readonly (string | number)[], value: unknown, quoted: readonly string[] = []): void {
        const at = [...this.fleetPath, "agents", agent, ...field];
        if (value === undefined) {
            this.doc.deleteIn(at);
            return;
        }
        // A flow-style `{}` entry (dev's `jarvis: {}`) becomes block style once it has fields, as a person would write it.
        const entry = this.doc.getIn([...this.fleetPath, "agents", agent], true);
        if (isMap(entry) && entry.items.length === 0) entry.flow = false;
        const node = this.doc.createNode(value);
        visit(node, {
            Pair(_, pair) {
                if (isScalar(pair.key) && quoted.includes(String(pair.key.value)) && isScalar(pair.value)) pair.value.type = "QUOTE_DOUBLE";
            },
        });
        this.doc.setIn(at, node);
    }

    /** The agent's flags as this file lists them, for editing one in place. */
    flagIndex(agent: string, flag: string): number | undefined {
        const flags = this.doc.getIn([...this.fleetPath, "agents", agent, "featureFlags"], true);
        if (!isSeq(flags)) return undefined;
        const index = flags.items.findIndex((item) => isMap(item) && item.get("name") === flag);
        return index >= 0 ? index : undefined;
    }

    /**
     * Moves one of an agent's flags to `stage` as of `at`: sets currentStage
     * and appends the move to the flag's history (marked when forced). A flag
     * this file does not list yet (declared in the catalog or agentDefaults)
     * gets this file's own copy of the list first, since lists replace
     * rather than merge across layers.
     */
    moveFlag(agent: AgentSpec, flag: FeatureFlagSpec, stage: string, at: Date, forced = false): void {
        if (this.flagIndex(agent.name, flag.name) === undefined) {
            const inherited = this.inheritedAgentField(agent.name, "featureFlags");
            this.setAgentField(agent.name, ["featureFlags"], Array.isArray(inherited) ? inherited : agent.featureFlags.map((f) => ({ name: f.name })));
        }
        const index = this.flagIndex(agent.name, flag.name)!;
        this.setAgentField(agent.name, ["featureFlags", index, "currentStage"], stage);
        this.setAgentField(agent.name, ["featureFlags", index, "history"], [
            ...flag.history.map((r) => ({ stage: r.stage, since: r.since, ...(r.forced ? { forced: true } : {}) })),
            { stage, since: isoSeconds(at), ...(forced ? { forced: true } : {}) },
        ], ["since"]);
    }

    /** The file's text as it would be written. */
    toString(): string {
        // No padding inside flow collections: `[staging-slack]` stays as people write it.
        return this.doc.toString({ flowCollectionPadding: false });
    }

    /**
     * Validates the edited fleet with the loader, then replaces the file
     * atomically (a temp file renamed over it). Throws FleetConfigError, and
     * writes nothing, when the edit made the config invalid.
     */
    save(): FleetSpec {
        const spec = this.spec();
        const temp = path.join(path.dirname(this.file.path), `.${path.basename(this.file.path)}.${process.pid}.tmp`);
        fs.writeFileSync(temp, this.toString());
        fs.renameSync(temp, this.file.path);
        return spec;
    }
}


