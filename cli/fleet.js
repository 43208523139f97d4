#!/usr/bin/env node
// The `fleet` bin: runs cli/fleet.ts through ts-node (see loader/typescript.js), so `npx fleet` works right after
// `npm ci`, with no build step.
"use strict";
require("../loader/typescript").register();

require("./fleet.ts")
    .main(process.argv)
    .then((code) => {
        process.exitCode = code;
        // Nothing should be left running; if something is, it must not keep the command alive.
        setTimeout(() => process.exit(), 1000).unref();
    })
    .catch((error) => {
        process.stderr.write(`fleet: internal error: ${error && error.stack ? error.stack : error}\n`);
        process.exitCode = 3;
    });
