import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 15 * 60_000,
    pool: "forks",
    // One test file at a time: notebooks measure throughput, packet rates and latencies, and a
    // measurement running in parallel would load the machine under another notebook's timings.
    fileParallelism: false,
  },
});
