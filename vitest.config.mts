import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        testTimeout: 60_000,
        hookTimeout: 180_000,
        projects: [
            {
                extends: true,
                // Policy specs share one module graph. They declare the Fleet under Pulumi mocks (process-global),
                // but a worker runs one file at a time and test/policies/helpers.ts queues the declarations.
                test: { name: "policies", include: ["test/policies/**/*.test.ts"], isolate: false, benchmark: { include: [] } },
            },
            {
                extends: true,
                // Pulumi mocks are process-global state; isolate each file in its own fork.
                test: {
                    name: "main",
                    include: ["test/**/*.test.ts"],
                    exclude: [...configDefaults.exclude, "test/policies/**"],
                    pool: "forks",
                    benchmark: { include: ["bench/**/*.bench.ts"] },
                },
            },
        ],
    },
});
