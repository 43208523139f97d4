/**
 * Every `fleet` verb, in the order `fleet --help` lists them: one file per
 * verb, each with its definition, its help and its run. A verb's definition
 * loads nothing heavy; its run loads the services it needs, so `fleet --help`
 * stays fast.
 */
import type { Command } from "commander";
import type { VerbContext } from "./context";
import { defineCheck } from "./check";
import { defineCodeowners } from "./codeowners";
import { defineComment } from "./comment";
import { defineDoctor } from "./doctor";
import { defineFlag } from "./flag";
import { defineRelease } from "./release";
import { defineRollback } from "./rollback";
import { defineStatus } from "./status";
import { defineUp } from "./up";
import { defineVerify } from "./verify";

export type { VerbContext };

export const VERBS: readonly ((fleet: Command, context: VerbContext) => void)[] = [
    defineCheck,
    defineComment,
    defineUp,
    defineVerify,
    defineStatus,
    defineDoctor,
    defineRelease,
    defineFlag,
    defineRollback,
    defineCodeowners,
];
