import { defineConfig } from "vitest/config";

/**
 * Chromium aborts a page load with net::ERR_NETWORK_CHANGED when an interface address
 * changes on the machine mid-request, which the tests that build pod networks, bridges
 * and sinks do all the time: the browser tests run on their own, one file at a time,
 * after everything else.
 */
const BROWSER = ["test/dashboard*.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    teardownTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: {
          name: "main",
          include: ["shared/**/*.test.ts", "workers/**/*.test.ts", "node/**/*.test.ts", "agent/**/*.test.ts", "dev/**/*.test.ts", "test/**/*.test.ts"],
          exclude: ["**/node_modules/**", ...BROWSER],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "browser",
          include: BROWSER,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
