import { config } from "./config.ts";
import { ServiceUnavailableError } from "./errors.ts";
import { log } from "./log.ts";
import { metric } from "./metrics.ts";

/**
 * The secret that signs pagination cursors. Deployed, it lives in SSM Parameter Store as a
 * SecureString (never in the template or the environment) and is read once per container, the
 * first time a cursor is issued or checked. The SSM client is imported only then: the bundle
 * keeps it in a chunk of its own, so a cold start that needs no cursor never loads it.
 */
let pending: Promise<string> | undefined;

export function cursorSecret(): Promise<string> {
  const source = config().cursorSecret;
  if ("value" in source) return Promise.resolve(source.value);
  pending ??= readParameter(source.parameter).catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

async function readParameter(name: string): Promise<string> {
  try {
    const { GetParameterCommand, SSMClient } = await import("@aws-sdk/client-ssm");
    const ssm = new SSMClient({
      region: config().region,
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
    });
    const { Parameter } = await ssm.send(
      new GetParameterCommand({ Name: name, WithDecryption: true }),
    );
    ssm.destroy();
    const value = Parameter?.Value ?? "";
    if (value.length < 32) throw new Error("the parameter holds fewer than 32 characters");
    return value;
  } catch (error) {
    // The name of the fault only: never the value.
    log.error("cursor secret unavailable", {
      parameter: name,
      error: error instanceof Error ? error.name : "unknown",
      reason: error instanceof Error && !("$metadata" in error) ? error.message : undefined,
    });
    metric("Unavailable", 1, "cursor_secret");
    throw new ServiceUnavailableError(5);
  }
}
