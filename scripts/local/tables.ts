import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  ListTablesCommand,
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
    if (existing.has(TableName)) continue;
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
