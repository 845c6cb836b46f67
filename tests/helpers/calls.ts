import { dynamodb } from "../../lib/db/client.ts";

/**
 * Counts the DynamoDB requests the functions make, by an SDK middleware on the shared client:
 * the round trips a route costs, as AWS would bill and time them.
 */
const calls: string[] = [];
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(context.commandName ?? "unknown");
      return next(args);
    },
    { step: "initialize", name: "testCallCounter" },
  );
}

/** Runs `work` and answers the DynamoDB operations it sent, in order. */
export async function dynamoCallsOf(work: () => Promise<unknown>): Promise<string[]> {
  install();
  const start = calls.length;
  await work();
  return calls.slice(start);
}
