/**
 * Secrets a function needs on some requests only: deployed, each lives in SSM Parameter Store
 * as a SecureString (never in the template or the environment) and is read once per container,
 * the first time it is needed; locally, the value is given. The SSM client is imported only
 * then, from the AWS SDK the Lambda runtime includes (not bundled: the zips do not carry it), so
 * a cold start that needs no secret never loads it. A read that fails is a 503 (and is tried again on the next request).
 */

import { config } from "../config.ts";
import { ServiceUnavailableError } from "../errors.ts";
import { recordSecretRead } from "../instrumentation/call-log.ts";
import { log } from "../log.ts";
import { metric } from "../metrics.ts";

type SecretSource = { parameter: string } | { value: string };

export interface SecretSpec {
  /** The parameter's name without its path (`cursor-secret`): what IAM grants are proven by. */
  id: string;
  /** What the log line names: "cursor secret". */
  what: string;
  /** The Unavailable metric's cause: "cursor_secret". */
  cause: string;
  minLength: number;
  source: () => SecretSource;
}

/** A reader of one secret, cached per container once read. */
export function secretReader(spec: SecretSpec): () => Promise<string> {
  let pending: Promise<string> | undefined;
  return () => {
    const source = spec.source();
    const { dynamodbCallLogDir, functionName } = config();
    if (dynamodbCallLogDir) recordSecretRead(dynamodbCallLogDir, functionName, spec.id);
    if ("value" in source) return Promise.resolve(source.value);
    pending ??= readParameter(source.parameter, spec).catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

async function readParameter(name: string, spec: SecretSpec): Promise<string> {
  try {
    // Deployed, this is the runtime's copy of the SDK (serverless.yml leaves the SSM client out
    // of the bundle), which is CommonJS: its exports may come as the default export only.
    type Ssm = typeof import("@aws-sdk/client-ssm");
    const loaded = (await import("@aws-sdk/client-ssm")) as Ssm & { default?: Ssm };
    const { GetParameterCommand, SSMClient } = loaded.SSMClient
      ? loaded
      : (loaded.default ?? loaded);
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
    if (value.length < spec.minLength) {
      throw new Error(`the parameter holds fewer than ${spec.minLength} characters`);
    }
    return value;
  } catch (error) {
    // The name of the fault only: never the value.
    log.error(`${spec.what} unavailable`, {
      parameter: name,
      error: error instanceof Error ? error.name : "unknown",
      reason: error instanceof Error && !("$metadata" in error) ? error.message : undefined,
    });
    metric("Unavailable", 1, spec.cause);
    throw new ServiceUnavailableError(5);
  }
}
