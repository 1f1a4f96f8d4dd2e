// An HTTP app that tells each client what it received: the method, the path, the TCP peer and every
// header as it arrived (names lower case, in order), and the body's length, as JSON. It is the
// upstream of proxy experiments, so that a notebook can compare what two proxies made of the same
// request. It also announces each body chunk as it arrives (`onChunk`), so a test can see whether a
// proxy streams a body or holds it back, and `GET /slow` never answers, for gateway timeouts.
import * as http from "node:http";
import { serve, type Served } from "./serve";

export interface Seen {
  method: string;
  url: string;
  peer: string;
  /** [name, value] as received, names lower case. */
  headers: Array<[string, string]>;
  bodyBytes: number;
}

export interface Mirror extends Served {
  /** Every request, as seen, in order of completion. */
  readonly seen: Seen[];
  /** Called with the path and the chunk's size, for every body chunk, as it arrives. */
  onChunk?: (url: string, bytes: number) => void;
}

export async function startMirror(): Promise<Mirror> {
  const seen: Seen[] = [];
  const held = new Set<http.ServerResponse>();
  const mirror: Mirror = { port: 0, close: async () => {}, seen };
  const server = http.createServer((req, res) => {
    if (req.url === "/slow") {
      held.add(res); // answered never; closed with the server
      return;
    }
    let bodyBytes = 0;
    req.on("data", (c: Buffer) => {
      bodyBytes += c.length;
      mirror.onChunk?.(req.url ?? "", c.length);
    });
    req.on("end", () => {
      const headers: Array<[string, string]> = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        headers.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]]);
      const s: Seen = {
        method: req.method ?? "",
        url: req.url ?? "",
        peer: req.socket.remoteAddress ?? "",
        headers,
        bodyBytes,
      };
      seen.push(s);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(s));
    });
  });
  const served = await serve(server);
  mirror.port = served.port;
  mirror.close = async () => {
    for (const res of held) res.destroy();
    await served.close();
  };
  return mirror;
}
