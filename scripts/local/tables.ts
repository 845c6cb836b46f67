import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTableCommand,
  type UpdateTableCommandInput,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import type { TableDefinition } from "./serverless-config.ts";

export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 2,
  });
}

/** Creates the tables that do not exist yet, from their serverless.yml definitions. */
export async function ensureTables(
  client: DynamoDBClient,
  definitions: TableDefinition[],
  nameOf: (definition: TableDefinition) => string = (d) => d.properties.TableName,
): Promise<string[]> {
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  const created: string[] = [];
  for (const definition of definitions) {
    const TableName = nameOf(definition);
    if (existing.has(TableName)) {
      await addMissingIndexes(client, TableName, definition);
      continue;
    }
    const { KeySchema, AttributeDefinitions, GlobalSecondaryIndexes, LocalSecondaryIndexes } =
      definition.properties;
    await client.send(
      new CreateTableCommand({
        TableName,
        KeySchema,
        AttributeDefinitions,
        BillingMode: "PAY_PER_REQUEST",
        ...(GlobalSecondaryIndexes ? { GlobalSecondaryIndexes } : {}),
        ...(LocalSecondaryIndexes ? { LocalSecondaryIndexes } : {}),
      } as CreateTableCommandInput),
    );
    await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName });
    created.push(TableName);
  }
  return created;
}

/**
 * A table kept in DATA_DIR from before an index was declared (sync's `changes`) gets it, so that
 * an existing local stack keeps working; DynamoDB Local builds it from the items at once.
 */
async function addMissingIndexes(
  client: DynamoDBClient,
  TableName: string,
  definition: TableDefinition,
): Promise<void> {
  const wanted = (definition.properties.GlobalSecondaryIndexes ?? []) as { IndexName: string }[];
  if (wanted.length === 0) return;
  const { Table } = await client.send(new DescribeTableCommand({ TableName }));
  const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  for (const index of wanted.filter((i) => !present.has(i.IndexName))) {
    await client.send(
      new UpdateTableCommand({
        TableName,
        AttributeDefinitions: definition.properties.AttributeDefinitions,
        GlobalSecondaryIndexUpdates: [{ Create: index }],
      } as UpdateTableCommandInput),
    );
  }
}
