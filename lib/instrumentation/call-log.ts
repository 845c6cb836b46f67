import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";

/**
 * The IAM authorizations each DynamoDB request needs, as IAM evaluates them: one action per
 * command on its table, and for batches and transactions one per table or per item
 * (TransactWriteItems needs PutItem, UpdateItem, DeleteItem or ConditionCheckItem on each item's
 * table; BatchGetItem and BatchWriteItem need themselves on each table).
 */
interface IamCall {
  action: string;
  table: string;
}

type Input = Record<string, unknown> & { TableName?: string };

const TRANSACT_WRITE_ACTIONS: Record<string, string> = {
  Put: "dynamodb:PutItem",
  Update: "dynamodb:UpdateItem",
  Delete: "dynamodb:DeleteItem",
  ConditionCheck: "dynamodb:ConditionCheckItem",
};

function iamCallsOf(commandName: string, input: Input): IamCall[] {
  const operation = commandName.replace(/Command$/, "");
  if (operation === "TransactWriteItems") {
    return ((input.TransactItems ?? []) as Record<string, Input>[]).flatMap((item) =>
      Object.entries(item).map(([kind, part]) => ({
        action: TRANSACT_WRITE_ACTIONS[kind] ?? `dynamodb:${kind}`,
        table: String(part.TableName),
      })),
    );
  }
  if (operation === "TransactGetItems") {
    return ((input.TransactItems ?? []) as { Get: Input }[]).map((item) => ({
      action: "dynamodb:GetItem",
      table: String(item.Get.TableName),
    }));
  }
  if (operation === "BatchGetItem" || operation === "BatchWriteItem") {
    return Object.keys((input.RequestItems ?? {}) as object).map((table) => ({
      action: `dynamodb:${operation}`,
      table,
    }));
  }
  // A Query of an index needs its grant on the index's ARN: recorded as `<table>/index/<name>`.
  const index = input.IndexName ? `/index/${String(input.IndexName)}` : "";
  return [{ action: `dynamodb:${operation}`, table: `${String(input.TableName)}${index}` }];
}

/**
 * Test instrumentation, off unless DYNAMODB_CALL_LOG_DIR is set: appends each new (function,
 * action, table) this process sends to a JSON-lines file in that directory, so that a test can
 * prove every function's IAM role against what the code really sends (tests/deploy/iam.test.ts).
 * `functionOf` names the function making the request (AWS_LAMBDA_FUNCTION_NAME, or what the
 * test harness says for handlers invoked in-process); requests of no known function are skipped.
 */
export function recordIamCalls(
  client: DynamoDBClient,
  directory: string,
  functionOf: () => string | undefined,
): void {
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${process.pid}-${Math.random().toString(36).slice(2)}.jsonl`);
  const seen = new Set<string>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const fn = functionOf();
      if (fn) {
        for (const call of iamCallsOf(context.commandName ?? "", args.input as Input)) {
          const line = JSON.stringify({ function: fn, ...call });
          if (!seen.has(line)) {
            seen.add(line);
            appendFileSync(file, `${line}\n`);
          }
        }
      }
      return next(args);
    },
    { step: "initialize", name: "recordIamCalls" },
  );
}

let harnessFunction: (() => string | undefined) | undefined;

/** For a test harness running handlers in-process: who is calling, when no Lambda says so. */
export function attributeCallsWith(resolve: () => string | undefined): void {
  harnessFunction = resolve;
}

/** The short function name: `music-user-data-dev-songs` → `songs`. */
export function currentFunction(lambdaName: string | undefined): string | undefined {
  return lambdaName?.split("-").at(-1) ?? harnessFunction?.();
}

let secretLog: { file: string; seen: Set<string> } | undefined;

/**
 * The same instrumentation for the secrets a function reads from SSM (lib/secrets/parameter.ts),
 * as `ssm:GetParameter` on the parameter's last path segment (`cursor-secret`): recorded even
 * when the value was given locally, since deployed the read is what needs the grant.
 */
export function recordSecretRead(directory: string, lambdaName: string | undefined, name: string) {
  const fn = currentFunction(lambdaName);
  if (!fn) return;
  if (!secretLog) {
    mkdirSync(directory, { recursive: true });
    secretLog = {
      file: join(directory, `${process.pid}-ssm-${Math.random().toString(36).slice(2)}.jsonl`),
      seen: new Set(),
    };
  }
  const line = JSON.stringify({ function: fn, action: "ssm:GetParameter", table: name });
  if (secretLog.seen.has(line)) return;
  secretLog.seen.add(line);
  appendFileSync(secretLog.file, `${line}\n`);
}

let answerLog: { file: string; seen: Set<string> } | undefined;

/**
 * The same instrumentation for the API's answers: each new (route key, status, errorCode) this
 * process answers, in `answers/` of that directory, so that a test can hold every answer the
 * suite saw to the document's codes for its route (tests/deploy/answers.test.ts). The errorCode
 * is read from the body an error answer carries (none for a success).
 */
export function recordAnswer(
  directory: string,
  route: string,
  status: number,
  body: string | undefined,
): void {
  let errorCode: string | undefined;
  if (status >= 400) {
    try {
      errorCode = (JSON.parse(body ?? "") as { errorCode?: string }).errorCode;
    } catch {
      errorCode = undefined; // not the API's error shape: recorded without a code, and refused
    }
  }
  const line = JSON.stringify({ route, status, errorCode });
  if (!answerLog) {
    const folder = join(directory, "answers");
    mkdirSync(folder, { recursive: true });
    answerLog = {
      file: join(folder, `${process.pid}-${Math.random().toString(36).slice(2)}.jsonl`),
      seen: new Set(),
    };
  }
  if (answerLog.seen.has(line)) return;
  answerLog.seen.add(line);
  appendFileSync(answerLog.file, `${line}\n`);
}
