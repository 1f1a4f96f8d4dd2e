// Tests of the kernel process over real zeromq sockets, for what needs one: the control channel
// (answered by the wire thread), interrupts by message and by SIGINT, the heartbeat while the main
// thread is stuck, HMAC signatures on the wire, late errors that must not end the process, and
// shutdown (closing what cells opened, the process exiting) and restart. The requests themselves
// are tested in this process, on the kernel as a function: kernel.test.ts.
import { randomUUID } from "node:crypto";
import { execFileSync } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import { KernelClient } from "../../kernel/client";
import { endpoint } from "../../kernel/connection";
import { decode, encode, newHeader, Signer, type Message } from "../../kernel/protocol";
import {
  delay,
  errors,
  expectBracketed,
  expectWorks,
  parentId,
  plain,
  run,
  streams,
  within,
} from "../support/kernel-checks";

const root = join(__dirname, "..", "..");
const T = 30_000;
// Cells import `wirebook/helpers/...` through node_modules/wirebook -> .. (made on npm install).
execFileSync(process.execPath, [join(root, "scripts", "link-self.js")]);

/** An independent iopub subscriber: sees every message the kernel publishes, whoever asked. */
class IopubTap {
  readonly messages: Message[] = [];
  private readonly sock = new zmq.Subscriber();
  private listeners = new Set<() => void>();

  constructor(private readonly client: KernelClient) {
    const signer = new Signer(client.info.key, client.info.signature_scheme);
    this.sock.linger = 0;
    this.sock.connect(endpoint(client.info, client.info.iopub_port));
    this.sock.subscribe();
    void (async () => {
      try {
        for await (const frames of this.sock) {
          this.messages.push(decode(frames as Buffer[], signer));
          for (const l of this.listeners) l();
        }
      } catch {
        // closed
      }
    })();
  }

  /** Waits until the subscription is live (a PUB socket drops messages for late joiners). */
  async ready() {
    for (let i = 0; i < 40; i++) {
      const reply = await this.client.call("shell", "kernel_info_request", {});
      const found = await this.waitFor(
        (m) => parentId(m) === parentId(reply) && m.header.msg_type === "status",
        500,
      ).catch(() => null);
      if (found) return;
    }
    throw new Error("iopub tap never saw a status message");
  }

  byParent(id: string): Message[] {
    return this.messages.filter((m) => parentId(m) === id);
  }

  waitFor(pred: (m: Message) => boolean, ms = 10_000): Promise<Message> {
    const hit = this.messages.find(pred);
    if (hit) return Promise.resolve(hit);
    return within(
      new Promise<Message>((resolve) => {
        const check = () => {
          const m = this.messages.find(pred);
          if (m) {
            this.listeners.delete(check);
            resolve(m);
          }
        };
        this.listeners.add(check);
      }),
      ms,
      "iopub message",
    );
  }

  /** The request's iopub traffic, once its idle status has arrived. */
  async settled(id: string): Promise<Message[]> {
    await this.waitFor(
      (m) => parentId(m) === id && m.header.msg_type === "status" && m.content.execution_state === "idle",
    );
    return this.byParent(id);
  }

  close() {
    this.sock.close();
  }
}

describe("a running kernel process", () => {
  let client: KernelClient;
  let tap: IopubTap;

  beforeAll(async () => {
    client = await KernelClient.start({ cwd: root });
    tap = new IopubTap(client);
    await tap.ready();
  });
  afterAll(async () => {
    tap?.close();
    await client?.shutdown();
  });

  describe("replies through the wire thread", () => {
    it(
      "kernel_info_reply on shell and on control",
      async () => {
        for (const channel of ["shell", "control"] as const) {
          const reply = await client.call(channel, "kernel_info_request", {});
          expect(reply.header.msg_type).toBe("kernel_info_reply");
          expect(reply.content.status).toBe("ok");
          expect(reply.content.protocol_version).toBe("5.3");
          expect(reply.content.implementation).toBe("wirebook");
          expect(reply.content.language_info).toMatchObject({ name: "typescript", file_extension: ".ts" });
          expect(typeof reply.content.banner).toBe("string");
          expectBracketed(await tap.settled(parentId(reply)), parentId(reply));
        }
      },
      T,
    );

    it(
      "interrupt_request on control: interrupt_reply carries status, busy/idle bracket it",
      async () => {
        const reply = await client.call("control", "interrupt_request", {});
        expect(reply.header.msg_type).toBe("interrupt_reply");
        expect(reply.content.status).toBe("ok");
        expectBracketed(await tap.settled(parentId(reply)), parentId(reply));
      },
      T,
    );
  });

  describe("errors from callbacks", () => {
    it(
      "a timer error after its cell finished goes to the last cell's parent and does not kill the kernel",
      async () => {
        const a = await run(
          client,
          [
            "setTimeout(() => {",
            '  throw new Error("after the cell");',
            "}, 300);",
            'setTimeout(() => Promise.reject(new Error("late rejection")), 400);',
            '"a done"',
          ].join("\n"),
        );
        expect(a.reply.status).toBe("ok");
        expect(errors(a)).toEqual([]); // the cell finished before its timers fired
        const thrown = await tap.waitFor((m) => m.header.msg_type === "error" && m.content.evalue === "after the cell");
        const rejected = await tap.waitFor(
          (m) => m.header.msg_type === "error" && m.content.evalue === "late rejection",
        );
        expect(parentId(thrown)).toBe(a.id);
        expect(parentId(rejected)).toBe(a.id);
        expect(thrown.content.ename).toBe("Error");
        expect(Array.isArray(thrown.content.traceback)).toBe(true);
        expect(client.alive).toBe(true);
        expect(await client.heartbeat()).toBe(true);
        await expectWorks(client);
      },
      T,
    );
  });

  describe("HMAC signatures", () => {
    const request = (type: string, content: object = {}) => ({
      identities: [] as Buffer[],
      header: newHeader(type, client.session, "hmac-test"),
      parent_header: {},
      metadata: {},
      content,
    });
    const execContent = (code: string) => ({
      code,
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    });

    it(
      "drops a badly signed message: no reply, no iopub traffic, not run; the kernel carries on",
      async () => {
        const wrong = new Signer(`wrong-${randomUUID()}`, "hmac-sha256");
        const before = await client.execute("0");

        const badInfo = request("kernel_info_request");
        const badExec = request("execute_request", execContent('console.log("BAD SIGNATURE RAN")'));
        const badControl = request("kernel_info_request");
        const unsigned = request("execute_request", execContent('console.log("UNSIGNED RAN")'));
        await client.sendRaw("shell", encode(badInfo, wrong));
        await client.sendRaw("shell", encode(badExec, wrong));
        await client.sendRaw("control", encode(badControl, wrong));
        const unsignedFrames = encode(unsigned, wrong);
        unsignedFrames[1] = Buffer.from(""); // the signature frame after <IDS|MSG>
        await client.sendRaw("shell", unsignedFrames);

        // A correctly signed message sent the same way does get handled (the observation works).
        const good = request("kernel_info_request");
        await client.sendRaw("shell", encode(good, new Signer(client.info.key, client.info.signature_scheme)));
        expectBracketed(await tap.settled(good.header.msg_id), good.header.msg_id);

        await delay(1000);
        for (const m of [badInfo, badExec, badControl, unsigned]) expect(tap.byParent(m.header.msg_id)).toEqual([]);
        const printed = tap.messages.filter(
          (m) => m.header.msg_type === "stream" && /SIGNATURE RAN|UNSIGNED RAN/.test(m.content.text),
        );
        expect(printed).toEqual([]);

        expect(client.alive).toBe(true);
        const after = await client.execute("1 + 1");
        expect(plain(after)).toEqual(["2"]);
        // The dropped execute_requests did not take an execution count.
        expect(after.reply.execution_count).toBe(before.reply.execution_count + 1);
      },
      T,
    );

    it(
      "sends no reply to a badly signed request on its own socket",
      async () => {
        const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 1000 });
        dealer.connect(endpoint(client.info, client.info.shell_port));
        try {
          const bad = request("kernel_info_request");
          await dealer.send(encode(bad, new Signer(`wrong-${randomUUID()}`)));
          await expect(dealer.receive()).rejects.toMatchObject({ code: "EAGAIN" });

          const good = request("kernel_info_request");
          const signer = new Signer(client.info.key, client.info.signature_scheme);
          await dealer.send(encode(good, signer));
          dealer.receiveTimeout = 10_000;
          const reply = decode((await dealer.receive()) as Buffer[], signer);
          expect(reply.header.msg_type).toBe("kernel_info_reply");
          expect(parentId(reply)).toBe(good.header.msg_id);
        } finally {
          dealer.close();
        }
      },
      T,
    );
  });

  describe("comms over the wire", () => {
    it(
      "a comm message's binary buffers arrive as frames after the JSON parts",
      async () => {
        const r = await run(
          client,
          [
            'import { openComm } from "wirebook/helpers";',
            'const wired = openComm("wirebook.wire-test", {});',
            'wired.send({ n: 1 }, { buffers: [Buffer.from([0, 1, 2, 255]), Buffer.from("second")] });',
            "wired.id",
          ].join("\n"),
        );
        const id = String(plain(r)[0]).replace(/'/g, "");
        const msg = await tap.waitFor((m) => m.header.msg_type === "comm_msg" && m.content.comm_id === id);
        expect(msg.content.data).toEqual({ n: 1 });
        expect(msg.buffers.map((b) => [...b])).toEqual([[0, 1, 2, 255], [...Buffer.from("second")]]);
      },
      T,
    );
  });

  describe("output bursts", () => {
    it(
      "a cell printing 20,000 lines of 100 bytes at once: every line arrives, then its reply and idle status",
      async () => {
        const r = await run(
          client,
          'for (let i = 0; i < 20000; i++) console.log(`${i}`.padStart(99, "."));\n"burst done"',
        );
        expect(r.reply.status).toBe("ok");
        const lines = streams(r).trimEnd().split("\n");
        expect(lines).toHaveLength(20000);
        expect(lines[19999]).toBe("19999".padStart(99, "."));
        expect(plain(r)).toEqual(["'burst done'"]);
        expect(r.raw.at(-1)?.content.execution_state).toBe("idle");
      },
      T,
    );
  });

  describe("interrupts and the heartbeat", () => {
    /** Starts a cell and resolves once it is running (its first line has printed). */
    async function startStuck(body: string) {
      let running!: () => void;
      const started = new Promise<void>((r) => (running = r));
      const execution = client.execute(`console.log("cell started");\n${body}`, {
        onIopub: (m) => {
          if (m.header.msg_type === "stream" && String(m.content.text).includes("cell started")) running();
        },
      });
      await within(started, 20_000, "the cell to start");
      return { execution }; // not the bare promise: an async function would wait for it
    }

    const cases: Array<[string, string, "message" | "signal"]> = [
      ["a busy loop", "while (true) {}", "message"],
      ["a busy loop", "while (true) {}", "signal"],
      ["a never-settling await", "await new Promise(() => {});", "message"],
      ["a never-settling await", "await new Promise(() => {});", "signal"],
    ];
    it.each(cases)(
      "stops %s (%s) within 2 s, interrupt by %s",
      async (_what, body, how) => {
        const { execution } = await startStuck(body);
        const sent = Date.now();
        await client.interrupt(how);
        const r = await within(execution, 2000, `interrupt by ${how} to stop the cell`);
        const elapsed = Date.now() - sent;
        expect(elapsed).toBeLessThan(2000);
        expect(r.reply.status).toBe("error");
        expect(r.reply.ename).toBe("Interrupted");
        expect(errors(r).map((e) => e.ename)).toEqual(["Interrupted"]);
        expect(client.alive).toBe(true);
        await expectWorks(client);
      },
      T,
    );

    it(
      "the heartbeat answers while the main thread is stuck in a busy loop",
      async () => {
        expect(await client.heartbeat()).toBe(true);
        const { execution } = await startStuck("while (true) {}");
        // The cell is still running: it has no reply yet.
        const settled = await Promise.race([execution.then(() => true), delay(200).then(() => false)]);
        expect(settled).toBe(false);
        expect(await client.heartbeat(5000)).toBe(true);
        expect(await client.heartbeat(5000)).toBe(true);
        await client.interrupt("message");
        const r = await within(execution, 10_000, "interrupt");
        expect(r.reply.ename).toBe("Interrupted");
        await expectWorks(client);
      },
      T,
    );
  });

  // Last, as they replace and then end the kernel the tests above used (one kernel start less).
  describe("shutdown and restart", () => {
    it(
      "restart gives a fresh kernel without the old variables",
      async () => {
        const set = await client.execute(
          "const restartMarker = 42;\n(globalThis as any).restartGlobal = 7;\nrestartMarker",
        );
        expect(plain(set)).toEqual(["42"]);
        const old = client;
        const oldPid = old.process.pid;
        client = await old.restart();
        expect(old.alive).toBe(false);
        expect(client.process.pid).not.toBe(oldPid);
        expect(client.alive).toBe(true);
        const gone = await client.execute("restartMarker");
        expect(gone.reply.status).toBe("error");
        expect(gone.reply.ename).toBe("TSError");
        expect(gone.reply.evalue).toContain("restartMarker");
        const global = await client.execute("(globalThis as any).restartGlobal");
        expect(global.reply.status).toBe("ok");
        expect(global.outputs).toEqual([]);
        const first = await client.execute("1 + 1");
        expect(first.reply.execution_count).toBe(3);
      },
      T,
    );

    it(
      "shutdown closes the servers and child processes cells opened, and the kernel exits",
      async () => {
        const code = [
          'import { createServer } from "node:net";',
          'import { spawn } from "node:child_process";',
          "const server = createServer((s) => s.end());",
          'await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));',
          'const sleeper = spawn("sleep", ["60"], { stdio: "ignore" });',
          "// A child that ignores SIGTERM (it says so once the trap is set).",
          'const stubborn = spawn("sh", ["-c", "trap \'\' TERM; echo trapped; exec sleep 60"],' +
            ' { stdio: ["ignore", "pipe", "ignore"] });',
          'await new Promise<void>((r) => stubborn.stdout.once("data", () => r()));',
          "console.log(JSON.stringify({ port: (server.address() as any).port, pids: [sleeper.pid, stubborn.pid] }));",
        ].join("\n");
        const r = await client.execute(code);
        expect(r.reply.status).toBe("ok");
        const { port, pids } = JSON.parse(streams(r));
        expect(port).toBeGreaterThan(0);
        expect(pids).toHaveLength(2);
        // All are really there before the shutdown.
        for (const pid of pids) expect(() => process.kill(pid, 0)).not.toThrow();
        expect(await canConnect(port)).toBe(true);

        const kernel = client.process;
        const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
          kernel.exitCode !== null || kernel.signalCode !== null
            ? resolve([kernel.exitCode, kernel.signalCode])
            : kernel.once("exit", (code, signal) => resolve([code, signal])),
        );
        await client.shutdown();
        // Exit code 0 and no signal: the kernel exited by itself after cleaning up, not killed by the
        // wire thread's 3 s deadline (SIGKILL) nor by the client's 4 s grace (SIGKILL).
        expect(await exited).toEqual([0, null]);
        expect(client.alive).toBe(false);
        expect(await canConnect(port)).toBe(false);
        for (const pid of pids) {
          let err: any = null;
          try {
            process.kill(pid, 0);
          } catch (e) {
            err = e;
          }
          expect(err?.code, `child ${pid} still exists after shutdown`).toBe("ESRCH");
        }
        expect(await client.heartbeat(500)).toBe(false);
      },
      T,
    );
  });
});

describe("a cell that calls process.exit", () => {
  it(
    "ends the cell with KernelExit; the kernel closes what cells opened and exits with that code",
    async () => {
      const client = await KernelClient.start({ cwd: root });
      try {
        const opened = await client.execute(
          [
            'import { createServer } from "node:net";',
            "const exitServer = createServer((s) => s.end());",
            'await new Promise<void>((r) => exitServer.listen(0, "127.0.0.1", () => r()));',
            "const exitAddress = exitServer.address();",
            'typeof exitAddress === "object" && exitAddress ? exitAddress.port : 0',
          ].join("\n"),
        );
        const port = Number(plain(opened)[0]);
        expect(await canConnect(port)).toBe(true);
        const kernel = client.process;
        const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
          kernel.once("exit", (code, signal) => resolve([code, signal])),
        );
        const r = await client.execute('console.log("before");\nprocess.exit(3);\nconsole.log("after");');
        expect(r.reply.status).toBe("error");
        expect(r.reply.ename).toBe("KernelExit");
        expect(streams(r)).toBe("before\n");
        expect(await within(exited, 10_000, "the kernel to exit")).toEqual([3, null]);
        expect(await canConnect(port)).toBe(false);
      } finally {
        await client.shutdown();
      }
    },
    T,
  );
});

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
