/**
 * Two clients nobody here wrote, against one `npm start` stack, with docs/openapi.json as their
 * only knowledge of the API: Stoplight Prism as a validating proxy (`prism proxy --errors`, which
 * answers any request or response that breaks the document with an error and an `sl-violations`
 * header), and a client generated at test time by @hey-api/openapi-ts (its fetch client, into a
 * temporary folder). Neither gets a shim; only deliberate bad inputs may find anything.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { createClient as generate } from "@hey-api/openapi-ts";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { freePort } from "../../scripts/local/ports.ts";
import { ROOT } from "../../scripts/local/serverless-config.ts";
import {
  LOCAL_TENANT,
  type RunningStack,
  stackToken,
  startStack,
} from "../../scripts/local/stack.ts";
import { uniqueUser } from "../helpers/tokens.ts";

/** Prism's command line, the `prism` its package declares as its bin. */
const PRISM_BIN = join(
  dirname(createRequire(import.meta.url).resolve("@stoplight/prism-cli/package.json")),
  "dist/index.js",
);

let stack: RunningStack;
let prism: ChildProcess;
let prismUrl: string;
let prismOutput = "";
let generatedDir: string;

beforeAll(async () => {
  stack = await startStack(LOCAL_TENANT);
  const port = await freePort();
  prismUrl = `http://127.0.0.1:${port}`;
  prism = spawn(
    process.execPath,
    [
      PRISM_BIN,
      "proxy",
      join(ROOT, "docs/openapi.json"),
      stack.baseUrl,
      "--errors",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  const collect = (chunk: Buffer) => {
    prismOutput = (prismOutput + chunk.toString()).slice(-20_000);
  };
  prism.stdout?.on("data", collect);
  prism.stderr?.on("data", collect);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (prism.exitCode !== null) throw new Error(`prism exited:\n${prismOutput}`);
    const up = await fetch(`${prismUrl}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error(`prism did not listen:\n${prismOutput}`);
    await sleep(250);
  }
}, 180_000);

afterAll(async () => {
  if (prism && prism.exitCode === null) {
    const exited = new Promise((resolve) => prism.once("exit", resolve));
    prism.kill("SIGTERM");
    await exited;
  }
  await stack?.stop();
  if (generatedDir) rmSync(generatedDir, { recursive: true, force: true });
});

interface Proxied {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON response body, read by assertions.
  body: any;
  headers: Headers;
  /** What Prism found: its `sl-violations` header, or its own problem answer; null when none. */
  violations: unknown;
}

/** The `type` of the problem+json Prism answers itself with when it rejects an exchange. */
const PRISM_PROBLEM = "https://stoplight.io/prism/errors#";

/** One request through Prism: its verdict is the `sl-violations` header (none when valid). */
async function viaPrism(
  method: string,
  path: string,
  options: { token?: string; json?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Proxied> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.raw;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(`${prismUrl}${path}`, { method, headers, body });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : undefined;
  return {
    status: response.status,
    body: parsed,
    headers: response.headers,
    violations:
      response.headers.get("sl-violations") ??
      (String(parsed?.type).startsWith(PRISM_PROBLEM) ? parsed : null),
  };
}

/** A call Prism must find valid both ways, answered with `status`. */
async function valid(
  method: string,
  path: string,
  status: number,
  options: Parameters<typeof viaPrism>[2] = {},
): Promise<Proxied> {
  const answer = await viaPrism(method, path, options);
  expect({
    call: `${method} ${path}`,
    status: answer.status,
    violations: answer.violations,
  }).toEqual({ call: `${method} ${path}`, status, violations: null });
  return answer;
}

describe("Stoplight Prism validating every exchange against docs/openapi.json", () => {
  it("finds nothing in the seed's story: profile, songs, playlists, plays, export, health", async () => {
    const sub = uniqueUser("auth0");
    const token = await stackToken(stack, sub);
    const user = `/users/${encodeURIComponent(sub)}`;

    await valid("GET", "/health", 200);
    await valid("GET", "/openapi.json", 200);
    await valid("PUT", "/displayName", 200, { token, json: { displayName: "J-vald3z" } });
    expect((await valid("GET", "/displayName", 200, { token })).body).toEqual({
      displayName: "J-vald3z",
    });
    await valid("PUT", "/genres/fav", 200, { token, json: { genre: "jazz" } });
    await valid("GET", "/genres/getFav", 200, { token });

    const profile = await valid("GET", user, 200, { token });
    const etag = profile.headers.get("etag") as string;
    const patched = await valid("PATCH", user, 200, {
      token,
      json: { user_metadata: { theme: "dark" } },
      headers: { "if-match": etag },
    });
    expect(patched.body.user_metadata).toEqual({ displayName: "J-vald3z", theme: "dark" });
    await valid("GET", `${user}?fields=user_id,user_metadata&include_fields=true`, 200, { token });

    const songIds: string[] = [];
    for (const songName of ["One", "Two", "Three"]) {
      const song = await valid("POST", "/songs", 201, {
        token,
        json: { songName, genre: "pop" },
        headers: { "idempotency-key": `song-${songName}` },
      });
      songIds.push(song.body.songId);
    }
    const page = await valid("GET", "/songs?limit=2", 200, { token });
    expect(page.body.nextCursor).toEqual(expect.any(String));
    await valid("GET", `/songs?limit=2&cursor=${encodeURIComponent(page.body.nextCursor)}`, 200, {
      token,
    });
    await valid("GET", `/songs/${songIds[0]}`, 200, { token });

    const playlist = await valid("POST", "/playlists", 201, {
      token,
      json: { name: "Road trip", songIds: songIds.slice(0, 2) },
    });
    const playlistPath = `/playlists/${playlist.body.playlistId}`;
    await valid("GET", playlistPath, 200, { token });
    await valid("PATCH", playlistPath, 200, { token, json: { name: "Road trip 2" } });
    await valid("POST", `${playlistPath}/plays`, 200, {
      token,
      headers: { "idempotency-key": "play-1" },
    });
    await valid("GET", "/playlists", 200, { token });
    await valid("GET", "/playlists/featured", 200, { token });
    await valid("GET", "/playlists/getPlays", 200, { token });
    await valid("GET", `${user}/export`, 200, { token });

    await valid("DELETE", `/songs/${songIds[2]}`, 204, { token });
    await valid("GET", `/songs/${songIds[2]}`, 404, { token });
  });

  it("sees the API's own 4xx, in its error shape, for deliberate bad inputs", async () => {
    const sub = uniqueUser("auth0");
    const token = await stackToken(stack, sub);
    const errorShape = {
      statusCode: expect.any(Number),
      error: expect.any(String),
      message: expect.any(String),
      errorCode: expect.any(String),
    };

    // A body past 64 kB that the schema allows (metadata values are free-form): Prism lets it
    // through, as the byte limit is the API's, and the API answers 413.
    const big = await valid("PATCH", `/users/${encodeURIComponent(sub)}`, 413, {
      token,
      json: { user_metadata: { notes: "x".repeat(70_000) } },
    });
    expect(big.body).toMatchObject({ ...errorShape, errorCode: "payload_too_large" });

    // A JSON body sent as a form, as curl does without a Content-Type.
    // A JSON body sent as a form, as curl sends it without a Content-Type: Prism refuses it
    // itself, the document naming application/json as the only type, and the API, asked
    // directly, answers the same 415 in its own shape.
    const form = { displayName: "Form" };
    const formHeaders = {
      authorization: `Bearer ${token}`,
      "content-type": "application/x-www-form-urlencoded",
    };
    const refused = await viaPrism("PUT", "/displayName", {
      raw: JSON.stringify(form),
      headers: formHeaders,
    });
    expect(refused.violations).toMatchObject({ validation: [{ code: 415 }] });
    const direct = await fetch(`${stack.baseUrl}/displayName`, {
      method: "PUT",
      headers: formHeaders,
      body: JSON.stringify(form),
    });
    expect(direct.status).toBe(415);
    expect(await direct.json()).toMatchObject({
      ...errorShape,
      errorCode: "unsupported_media_type",
    });

    // A cursor the API never issued.
    const cursor = await valid("GET", "/songs?cursor=not-a-cursor", 400, { token });
    expect(cursor.body).toMatchObject({ ...errorShape, errorCode: "invalid_cursor" });
  });
});

describe("a client generated by @hey-api/openapi-ts from docs/openapi.json", () => {
  // The generated SDK (sdk.gen.ts through index.ts) and its client, imported at run time.
  // biome-ignore lint/suspicious/noExplicitAny: its types exist only once generated.
  let sdk: any;
  const sub = uniqueUser("google-oauth2");
  const complaints: unknown[][] = [];

  beforeAll(async () => {
    generatedDir = mkdtempSync(join(tmpdir(), "music-hey-api-"));
    // Its warnings and errors: any is a complaint about the document (progress goes to log).
    const spies = (["warn", "error"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args) => complaints.push(args)),
    );
    try {
      await generate({
        input: join(ROOT, "docs/openapi.json"),
        output: generatedDir,
        plugins: ["@hey-api/client-fetch"],
        logs: { file: false },
      });
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    sdk = await import(pathToFileURL(join(generatedDir, "index.ts")).href);
    const { client } = await import(pathToFileURL(join(generatedDir, "client.gen.ts")).href);
    client.setConfig({ baseUrl: stack.baseUrl, auth: await stackToken(stack, sub) });
  }, 60_000);

  it("generates without a warning and calls the API with a bearer token", async () => {
    expect(complaints).toEqual([]);

    const name = await sdk.getDisplayName();
    expect(name.response.status).toBe(200);
    expect(name.data).toEqual({ displayName: "user" });

    const created = [];
    for (const songName of ["A", "B", "C"]) {
      const song = await sdk.createSong({ body: { songName, genre: "rock" } });
      expect(song.response.status).toBe(201);
      expect(song.data).toMatchObject({ songId: expect.any(String), songName, genre: "rock" });
      created.push(song.data.songId);
    }
    const first = await sdk.listSongs({ query: { limit: 2 } });
    expect(first.data.songs).toHaveLength(2);
    const rest = await sdk.listSongs({ query: { limit: 2, cursor: first.data.nextCursor } });
    expect(rest.data).toMatchObject({ songs: [expect.any(Object)], nextCursor: null });
    expect(
      [...first.data.songs, ...rest.data.songs]
        .map((song: { songId: string }) => song.songId)
        .sort(),
    ).toEqual(created.sort());

    const user = await sdk.getUser({ path: { userId: sub } });
    expect(user.data).toMatchObject({ user_id: sub, user_metadata: {}, app_metadata: {} });
    const etag = user.response.headers.get("etag");
    const updated = await sdk.updateUser({
      path: { userId: sub },
      headers: { "If-Match": etag },
      body: { user_metadata: { theme: "dark" } },
    });
    expect(updated.response.status).toBe(200);
    expect(updated.data.user_metadata).toEqual({ theme: "dark" });
    const stale = await sdk.updateUser({
      path: { userId: sub },
      headers: { "If-Match": etag },
      body: { user_metadata: { theme: "light" } },
    });
    expect(stale.response.status).toBe(412);
    expect(stale.error).toMatchObject({ statusCode: 412, errorCode: "precondition_failed" });
  });

  it("types its results: the SDK compiles under strict TypeScript and refuses a wrong call", async () => {
    // A caller's code, compiled by tsc against the generated files: the fields read are typed
    // (not any), and a song without its genre does not compile.
    writeFileSync(
      join(generatedDir, "caller.mts"),
      [
        'import { createSong, getSong, getUser, listSongs } from "./index.ts";',
        "export async function read(userId: string): Promise<string[]> {",
        "  const page = await listSongs({ query: { limit: 2 } });",
        "  const cursor: string | null | undefined = page.data?.nextCursor;",
        "  const names: string[] = page.data?.songs.map((song) => song.songName) ?? [];",
        "  const user = await getUser({ path: { userId } });",
        "  const created: string | undefined = user.data?.created_at;",
        "  const missing = await getSong({ path: { songId: 'x' } });",
        "  const code: string | undefined = missing.error?.errorCode;",
        "  // @ts-expect-error genre is required",
        "  await createSong({ body: { songName: 'no genre' } });",
        "  return [...names, String(cursor), String(created), String(code)];",
        "}",
        "",
      ].join("\n"),
    );
    // Asynchronously: a blocked event loop would leave the client's idle sockets, closed by the
    // API meanwhile, to be reused by the next request and fail it.
    const tsc = await promisify(execFile)(process.execPath, [
      createRequire(import.meta.url).resolve("typescript/bin/tsc"),
      "--noEmit",
      "--strict",
      "--skipLibCheck",
      "--target",
      "es2022",
      "--module",
      "nodenext",
      "--allowImportingTsExtensions",
      join(generatedDir, "caller.mts"),
    ]).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (failed: { code: number; stdout: string; stderr: string }) => ({
        code: failed.code,
        output: failed.stdout + failed.stderr,
      }),
    );
    expect(tsc).toEqual({ code: 0, output: "" });
  });

  it("gives the API's error object for a 404", async () => {
    const missing = await sdk.getSong({
      path: { songId: "00000000-0000-4000-8000-000000000000" },
    });
    expect(missing.error).not.toBeInstanceOf(Error);
    expect(missing.response?.status).toBe(404);
    expect(missing.data).toBeUndefined();
    expect(missing.error).toEqual({
      statusCode: 404,
      error: "Not Found",
      message: expect.any(String),
      errorCode: "song_not_found",
    });
  });
});
