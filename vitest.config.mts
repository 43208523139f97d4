import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        // Vitest's default (one fewer than the cores) is a single worker on CI's 2 cores. The real-engine suites
        // spend most of their time waiting on healthchecks, so a second worker runs the rest beside them:
        // 16 min instead of 24 for `npm test` on 2 cores. Suites that share the swarm take turns (test/support/swarm.ts).
        maxWorkers: Math.max(2, availableParallelism() - 1),
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
