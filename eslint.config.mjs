import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
    // Generated: the agent bundles (npm run build:agents); the engine build's unpacked sources and binaries (npm run engine).
    { ignores: ["**/node_modules/", "bin/", ".pulumi-state/", ".engine/", "agents/*/dist/"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        files: ["agents/**/*.js", "cli/**/*.js", "loader/**/*.js", "policies/*.js", "scripts/**/*.js", "*.cjs"],
        languageOptions: { sourceType: "commonjs", globals: globals.node },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    {
        files: ["test/**/*.ts", "bench/**/*.ts"],
        // Tests read untyped engine payloads (wire-format protobuf objects).
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
    {
        rules: {
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
        },
    },
);
