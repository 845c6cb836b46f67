import { execFile } from "node:child_process";
import { connect } from "node:net";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/local/serverless-config.ts";
import { startStack } from "../../scripts/local/stack.ts";
import { call } from "../helpers/http.ts";

const run = promisify(execFile);

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** `npm start` with no AUTH_ISSUER: the bundled issuer, data kept under DATA_DIR. */
describe("npm start with the local issuer", () => {
  it("serves a token from `npm run token`, refuses a forged one, keeps data across a restart and leaves no process behind", async () => {
    const local = { AUTH_ISSUER: "", AUTH_AUDIENCE: "", AUTH_JWKS_URI: "" };
    let stack = await startStack(local);
    const { dataDir } = stack;

    const tokenFrom = async (sub: string) => {
      const { stdout } = await run("npm", ["run", "-s", "token", "--", sub], {
        cwd: ROOT,
        env: {
          ...process.env,
          DATA_DIR: dataDir,
          AUTH_ISSUER: "",
          AUTH_AUDIENCE: "",
          ISSUER_PORT: stack.issuerPort,
        },
      });
      return stdout.trim();
    };
    try {
      const token = await tokenFrom("google-oauth2|123");
      expect(token.split(".")).toHaveLength(3);
      const put = await call(stack.baseUrl, "PUT", "/displayName", {
        token,
        body: { displayName: "Kept" },
      });
      expect(put).toMatchObject({ status: 200, body: { displayName: "Kept" } });

      // Flip one character of the signature: a forged token.
      const last = token.at(-2) === "A" ? "B" : "A";
      const forged = `${token.slice(0, -2)}${last}${token.at(-1)}`;
      const refused = await call(stack.baseUrl, "GET", "/displayName", { token: forged });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toContain("invalid_token");

      await stack.stop();
      expect(await portAnswers(stack.dynamodbPort)).toBe(false);
      expect(await portAnswers(Number(new URL(stack.baseUrl).port))).toBe(false);

      stack = await startStack({ ...local, ISSUER_PORT: stack.issuerPort }, dataDir);
      // The same key (kept under DATA_DIR) still signs; the same name is still stored.
      const again = await call(stack.baseUrl, "GET", "/displayName", {
        token: await tokenFrom("google-oauth2|123"),
      });
      expect(again).toMatchObject({ status: 200, body: { displayName: "Kept" } });
    } finally {
      await stack.stop();
    }
    expect(await portAnswers(stack.dynamodbPort)).toBe(false);
  });
});
