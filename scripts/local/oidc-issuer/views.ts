/** The tenant's pages: the login page, the logout steps and the error page. */
import type { ErrorOut } from "oidc-provider";

/** Where the login page of an interaction lives: `${LOGIN_PATH}${uid}`. */
export const LOGIN_PATH = "/login/";

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:22rem;margin:3rem auto;padding:0 1rem;color:#1b1b1f}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #999;border-radius:6px}
button{margin-top:1.2rem;width:100%;padding:.7rem;font-size:1rem;border:0;border-radius:6px;background:#3b3bb3;color:#fff}
p{color:#555}.error{color:#a40000}</style></head><body>${body}</body></html>`;
}

export function loginPage(uid: string, clientName: string, error?: string): string {
  return page(
    "Log in",
    `<h1>Log in to ${escapeHtml(clientName)}</h1>
<p>Local tenant: type who you are. A real Auth0 tenant asks for a password or a social login here.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ""}
<form method="post" action="${LOGIN_PATH}${escapeHtml(uid)}" autocomplete="off">
<label for="user_id">User id</label>
<input id="user_id" name="user_id" required maxlength="200" placeholder="auth0|alice">
<label for="name">Name (optional)</label><input id="name" name="name" maxlength="200">
<label for="email">Email (optional)</label><input id="email" name="email" type="email" maxlength="200">
<button type="submit">Continue</button></form>`,
  );
}

/** Auth0's /v2/logout asks nothing: the provider's confirmation `form`, submitted at once. */
export function logoutPage(form: string): string {
  return page(
    "Logging out",
    `${form}<input type="hidden" form="op.logoutForm" name="logout" value="yes">
<script>document.forms[0].submit()</script>`,
  );
}

export function loggedOutPage(): string {
  return page("Logged out", "<h1>Logged out</h1>");
}

/** oidc-provider's error `out` (error, error_description, state...), each field a line. */
export function errorPage(out: ErrorOut): string {
  return page(
    "Error",
    `<h1>Error</h1>${Object.entries(out)
      .map(([name, value]) => `<p><b>${escapeHtml(name)}</b>: ${escapeHtml(String(value))}</p>`)
      .join("")}`,
  );
}
