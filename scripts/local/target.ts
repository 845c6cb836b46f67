/**
 * Which tables a data script (import:auth0, sync:stamp) works on: a deployed stage's, with the
 * SDK's default credentials, or those of the running npm start. It sets the variables lib's
 * configuration reads, so lib's modules must be imported only after it.
 */
import { loadServerlessConfig } from "./serverless-config.ts";
import { localSettings, runningStack } from "./settings.ts";

/** Points lib at `stage`'s tables (deployed), or at the local stack's when `stage` is unset. */
export async function useTables(script: string, stage: string | undefined): Promise<void> {
  // The running stack's ports, read before the stage's variables below are set: the record of
  // the running stack is taken only while the variables set agree with it.
  const settings = localSettings();
  const stackRunning = runningStack() !== undefined;
  const printed = loadServerlessConfig(stage ?? "dev") as ReturnType<
    typeof loadServerlessConfig
  > & { provider: { region?: string } };
  // lib's configuration reads the same variables the stage's functions get.
  for (const [name, value] of Object.entries(printed.provider.environment)) {
    if (value !== "") process.env[name] = value;
  }
  process.env.DYNAMODB_CALL_LOG_DIR = "";
  // A script's writes may wait on a busy table longer than a request would.
  process.env.DYNAMODB_REQUEST_TIMEOUT_MS = "10000";
  process.env.DYNAMODB_CONNECT_TIMEOUT_MS = "3000";
  if (stage) {
    process.env.DYNAMODB_ENDPOINT = "";
    const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
    const probe = new DynamoDBClient({});
    try {
      process.env.AWS_REGION = await probe.config.region();
    } catch {
      process.env.AWS_REGION = printed.provider.region ?? "us-east-1";
    } finally {
      probe.destroy();
    }
    console.error(`${script}: on stage ${stage} (${process.env.AWS_REGION})`);
    return;
  }
  if (!stackRunning && !process.env.DYNAMODB_PORT && !settings.externalDynamodb) {
    console.error(
      `${script}: no npm start is recorded as running; trying DynamoDB Local on port ${settings.dynamodbPort}`,
    );
  }
  process.env.DYNAMODB_ENDPOINT =
    settings.externalDynamodb ?? `http://127.0.0.1:${settings.dynamodbPort}`;
}
