// Crockford's base32, as ULID specifies: sortable by creation time, no ambiguous letters.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** A ULID: 48-bit millisecond time then 80 random bits, so ids list in creation order. */
export function newId(now: number = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  // Web Crypto: the same code runs in Lambda and in the sample app (device-chosen ids).
  const random = crypto.getRandomValues(new Uint8Array(16));
  let rest = "";
  for (let i = 0; i < 16; i++) rest += ALPHABET[(random[i] ?? 0) % 32];
  return time + rest;
}
