// One HTTP(S) request with the TLS settings fetch() cannot take in Node 20 without undici: the CA
// to trust (the lab root), a client certificate for mutual TLS, the server name to check. Every
// request gets its own connection (no agent, no pooling), so nothing stays open after it and a
// request never rides on a connection made with another client certificate.
import * as http from "node:http";
import * as https from "node:https";

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** CA certificates to trust instead of the system's (PEM). */
  ca?: string;
  /** Client certificate chain and key (PEM), for mutual TLS. */
  cert?: string;
  key?: string;
  /** The name the server certificate must carry, and the SNI sent (default: the URL's host). */
  servername?: string;
  timeoutMs?: number;
  /** The local address to connect from (any of 127.0.0.0/8 on loopback: many clients, one host). */
  localAddress?: string;
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text(): string;
  json(): any;
}

export function request(url: string, options: RequestOptions = {}): Promise<Response> {
  const u = new URL(url);
  const secure = u.protocol === "https:";
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const headers = { ...(body ? { "content-length": String(body.length) } : {}), ...options.headers };
  const tlsOptions = secure
    ? { ca: options.ca, cert: options.cert, key: options.key, servername: options.servername }
    : {};
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      u,
      { method: options.method ?? "GET", headers, agent: false, localAddress: options.localAddress, ...tlsOptions },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const bytes = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: bytes,
            text: () => bytes.toString("utf8"),
            json: () => JSON.parse(bytes.toString("utf8")),
          });
        });
      },
    );
    req.setTimeout(options.timeoutMs ?? 5000, () =>
      req.destroy(
        Object.assign(new Error(`no response from ${u.host} within ${options.timeoutMs ?? 5000} ms`), {
          code: "ETIMEDOUT",
        }),
      ),
    );
    req.on("error", reject);
    req.end(body);
  });
}
