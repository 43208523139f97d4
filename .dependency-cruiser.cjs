/**
 * The layers of agent-fleet, enforced: `npm run lint` fails on an import
 * that goes against them. docs/architecture.md says why each rule exists.
 *
 *   contract/   ← everything (shared vocabulary: names, labels, durations, severities)
 *   config/     → contract/                      (stack file → schema → specs)
 *   alerts/     → contract/                      (events, formats, signatures, routing)
 *   components/ → config/, contract/, alerts/    (specs → resources)
 *   index.ts    → components/, config/, contract/, alerts/
 *   policies/   → config/, contract/
 *   agents/*    → contract/, alerts/             (bundled into their images)
 *   cli/        → anything, components/ and the pack through their entry points only
 *                 (components/index.ts, policies/analyzer/index.ts, policies/rules/index.ts);
 *                 nothing but scripts/, bench/ and test/ imports cli/
 *     cli/verbs/<verb>.ts  one file per verb; never imports another verb, and loads
 *                          cli/services/ on use only (so `fleet --help` loads nothing heavy)
 *     cli/services/        the work the verbs share; never imports a verb
 */
const ours = "^(contract|config|alerts|components|policies|agents|cli|scripts|bench|test|index\\.ts)";

/** A rule that `from` may import only itself and `allowed` among our own folders. */
function onlyImports(name, from, allowed, comment) {
    return {
        name,
        comment,
        severity: "error",
        from: { path: from },
        to: { path: ours, pathNot: [from, ...allowed] },
    };
}

module.exports = {
    forbidden: [
        onlyImports("contract-imports-nothing", "^contract/", [], "contract/ is the shared vocabulary: it imports nothing of ours."),
        onlyImports("config-imports-contract", "^config/", ["^contract/"], "config/ turns a stack file into specs; it knows only the contract."),
        onlyImports("alerts-imports-contract", "^alerts/", ["^contract/"], "alerts/ runs inside the sentinel too: it knows only the contract."),
        onlyImports("components-import-specs", "^components/", ["^config/", "^contract/", "^alerts/"], "components/ declare resources from specs."),
        onlyImports("program-imports-components", "^index\\.ts$", ["^components/", "^config/", "^contract/", "^alerts/"], "The program declares the fleet; it never reaches into the CLI or the pack."),
        onlyImports("policies-import-specs", "^policies/", ["^config/", "^contract/"], "The policy pack judges resources by their specs; it runs without the CLI or the components."),
        onlyImports("agents-import-contract", "^agents/", ["^contract/", "^alerts/"], "Agents are bundled into their own images: only the contract and the alert code go with them."),
        {
            name: "nothing-imports-cli",
            comment: "The CLI sits on top: only scripts, benchmarks and tests may import it.",
            severity: "error",
            from: { path: ours, pathNot: ["^cli/", "^scripts/", "^bench/", "^test/"] },
            to: { path: "^cli/" },
        },
        {
            name: "cli-uses-public-entry-points",
            comment: "The CLI reaches components and the pack through their public entry points, never a file inside them.",
            severity: "error",
            from: { path: "^cli/" },
            to: { path: "^(components|policies)/", pathNot: ["^components/index\\.ts$", "^policies/(analyzer|rules)/index\\.ts$"] },
        },
        {
            name: "verbs-stand-alone",
            comment: "A verb is one file: what two verbs share is a service (cli/services/), never the other verb.",
            severity: "error",
            from: { path: "^cli/verbs/([^/]+)\\.ts$", pathNot: "^cli/verbs/index\\.ts$" },
            to: { path: "^cli/verbs/", pathNot: ["^cli/verbs/(context|options)\\.ts$", "^cli/verbs/$1\\.ts$"] },
        },
        {
            name: "verbs-load-services-on-use",
            comment: "A verb's definition must load nothing heavy: its run imports services with `await import()`.",
            severity: "error",
            from: { path: "^cli/(verbs/|fleet\\.ts$|output\\.ts$)" },
            to: { path: "^cli/services/", dependencyTypesNot: ["dynamic-import", "type-only"] },
        },
        {
            name: "services-never-import-verbs",
            comment: "Services sit below the verbs.",
            severity: "error",
            from: { path: "^cli/services/" },
            to: { path: "^cli/(verbs/|fleet\\.ts$)" },
        },
        {
            name: "no-circular",
            comment: "A cycle makes load order matter and hides which module owns a concept.",
            severity: "error",
            from: {},
            to: { circular: true },
        },
    ],
    options: {
        doNotFollow: { path: "node_modules" },
        exclude: { path: "(^|/)(node_modules|\\.engine|dist)/" },
        tsPreCompilationDeps: true,
        tsConfig: { fileName: "tsconfig.json" },
        enhancedResolveOptions: { extensions: [".ts", ".js", ".json"] },
    },
};
