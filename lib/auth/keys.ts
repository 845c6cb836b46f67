import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWSHeaderParameters } from "jose";

/**
 * The issuer's signing keys, fetched with node:http(s) and handed to jose's local key set.
 *
 * Why not jose's createRemoteJWKSet: it builds a `Headers` object as soon as it is created, and
 * the first use of fetch's classes makes Node load its whole fetch implementation (undici): 20
 * to 25 ms of a cold start measured here, more than all of this API's own code. node:https is
 * already loaded by the AWS SDK's HTTP handler. Key selection and verification stay jose's.
 */
export class KeySetUnavailable extends Error {}

const FETCH_TIMEOUT_MS = 3_000;
const MAX_BODY_BYTES = 512 * 1024;
/** Keys are refreshed after this long, as jose's remote set does by default. */
const CACHE_MAX_AGE_MS = 600_000;
/** An unknown `kid` refetches at most this often, so a forged `kid` cannot hammer the issuer. */
const UNKNOWN_KID_COOLDOWN_MS = 30_000;
/** After a failed fetch, requests wait this long before another fetch. */
const FAILED_FETCH_COOLDOWN_MS = 10_000;

function fetchKeySet(uri: string): Promise<JSONWebKeySet> {
  const get = uri.startsWith("https:") ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const request = get(uri, { headers: { accept: "application/json" } }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new KeySetUnavailable(`key set answered ${response.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) request.destroy(new KeySetUnavailable("key set too large"));
        else chunks.push(chunk);
      });
      response.on("end", () => {
        try {
          const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          const keys = (body as { keys?: unknown } | null)?.keys;
          if (!Array.isArray(keys)) throw new KeySetUnavailable("no keys in the key set");
          resolve(body as JSONWebKeySet);
        } catch (error) {
          reject(error instanceof KeySetUnavailable ? error : new KeySetUnavailable("bad key set"));
        }
      });
      response.on("error", reject);
    });
    request.setTimeout(FETCH_TIMEOUT_MS, () => request.destroy(new KeySetUnavailable("timeout")));
    request.on("error", (error) =>
      reject(error instanceof KeySetUnavailable ? error : new KeySetUnavailable(error.message)),
    );
  });
}

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

/**
 * One per container (module scope). A fetch failure (5xx, refused, timeout, junk) starts a
 * cooldown during which the last keys fetched, if any, still verify; without them the caller
 * gets KeySetUnavailable, without another fetch.
 */
export class IssuerKeys {
  private local: LocalKeySet | undefined;
  private fetchedAt = 0;
  private unavailableUntil = 0;
  private pending: Promise<void> | undefined;

  constructor(private readonly uri: string) {}

  /** Seconds until a fetch may be tried again (for Retry-After). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.unavailableUntil - Date.now()) / 1000));
  }

  /** Fetches now, sharing a fetch already under way. Never throws: failures start the cooldown. */
  refresh(): Promise<void> {
    this.pending ??= fetchKeySet(this.uri)
      .then(
        (jwks) => {
          this.local = createLocalJWKSet(jwks);
          this.fetchedAt = Date.now();
        },
        () => {
          this.unavailableUntil = Date.now() + FAILED_FETCH_COOLDOWN_MS;
        },
      )
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  /** jose's key lookup: the key for this token's header, fetching when due and allowed. */
  readonly lookup = async (
    header: JWSHeaderParameters,
    token: { payload: unknown },
  ): ReturnType<LocalKeySet> => {
    const cooling = () => Date.now() < this.unavailableUntil;
    if (!cooling() && (!this.local || Date.now() - this.fetchedAt > CACHE_MAX_AGE_MS)) {
      await this.refresh();
    }
    if (!this.local) throw new KeySetUnavailable("no keys fetched");
    try {
      return await this.local(header, token as never);
    } catch (error) {
      const mayRefetch =
        error instanceof errors.JWKSNoMatchingKey &&
        !cooling() &&
        Date.now() - this.fetchedAt > UNKNOWN_KID_COOLDOWN_MS;
      if (!mayRefetch) throw error;
      await this.refresh();
      if (cooling()) throw new KeySetUnavailable("refetch failed");
      return this.local(header, token as never);
    }
  };
}
