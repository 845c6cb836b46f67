import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { LambdaHandler } from "../../../lib/http/handler.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { tokenFor, uniqueUser } from "../../helpers/tokens.ts";

/** What an operator sees: one JSON line per request, with nothing secret or personal in it. */
let users: LambdaHandler;
let hashSubject: (sub: string) => string;

// The log level is read once, when the logger loads: set it first, then load the function.
beforeAll(async () => {
  process.env.LOG_LEVEL = "INFO";
  users = (await import("../../../functions/users.ts")).handler;
  ({ hashSubject } = await import("../../../lib/log.ts"));
});
afterEach(() => {
  vi.restoreAllMocks();
});

function captureLogs(): string[] {
  const lines: string[] = [];
  const keep = (line: unknown) => {
    lines.push(String(line));
  };
  vi.spyOn(console, "log").mockImplementation(keep);
  vi.spyOn(console, "error").mockImplementation(keep);
  return lines;
}

describe("request logs", () => {
  it("write one line per request: route, status, latency, correlation id and the hashed caller", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    const secretValue = "my-very-private-diary-entry";
    const lines = captureLogs();
    const response = await invoke(
      users,
      httpEvent("updateUser", {
        token,
        rawPath: `/users/${encodeURIComponent(sub)}`,
        body: { user_metadata: { diary: secretValue } },
        headers: { "x-correlation-id": "corr-123" },
      }),
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers["x-correlation-id"]).toBe("corr-123");
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] as string);
    expect(entry).toMatchObject({
      level: "INFO",
      message: "request",
      route: "PATCH /users/{userId}",
      status: 200,
      correlationId: "corr-123",
      caller: hashSubject(sub),
    });
    expect(entry.latencyMs).toEqual(expect.any(Number));
    const all = lines.join("\n");
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split(".")[2]);
    expect(all).not.toContain(secretValue);
    expect(all).not.toContain(sub);
  });

  it("log a refused token without the token", async () => {
    const lines = captureLogs();
    const forged = `${await tokenFor(uniqueUser())}x`;
    const response = await invoke(users, httpEvent("getUser", { token: forged }));
    expect(response.statusCode).toBe(401);
    expect(lines.join("\n")).not.toContain(forged.split(".")[1]);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      status: 401,
      route: "GET /users/{userId}",
    });
  });
});
