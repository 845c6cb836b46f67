import { createHash } from "node:crypto";
import {
  completeRecord,
  getRecord,
  newRecord,
  type RecordItems,
  type StoredResponse,
} from "../db/idempotency.ts";
import { BadRequestError, ConflictError, UnprocessableError } from "../errors.ts";
import { metric } from "../metrics.ts";
import { Refused, type WriteRefusal } from "../refusals.ts";
import { IDEMPOTENCY_KEY } from "../schemas/index.ts";
import { jsonResponse } from "./responses.ts";
import type { HttpEvent, HttpRequest, HttpResponse } from "./types.ts";

/**
 * Idempotency-Key (Stripe's semantics): a key belongs to one caller, method and path. The first
 * request's response is stored with the write, in the same transaction; the same key and body
 * again answers that response, byte for byte, with `Idempotent-Replayed: true`; another body is
 * 422; a first request still running is 409 with Retry-After.
 */

/** The optional Idempotency-Key header: 1 to 255 visible ASCII characters. */
export function idempotencyKey(event: HttpEvent): string | undefined {
  const key = event.headers?.["idempotency-key"];
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new BadRequestError(
      "Idempotency-Key must be 1 to 255 visible ASCII characters",
      "invalid_idempotency_key",
    );
  }
  return key;
}

export interface KeyedRequest {
  recordId: string;
  bodyHash: string;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("base64url");

/** The request's idempotency identity, or undefined when it carries no key. */
export function keyedRequest({ event, caller, body }: HttpRequest): KeyedRequest | undefined {
  const key = idempotencyKey(event);
  if (key === undefined) return undefined;
  const method = event.routeKey.split(" ")[0];
  return {
    recordId: sha256(JSON.stringify([caller.sub, method, event.rawPath, key])),
    bodyHash: sha256(JSON.stringify(body ?? null)),
  };
}

function stored(response: HttpResponse): StoredResponse {
  return { status: response.statusCode ?? 200, body: String(response.body ?? "") };
}

/** The transaction items that record the request with its response (none without a key). */
export function recordOf(keyed: KeyedRequest | undefined, response?: HttpResponse): RecordItems {
  return keyed ? newRecord(keyed.recordId, keyed.bodyHash, response && stored(response)) : {};
}

function replayed(response: StoredResponse): HttpResponse {
  const replay = jsonResponse(response.status, undefined, { "Idempotent-Replayed": "true" });
  return { ...replay, body: response.body };
}

/** Stores the response of a request recorded before its response was known. */
export function completeResponse(keyed: KeyedRequest, response: HttpResponse): Promise<void> {
  return completeRecord(keyed.recordId, stored(response));
}

/** A first request that recorded no response after this long died part way (10 s timeout). */
const ABANDONED_AFTER_MS = 30_000;

/**
 * The answer to a request whose key was recorded already. `recover` rebuilds the response of a
 * first request that did its write but died before storing its response.
 */
export async function replay(
  keyed: KeyedRequest,
  recover?: () => Promise<HttpResponse>,
): Promise<HttpResponse> {
  const record = await getRecord(keyed.recordId);
  if (record && record.bodyHash !== keyed.bodyHash) {
    throw new UnprocessableError(
      "This Idempotency-Key was used with another request body; use a new key for a new request",
      "idempotency_key_reused",
    );
  }
  if (record?.response) {
    metric("IdempotentReplays");
    return replayed(record.response);
  }
  if (record && recover && Date.now() - record.startedAt > ABANDONED_AFTER_MS) {
    await completeResponse(keyed, await recover());
    return replay(keyed);
  }
  throw new ConflictError(
    "A request with this Idempotency-Key is still running; retry shortly",
    "idempotency_key_in_use",
    1,
  );
}

/**
 * A create, exactly once: `write` stores the item together with the record of `response` (when
 * the request has a key), or refuses. A refusal other than the key's goes to the error mapper.
 */
export async function createOnce(
  request: HttpRequest,
  response: HttpResponse,
  write: (record: RecordItems) => Promise<WriteRefusal | undefined>,
  quotaMessage?: string,
): Promise<HttpResponse> {
  const keyed = keyedRequest(request);
  const refusal = await write(recordOf(keyed, response));
  if (!refusal) return response;
  if (refusal === "duplicate_key" && keyed) return replay(keyed);
  if (refusal === "quota") metric("QuotaRefusals");
  throw new Refused(refusal, refusal === "quota" ? quotaMessage : undefined);
}
