#!/usr/bin/env node
// `npm run pulumi -- <args>`: the Pulumi CLI with the stack's Pulumi environment, the same one `fleet` uses
// (stacks/<stack>.env for every variable you have not exported, see cli/services/stack-access.ts), so the
// Quickstart's plain Pulumi commands need no exports either. The stack is the one `--stack`/`-s` names;
// without one, Pulumi's selected stack and your own environment.
"use strict";
require("../loader/typescript").register();
const path = require("path");
const { execa } = require("execa");
const { pulumiEnv } = require("../cli/services/stack-access.ts");

const args = process.argv.slice(2);
const at = args.findIndex((a) => a === "--stack" || a === "-s" || a.startsWith("--stack="));
const stack = at < 0 ? undefined : args[at].startsWith("--stack=") ? args[at].slice("--stack=".length) : args[at + 1];
// `npm run` starts scripts in the project's root; the CLI itself comes from this checkout's node_modules.
const project = process.cwd();
const env = stack ? pulumiEnv(project, stack) : process.env;
execa("pulumi", args, { cwd: project, env, extendEnv: false, stdio: "inherit", reject: false, preferLocal: true, localDir: path.join(__dirname, "..") }).then(
    (result) => { process.exitCode = result.exitCode ?? 1; },
    (error) => { process.stderr.write(`npm run pulumi: ${error.shortMessage ?? error.message}\n`); process.exitCode = 2; },
);
