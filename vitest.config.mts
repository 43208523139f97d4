import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        // Pulumi mocks are process-global state; isolate each file in its own fork.
        pool: "forks",
        testTimeout: 60_000,
        hookTimeout: 180_000,
    },
    bench: {
        include: ["bench/**/*.bench.ts"],
    },
});
