/**
 * Configuration, read and validated once at cold start. A missing or malformed variable fails
 * the function's initialisation with a message naming it, instead of a 500 on the first request.
 */

export interface TableNames {
  profiles: string;
  songs: string;
  playlists: string;
  featured: string;
  counters: string;
  idempotency: string;
  rateLimits: string;
}

export interface Config {
  authIssuer: string;
  authAudience: string;
  jwksUri: string;
  claimsNamespace: string;
  playlistEditorMinPlays: number;
  /** Least seconds between two counted plays of one user; 0 turns the cooldown off. */
  playCooldownSeconds: number;
  maxSongsPerUser: number;
  maxPlaylistsPerUser: number;
  /** Featured playlists one editor may hold, created and not deleted. */
  maxFeaturedPerEditor: number;
  /**
   * Most seconds a container serves a cached page of the featured list (lib/db/featured.ts)
   * while the version stamp says it is current: a backstop for a change whose stamp bump was
   * lost. 0 turns the cache off.
   */
  featuredCacheSeconds: number;
  /** Per-caller limits (requests per second; bursts of twice that), lib/domain/rate-limits.ts. */
  userReadsPerSecond: number;
  userWritesPerSecond: number;
  /** Capacity units one caller's requests may make the tables spend per second (bursts twice). */
  userReadUnitsPerSecond: number;
  userWriteUnitsPerSecond: number;
  /**
   * Where the cursor signing secret comes from: deployed, the name of an SSM SecureString read
   * once per container when a cursor is first needed (lib/secrets/cursor-secret.ts); locally, the value.
   */
  cursorSecret: { parameter: string } | { value: string };
  /**
   * The M2M application account deletion uses on Auth0's Management API (`delete:users`), its
   * secret a value (locally) or an SSM SecureString's name (deployed, read when first needed);
   * undefined when AUTH0_MGMT_CLIENT_ID is unset: the Auth0 user is then left in place.
   */
  managementApi:
    | { clientId: string; secret: { parameter: string } | { value: string } }
    | undefined;
  /** Fetch the key set and open the DynamoDB connection during init (lib/lambda/warm-up.ts); off by default. */
  warmUpOnInit: boolean;
  tables: TableNames;
  /** Set only locally (DynamoDB Local); in AWS the SDK finds the regional endpoint. */
  dynamodbEndpoint: string | undefined;
  /** Per-attempt DynamoDB timeouts (ms): 3 attempts must fit inside the function's 10 s. */
  dynamodbConnectTimeoutMs: number;
  dynamodbRequestTimeoutMs: number;
  region: string;
  /** The deployed function's name, as Lambda (and serverless-offline) sets it. */
  functionName: string | undefined;
  /** Tests only: where to record the IAM calls each function makes (lib/instrumentation/call-log.ts). */
  dynamodbCallLogDir: string | undefined;
}

/** The contract's defaults, in one place: deployments and `npm start` leave these unset. */
export const DEFAULTS = {
  claimsNamespace: "https://music.example.com/",
  playlistEditorMinPlays: 100,
  playCooldownSeconds: 30,
  maxSongsPerUser: 10_000,
  maxPlaylistsPerUser: 1_000,
  maxFeaturedPerEditor: 50,
  featuredCacheSeconds: 60,
  userReadsPerSecond: 20,
  userWritesPerSecond: 5,
  userReadUnitsPerSecond: 100,
  userWriteUnitsPerSecond: 50,
  logLevel: "INFO",
  serviceName: "music-user-data",
} as const;

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`Environment variable ${name} is required`);
  return value;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function url(name: string, value: string): string {
  try {
    return new URL(value).href;
  } catch {
    throw new ConfigError(`Environment variable ${name} must be a URL, got "${value}"`);
  }
}

function milliseconds(env: Env, name: string, fallback: number): number {
  const text = optional(env, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(`${name} must be a positive number of milliseconds, got "${text}"`);
  }
  return value;
}

function count(env: Env, name: string, fallback: number, min: number): number {
  const text = optional(env, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`${name} must be an integer of at least ${min}, got "${text}"`);
  }
  return value;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const text = optional(env, name);
  if (text === undefined) return fallback;
  if (text !== "true" && text !== "false") {
    throw new ConfigError(`${name} must be true or false, got "${text}"`);
  }
  return text === "true";
}

function cursorSecretSource(env: Env): Config["cursorSecret"] {
  const value = optional(env, "CURSOR_SECRET");
  if (value !== undefined) {
    if (value.length < 32) throw new ConfigError("CURSOR_SECRET must be at least 32 characters");
    return { value };
  }
  const parameter = optional(env, "CURSOR_SECRET_PARAMETER");
  if (parameter === undefined) {
    throw new ConfigError(
      "Environment variable CURSOR_SECRET_PARAMETER (an SSM SecureString's name) is required, or CURSOR_SECRET for local runs",
    );
  }
  if (!parameter.startsWith("/")) {
    throw new ConfigError(
      `CURSOR_SECRET_PARAMETER must be a parameter name starting with /, got "${parameter}"`,
    );
  }
  return { parameter };
}

function managementApiSource(env: Env): Config["managementApi"] {
  const clientId = optional(env, "AUTH0_MGMT_CLIENT_ID");
  if (clientId === undefined) return undefined;
  const value = optional(env, "AUTH0_MGMT_CLIENT_SECRET");
  if (value !== undefined) return { clientId, secret: { value } };
  const parameter = optional(env, "AUTH0_MGMT_CLIENT_SECRET_PARAMETER");
  if (parameter === undefined || !parameter.startsWith("/")) {
    throw new ConfigError(
      "AUTH0_MGMT_CLIENT_ID is set: AUTH0_MGMT_CLIENT_SECRET_PARAMETER (an SSM SecureString's name, starting with /) is required, or AUTH0_MGMT_CLIENT_SECRET for local runs",
    );
  }
  return { clientId, secret: { parameter } };
}

export function readConfig(env: Env): Config {
  const authIssuer = required(env, "AUTH_ISSUER");
  url("AUTH_ISSUER", authIssuer);
  const jwksUri = url(
    "AUTH_JWKS_URI",
    optional(env, "AUTH_JWKS_URI") ??
      `${authIssuer}${authIssuer.endsWith("/") ? "" : "/"}.well-known/jwks.json`,
  );
  return {
    // Kept exactly as given: `iss` is compared byte for byte, trailing slash included.
    authIssuer,
    authAudience: required(env, "AUTH_AUDIENCE"),
    jwksUri,
    claimsNamespace: optional(env, "CLAIMS_NAMESPACE") ?? DEFAULTS.claimsNamespace,
    playlistEditorMinPlays: count(
      env,
      "PLAYLIST_EDITOR_MIN_PLAYS",
      DEFAULTS.playlistEditorMinPlays,
      1,
    ),
    playCooldownSeconds: count(env, "PLAY_COOLDOWN_SECONDS", DEFAULTS.playCooldownSeconds, 0),
    maxSongsPerUser: count(env, "MAX_SONGS_PER_USER", DEFAULTS.maxSongsPerUser, 1),
    maxPlaylistsPerUser: count(env, "MAX_PLAYLISTS_PER_USER", DEFAULTS.maxPlaylistsPerUser, 1),
    maxFeaturedPerEditor: count(env, "MAX_FEATURED_PER_EDITOR", DEFAULTS.maxFeaturedPerEditor, 1),
    featuredCacheSeconds: count(env, "FEATURED_CACHE_SECONDS", DEFAULTS.featuredCacheSeconds, 0),
    userReadsPerSecond: count(env, "USER_READS_PER_SECOND", DEFAULTS.userReadsPerSecond, 1),
    userWritesPerSecond: count(env, "USER_WRITES_PER_SECOND", DEFAULTS.userWritesPerSecond, 1),
    userReadUnitsPerSecond: count(
      env,
      "USER_READ_UNITS_PER_SECOND",
      DEFAULTS.userReadUnitsPerSecond,
      1,
    ),
    userWriteUnitsPerSecond: count(
      env,
      "USER_WRITE_UNITS_PER_SECOND",
      DEFAULTS.userWriteUnitsPerSecond,
      1,
    ),
    cursorSecret: cursorSecretSource(env),
    managementApi: managementApiSource(env),
    warmUpOnInit: flag(env, "INIT_WARM_UP", false),
    tables: {
      profiles: required(env, "PROFILES_TABLE"),
      songs: required(env, "SONGS_TABLE"),
      playlists: required(env, "PLAYLISTS_TABLE"),
      featured: required(env, "FEATURED_TABLE"),
      counters: required(env, "COUNTERS_TABLE"),
      idempotency: required(env, "IDEMPOTENCY_TABLE"),
      rateLimits: required(env, "RATE_LIMITS_TABLE"),
    },
    dynamodbEndpoint: optional(env, "DYNAMODB_ENDPOINT"),
    dynamodbConnectTimeoutMs: milliseconds(env, "DYNAMODB_CONNECT_TIMEOUT_MS", 500),
    dynamodbRequestTimeoutMs: milliseconds(env, "DYNAMODB_REQUEST_TIMEOUT_MS", 1_500),
    region: optional(env, "AWS_REGION") ?? "us-east-1",
    functionName: optional(env, "AWS_LAMBDA_FUNCTION_NAME"),
    dynamodbCallLogDir: optional(env, "DYNAMODB_CALL_LOG_DIR"),
  };
}

export interface LogSettings {
  level: string;
  service: string;
}

/** What the logger needs; never fails, so a log line can always be written. */
function readLogSettings(env: Env): LogSettings {
  return {
    level: (optional(env, "LOG_LEVEL") ?? DEFAULTS.logLevel).toUpperCase(),
    service: optional(env, "SERVICE_NAME") ?? DEFAULTS.serviceName,
  };
}

/** The logger's settings, read at cold start. */
export const logSettings: LogSettings = readLogSettings(process.env);

let loaded: Config | undefined;

/** The process-wide configuration, read from the environment on first use. */
export function config(): Config {
  loaded ??= readConfig(process.env);
  return loaded;
}
