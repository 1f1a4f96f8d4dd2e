// TLS on loopback: servers that clean up, handshakes reported as data (what was negotiated, or
// the exact error code), and openssl as an independent peer.
import { execFile } from "node:child_process";
import * as tls from "node:tls";
import { serve, type Served } from "./resources";

/** A TLS server on 127.0.0.1 port 0, closed at kernel shutdown if not before. */
export async function tlsServer(options: tls.TlsOptions, onSecure?: (s: tls.TLSSocket) => void): Promise<Served & { server: tls.Server }> {
  const server = tls.createServer(options, (s) => {
    s.on("error", () => {}); // a refused client is reported by the client side
    if (onSecure) onSecure(s);
    else s.end();
  });
  server.on("tlsClientError", () => {});
  return { ...(await serve(server)), server };
}

export type Handshake =
  | { ok: true; protocol: string; cipher: string; group: string; authorized: boolean; peer: string; socket: tls.TLSSocket }
  | { ok: false; code: string; message: string };

/** Connects and settles with what was negotiated, or with the error that stopped the handshake.
 *  In TLS 1.3 a server's rejection of the client arrives just after the client's own handshake,
 *  so we wait for the first application byte (or the close) before calling it a success. */
export function handshake(port: number, options: tls.ConnectionOptions = {}, waitForServerVerdict = false): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ...options });
    const fail = (e: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve({ ok: false, code: e.code ?? "ERR_UNKNOWN", message: e.message });
    };
    socket.once("error", fail);
    socket.once("secureConnect", () => {
      const done = () => {
        socket.off("error", fail);
        const key = socket.getEphemeralKeyInfo();
        resolve({
          ok: true,
          protocol: socket.getProtocol() ?? "?",
          cipher: socket.getCipher().standardName,
          group: key && "name" in key ? String(key.name) : "?",
          authorized: socket.authorized,
          peer: String(socket.getPeerCertificate().subject?.CN ?? "?"),
          socket,
        });
      };
      if (!waitForServerVerdict) return done();
      socket.once("data", done);
      socket.once("end", () => fail(Object.assign(new Error("server closed the connection"), { code: "ECONNRESET" })));
    });
  });
}

/** Runs the openssl command line tool; resolves with its output, never rejects on a non-zero exit. */
export function openssl(args: string[], input = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile("openssl", args, { timeout: 15_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(error);
      resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}
