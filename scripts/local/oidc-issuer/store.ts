/**
 * The tenant's store, in memory as oidc-provider's own, but one per tenant and searchable by
 * account: deleting a user (Management API) forgets its sessions, grants and tokens.
 */
import type { Adapter, AdapterPayload } from "oidc-provider";

/** An entry of the tenant's store: a session, grant, interaction, code or token. */
interface Stored {
  payload: AdapterPayload;
  expiresAt: number | undefined;
}

export type MemoryStore = ReturnType<typeof memoryStore>;

export function memoryStore() {
  const entries = new Map<string, Stored>();
  const live = (key: string): AdapterPayload | undefined => {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry.payload;
  };
  class MemoryAdapter implements Adapter {
    constructor(readonly model: string) {}
    key = (id: string) => `${this.model}:${id}`;
    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      entries.set(this.key(id), {
        payload,
        expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined,
      });
    }
    async find(id: string) {
      return live(this.key(id));
    }
    async findByUid(uid: string) {
      for (const key of entries.keys()) {
        const payload = key.startsWith(`${this.model}:`) ? live(key) : undefined;
        if (payload?.uid === uid) return payload;
      }
      return undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async consume(id: string) {
      const payload = live(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      entries.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, entry] of entries)
        if (entry.payload.grantId === grantId) entries.delete(key);
    }
  }
  const refreshTokenKey = (id: string) => `RefreshToken:${id}`;
  return {
    MemoryAdapter,
    /**
     * Marks refresh token `id` used, testing and marking with no await between (so of parallel
     * exchanges of one token exactly one gets `true`); `false` when it was already used or gone.
     */
    consumeRefreshToken(id: string): boolean {
      const payload = live(refreshTokenKey(id));
      if (!payload || payload.consumed) return false;
      payload.consumed = Math.floor(Date.now() / 1000);
      return true;
    },
    /** Undoes consumeRefreshToken: an exchange refused for another reason leaves the token usable. */
    restoreRefreshToken(id: string): void {
      const payload = live(refreshTokenKey(id));
      if (payload) delete payload.consumed;
    },
    /** Revokes a refresh token family: its grant and every token issued under it. */
    revokeGrant(grantId: string): void {
      entries.delete(`Grant:${grantId}`);
      for (const [key, entry] of entries)
        if (entry.payload.grantId === grantId) entries.delete(key);
    },
    /** Forgets everything of `accountId`; answers whether there was anything. */
    forgetAccount(accountId: string): boolean {
      let found = false;
      for (const [key, { payload }] of entries) {
        const owner = payload.accountId ?? (payload.session as { accountId?: string })?.accountId;
        if (owner === accountId) {
          entries.delete(key);
          found = true;
        }
      }
      return found;
    },
  };
}
