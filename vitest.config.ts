import { defineConfig } from "vitest/config";
import { isFunctionLogLine, requestLogsWanted } from "./scripts/local/request-logs.ts";

export default defineConfig({
  test: {
    pool: "forks",
    // Local runs may be on Node 20; the Lambda runtime is Node 24 (CI covers both).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    testTimeout: 30_000,
    // The functions' JSON log lines (requests, audits, metrics) drown the report: LOG_REQUESTS=1
    // shows them. tests/integration/lib/logging.test.ts reads them itself, whatever this says.
    onConsoleLog: (log) =>
      requestLogsWanted() || !isFunctionLogLine(log.trim()) ? undefined : false,
    hookTimeout: 180_000,
    projects: [
      {
        // In process: unit, property, integration, faults and the deploy checks, one file at a
        // time beside one DynamoDB Local.
        extends: true,
        test: {
          name: "suite",
          include: ["tests/**/*.test.ts"],
          exclude: ["tests/e2e/**", "tests/deploy/iam.test.ts", "tests/deploy/answers.test.ts"],
          globalSetup: ["tests/global-setup.ts"],
        },
      },
      {
        // Each e2e file drives its own `npm start` stack and mostly waits on it, so several
        // run at once (E2E_WORKERS, 2 by default) after the in-process files.
        extends: true,
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.test.ts"],
          globalSetup: ["tests/global-setup.ts"],
          maxWorkers: Number(process.env.E2E_WORKERS ?? 2),
          sequence: { groupOrder: 1 },
        },
      },
      {
        // After every other test: it checks the IAM calls and the answers they recorded.
        extends: true,
        test: {
          name: "iam",
          include: ["tests/deploy/iam.test.ts", "tests/deploy/answers.test.ts"],
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
