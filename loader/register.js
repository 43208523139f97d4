// `node --require ./loader/register.js`: installs the project's TypeScript loader (./typescript.js) before
// anything else loads. Pulumi.yaml's `nodeargs` use it, so the program runs without Pulumi's type-checking
// ts-node.
"use strict";
require("./typescript").register();
