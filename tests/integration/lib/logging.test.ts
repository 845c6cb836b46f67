import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { LambdaHandler } from "../../../lib/http/handler.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { machineTokenFor, tokenFor, uniqueUser } from "../../helpers/tokens.ts";

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
    const event = httpEvent("updateUser", {
      token,
      rawPath: `/users/${encodeURIComponent(sub)}`,
      body: { user_metadata: { diary: secretValue } },
      headers: { "x-correlation-id": "corr-123" },
    });
    const response = await invoke(users, event);
    expect(response.statusCode).toBe(200);
    // API Gateway's id is the correlation id; the client's own is kept beside it.
    expect(response.headers["x-correlation-id"]).toBe(event.requestContext.requestId);
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] as string);
    expect(entry).toMatchObject({
      level: "INFO",
      message: "request",
      route: "PATCH /users/{userId}",
      status: 200,
      correlationId: event.requestContext.requestId,
      clientCorrelationId: "corr-123",
      caller: hashSubject(sub),
    });
    expect(entry.latencyMs).toEqual(expect.any(Number));
    const all = lines.join("\n");
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split(".")[2]);
    expect(all).not.toContain(secretValue);
    expect(all).not.toContain(sub);
  });

  it("give an audit line API Gateway's request id as correlation id, whatever X-Correlation-Id a client sends", async () => {
    const sub = uniqueUser();
    await invoke(
      users,
      httpEvent("updateUser", {
        token: await tokenFor(sub),
        rawPath: `/users/${encodeURIComponent(sub)}`,
        body: { user_metadata: { a: 1 } },
      }),
    );
    const lines = captureLogs();
    const event = httpEvent("updateUser", {
      token: await machineTokenFor("ops", "update:users_app_metadata"),
      rawPath: `/users/${encodeURIComponent(sub)}`,
      body: { app_metadata: { plan: "pro" } },
      // Another request's id, as one who wants an audit line to point elsewhere would send.
      headers: { "x-correlation-id": "someone-elses-request" },
    });
    const response = await invoke(users, event);
    expect(response.statusCode).toBe(200);
    const audits = lines.map((line) => JSON.parse(line)).filter((entry) => entry.audit === true);
    expect(audits).toEqual([
      expect.objectContaining({
        message: "app_metadata changed",
        actor: "ops@clients",
        correlationId: event.requestContext.requestId,
        clientCorrelationId: "someone-elses-request",
      }),
    ]);
    // A malformed one is left out, never logged.
    const junk = captureLogs();
    await invoke(users, {
      ...event,
      body: JSON.stringify({ app_metadata: { plan: "free" } }),
      headers: { ...event.headers, "x-correlation-id": "a b\nc" },
    });
    const audit = junk.map((line) => JSON.parse(line)).find((entry) => entry.audit === true);
    expect(audit).toMatchObject({ correlationId: event.requestContext.requestId });
    expect(audit).not.toHaveProperty("clientCorrelationId");
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
