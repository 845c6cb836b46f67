/**
 * `npm run export:local-tenant -- FILE`: the local Auth0 tenant's users as an Auth0 users-exports
 * job writes them (newline-delimited JSON, one user a line with `user_id`, `user_metadata`,
 * `app_metadata`; gzipped when FILE ends in .gz, as Auth0 delivers it), so that moving in all at
 * once (`npm run import:auth0`) runs locally end to end. Its users are those the tenant keeps
 * metadata of (scripts/local/issuer.ts), read from DATA_DIR of the running npm start.
 */
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { commandLine } from "./local/cli.ts";
import { userAppMetadata, userUserMetadata } from "./local/issuer.ts";
import { localSettings } from "./local/settings.ts";

const USAGE = `usage: npm run export:local-tenant -- FILE

Writes the local tenant's users (those it keeps user_metadata or app_metadata of, in DATA_DIR of
the running npm start) to FILE as an Auth0 users export: one JSON user a line with user_id,
user_metadata and app_metadata, gzipped when FILE ends in .gz. Then:
  npm run import:auth0 -- FILE`;

const { positionals } = commandLine(USAGE, { allowPositionals: true, options: {} });
const [file] = positionals;
if (!file || positionals.length > 1) {
  console.error(USAGE);
  process.exit(2);
}

const { dataDir } = localSettings();
const userMetadata = userUserMetadata(dataDir).all();
const appMetadata = userAppMetadata(dataDir).all();
const userIds = [...new Set([...Object.keys(userMetadata), ...Object.keys(appMetadata)])].sort();

function* lines() {
  for (const userId of userIds) {
    // Auth0 leaves out an object the user does not have.
    const user = userMetadata[userId];
    const app = appMetadata[userId];
    yield `${JSON.stringify({
      user_id: userId,
      ...(user && Object.keys(user).length ? { user_metadata: user } : {}),
      ...(app && Object.keys(app).length ? { app_metadata: app } : {}),
    })}\n`;
  }
}

const steps = [Readable.from(lines()), ...(file.endsWith(".gz") ? [createGzip()] : [])];
await pipeline([...steps, createWriteStream(file)]);
console.log(`exported ${userIds.length} users of the local tenant to ${file}`);
