import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { RecordedRequest } from "../scripts/local/dynamo-proxy.ts";

/**
 * A recorded DynamoDB request (wire format, every value an AttributeValue) back in the plain
 * values a lib-dynamodb command takes: items, keys and expression values unmarshalled, the rest
 * as it was. What the bare replayer sends, so that it marshals as much as the functions do.
 */
type Json = Record<string, unknown>;
const plain = (map: unknown) =>
  unmarshall(map as Record<string, AttributeValue>, { wrapNumbers: false }) as Json;

function plainRequest(input: Json): Json {
  const out: Json = { ...input };
  for (const field of ["Item", "Key", "ExpressionAttributeValues", "ExclusiveStartKey"]) {
    if (input[field]) out[field] = plain(input[field]);
  }
  if (input.TransactItems) {
    out.TransactItems = (input.TransactItems as Record<string, Json>[]).map((item) =>
      Object.fromEntries(Object.entries(item).map(([kind, part]) => [kind, plainRequest(part)])),
    );
  }
  if (input.RequestItems) {
    out.RequestItems = Object.fromEntries(
      Object.entries(input.RequestItems as Record<string, Json | Json[]>).map(([table, part]) => [
        table,
        Array.isArray(part)
          ? part.map((request) =>
              Object.fromEntries(
                Object.entries(request).map(([kind, r]) => [kind, plainRequest(r as Json)]),
              ),
            )
          : { ...part, Keys: (part.Keys as Json[]).map(plain) },
      ]),
    );
  }
  delete out.ReturnConsumedCapacity;
  // A transaction resent with the token it was first sent with is, for DynamoDB, the same
  // transaction within 10 minutes: answered as done, without doing it again. The replayer's
  // client gives each of its transactions a token of its own, as the functions' does.
  delete out.ClientRequestToken;
  return out;
}

export function plainRequests(recorded: RecordedRequest[]) {
  return recorded.map(({ operation, input }) => ({ operation, input: plainRequest(input) }));
}
