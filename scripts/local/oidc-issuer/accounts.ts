/**
 * Who logged in to the tenant, and what the post-login Action set for them on their last login
 * or refresh: the profile and the claims their tokens carry.
 */
import type { AccountClaims } from "oidc-provider";
import type { IssuerOptions, LoginClaims, LoginProtocol, LoginUser } from "./options.ts";

export type Accounts = ReturnType<typeof accountsOf>;

export function accountsOf(login: IssuerOptions["login"]) {
  const logins = new Map<string, LoginUser & LoginClaims>();

  /**
   * The post-login step of one login or refresh; its claims go into the tokens this login's code
   * (or this exchange) buys. Answers the reason when the Action denied the login.
   */
  async function runLogin(
    user: LoginUser,
    protocol: LoginProtocol = "oidc-basic-profile",
  ): Promise<string | undefined> {
    if (!login) return undefined;
    const { accessTokenClaims, idTokenClaims, denied } = await login.postLogin(user, protocol);
    if (denied !== undefined) return denied;
    // Only the custom claims this tenant lists reach a token, whatever an Action sets: never
    // `sub`, `permissions`, `gty` or another claim the API reads to decide who may do what.
    const listed = (claims: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(claims).filter(([name]) => login.customClaims.includes(name)),
      );
    logins.set(user.user_id, {
      ...user,
      accessTokenClaims: listed(accessTokenClaims),
      idTokenClaims: listed(idTokenClaims),
    });
    return undefined;
  }

  return {
    runLogin,
    /**
     * The post-login step of an account that did not type itself in now (a live session, a
     * refresh): with the profile of its last login.
     */
    runLoginAgain(accountId: string, protocol?: LoginProtocol): Promise<string | undefined> {
      const { name, email } = logins.get(accountId) ?? {};
      return runLogin({ user_id: accountId, name, email }, protocol);
    },
    /** The ID token's and /userinfo's claims of `sub`. */
    claims(sub: string): AccountClaims {
      const user = logins.get(sub);
      return {
        sub,
        ...(user?.name ? { name: user.name, nickname: user.name } : {}),
        ...(user?.email ? { email: user.email, email_verified: false } : {}),
        ...user?.idTokenClaims,
      };
    },
    accessTokenClaims(sub: string): Record<string, unknown> | undefined {
      return logins.get(sub)?.accessTokenClaims;
    },
    /** Forgets `userId`; answers whether it had logged in. */
    forget(userId: string): boolean {
      return logins.delete(userId);
    },
  };
}
