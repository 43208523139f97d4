/** What `fleet status` reports, as data: its JSON and its rows (the deployment issue renders it too). */

/** current: runs what main declares; pending: behind, within --max-lag; stale and not deployed: flagged; unknown: no engine to ask. */
type AgentState = "current" | "pending" | "stale" | "not deployed" | "unknown";

export interface StatusRow {
    readonly stack: string;
    readonly agent: string;
    readonly tier: number;
    /** What main declares. */
    readonly image: string;
    /** Where main exposes the agent through the edge (`expose`): its public https URL; absent when not exposed. */
    readonly url?: string;
    /** What runs (its agent-fleet.image label); absent when nothing runs. */
    readonly runningImage?: string;
    readonly version?: string;
    /** Docker's health of each running replica ("healthy", "unhealthy", "starting"), "not running", or why it is unknown. */
    readonly health: string;
    /** The hash of the spec the running instances were deployed with (their agent-fleet.spec-hash label). */
    readonly deployedSpec?: string;
    /** The hash of main's spec of the agent. */
    readonly mainSpec: string;
    /** The newest commit on HEAD that declared the deployed spec. */
    readonly deployedCommit?: string;
    /** The commit on HEAD in which main's spec of the agent arrived. */
    readonly mainCommit?: string;
    /** Commits on HEAD since the deployed one; absent when unknown. */
    readonly lagCommits?: number;
    /** When main's spec of the agent arrived (ISO); absent for an uncommitted change. */
    readonly changedAt?: string;
    readonly state: AgentState;
    /** Why the row is flagged, in one line. */
    readonly problem?: string;
}

export interface SyncRow {
    readonly agent: string;
    readonly staging: string;
    readonly production: string;
    /** "in sync", "pending" (production follows within --max-lag) or "out of sync". */
    readonly state: "in sync" | "pending" | "out of sync";
    /** When staging's image was released (ISO), when known. */
    readonly stagingSince?: string;
    readonly problem?: string;
}

export interface StatusJson {
    /** HEAD of the repository the stack files were read from. */
    readonly head: string | null;
    readonly checkedAt: string;
    readonly maxLag: string;
    readonly ok: boolean;
    readonly agents: StatusRow[];
    readonly sync: SyncRow[];
    readonly problems: string[];
}
