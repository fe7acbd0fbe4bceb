import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["shared/**/*.test.ts", "workers/**/*.test.ts", "node/**/*.test.ts", "agent/**/*.test.ts", "dev/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    teardownTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
