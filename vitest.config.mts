import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 15 * 60_000,
    pool: "forks",
    // Notebook replays start kernels; two at a time suits a 2-core machine.
    maxWorkers: 2,
  },
});
