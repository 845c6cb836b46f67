import createClient from "openapi-fetch";
import type { paths } from "../../client/index.ts";
import { checkAgainstContract, routeOf } from "./contract.ts";

export interface HttpResult {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON response body, read by assertions.
  body: any;
}

type Init = Parameters<ReturnType<typeof createClient<paths>>["request"]>[2];

/**
 * One HTTP call to the running stack, JSON in and out, made with the typed client generated
 * from the OpenAPI document (client/): a documented route goes through openapi-fetch with its
 * path template and parameters; only what no client would send (an unknown route, malformed
 * percent-encoding) goes out as a plain fetch. Every response is then held to the document.
 */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: {
    token?: string;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const [pathname = "", search = ""] = path.split("?");
  const route = routeOf(method, pathname);
  let response: Response;
  if (route) {
    const client = createClient<paths>({ baseUrl });
    // The raw response, before openapi-fetch reads it: the assertions want its exact text.
    let raw: Response | undefined;
    client.use({
      onResponse({ response: received }) {
        raw = received.clone();
      },
    });
    const init = {
      params: { path: route.params, query: Object.fromEntries(new URLSearchParams(search)) },
      headers,
      ...(options.rawBody !== undefined
        ? { body: options.rawBody, bodySerializer: (body: unknown) => body as string }
        : options.body !== undefined
          ? { body: options.body }
          : {}),
    } as unknown as Init;
    await client.request(
      method.toLowerCase() as Parameters<typeof client.request>[0],
      route.template as never,
      init,
    );
    if (!raw) throw new Error(`${method} ${path}: no response`);
    response = raw;
  } else {
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] = "application/json";
    }
    response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
  }
  const text = await response.text();
  checkAgainstContract(method, `${baseUrl}${path}`, response.status, response.headers, text);
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}
