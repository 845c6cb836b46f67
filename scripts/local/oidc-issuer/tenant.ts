/**
 * One local tenant as its parts see it: its options, with every M2M application in one list,
 * the store of its sessions and tokens, and the accounts that logged in.
 */
import type { LocalClient } from "../issuer.ts";
import { type Accounts, accountsOf } from "./accounts.ts";
import {
  DEFAULT_REFRESH_TOKEN_LIFETIMES,
  type IssuerOptions,
  type RefreshTokenLifetimes,
} from "./options.ts";
import { type MemoryStore, memoryStore } from "./store.ts";

/** The OpenID scopes a user is granted when asked for; an API permission is not (RBAC). */
export const IDENTITY_SCOPES = ["openid", "profile", "email", "offline_access"];

export interface Tenant extends IssuerOptions {
  /** The M2M applications of the options and the Management API's one. */
  allClients: LocalClient[];
  /** The Management API's audience, `${issuer}api/v2/`. */
  managementAudience: string;
  lifetimes: RefreshTokenLifetimes;
  store: MemoryStore;
  accounts: Accounts;
}

export function tenantOf(options: IssuerOptions): Tenant {
  const { management } = options;
  return {
    ...options,
    allClients: [...(options.clients ?? []), ...(management ? [management.client] : [])],
    managementAudience: `${options.issuer}api/v2/`,
    lifetimes: options.refreshTokens ?? DEFAULT_REFRESH_TOKEN_LIFETIMES,
    store: memoryStore(),
    accounts: accountsOf(options.login),
  };
}
