// The wire thread: owns every zmq socket so heartbeats, interrupts and shutdowns are answered
// even while the main thread is stuck in a busy cell. Shell requests go to the main thread.
import { parentPort, workerData } from "node:worker_threads";
import * as zmq from "zeromq";
import { endpoint, readConnectionFile } from "./connection";
import { kernelInfo } from "./kernel-info";
import { child, decode, encode, frame, Message, ProtocolError, serialSender, Signer } from "./protocol";
import type { ToMain, ToWire } from "./threads";

const port = parentPort!;
const info = readConnectionFile(workerData.connectionFile as string);
const signer = new Signer(info.key, info.signature_scheme);
const log = (line: string) => process.stderr.write(`[wirebook] ${line}\n`);

const shell = new zmq.Router();
const control = new zmq.Router();
const stdin = new zmq.Router();
// No high-water mark on iopub: a publisher drops what passes it, and a cell that prints a lot
// would lose its last outputs, its error and the idle status (a cell's output is bounded by the
// kernel's output limit instead, kernel/kernel.ts).
const iopub = new zmq.Publisher({ sendHighWaterMark: 0 });
const heartbeat = new zmq.Reply();
for (const s of [shell, control, stdin, iopub, heartbeat]) s.linger = 1000;

const sendOn = {
  shell: serialSender((f) => shell.send(f)),
  control: serialSender((f) => control.send(f)),
  iopub: serialSender((f) => iopub.send(f)),
};
const toMain = (m: ToMain) => port.postMessage(m);

function publishStatus(parent: Message, state: "busy" | "idle") {
  return sendOn.iopub(encode(child(parent, "status", { execution_state: state }, [Buffer.from("status")]), signer));
}

/** Yields verified messages; a bad one is logged and dropped, never fatal. */
async function* messages(sock: zmq.Router): AsyncGenerator<Message> {
  for await (const frames of sock) {
    try {
      yield decode(frames as Buffer[], signer);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      log(e.message);
    }
  }
}

let cleanedUp: (() => void) | null = null;

async function handleControl(msg: Message) {
  const reply = (type: string, content: object) => sendOn.control(encode(child(msg, type, content), signer));
  await publishStatus(msg, "busy");
  switch (msg.header.msg_type) {
    case "kernel_info_request":
      await reply("kernel_info_reply", kernelInfo);
      break;
    case "interrupt_request":
      // The same path as a signal: breaks a synchronous loop (vm breakOnSigint) or a pending await.
      process.kill(process.pid, "SIGINT");
      await reply("interrupt_reply", { status: "ok" });
      break;
    case "shutdown_request": {
      const clean = await mainCleanedUp();
      await reply("shutdown_reply", { status: "ok", restart: Boolean(msg.content.restart) });
      await publishStatus(msg, "idle");
      await endProcess(clean);
      return;
    }
    default:
      log(`ignored ${msg.header.msg_type} on control`);
  }
  await publishStatus(msg, "idle");
}

/** Asks the main thread to close what cells opened; false if it is stuck and did not answer. */
function mainCleanedUp(): Promise<boolean> {
  process.kill(process.pid, "SIGINT"); // a busy cell must stop before main can clean up
  const done = new Promise<boolean>((resolve) => {
    cleanedUp = () => resolve(true);
    setTimeout(() => resolve(false), 3000).unref();
  });
  toMain({ kind: "shutdown" });
  return done;
}

async function endProcess(clean: boolean) {
  for (const s of [shell, control, stdin, iopub, heartbeat]) s.close();
  if (clean) toMain({ kind: "exit" });
  else process.kill(process.pid, "SIGKILL");
}

port.on("message", (m: ToWire) => {
  if (m.kind === "send") {
    const frames = frame(
      m.msg.identities,
      m.msg.parts,
      signer,
      m.msg.buffers?.map((b) => Buffer.from(b)),
    );
    sendOn[m.channel](frames).catch((e) => log(`send failed: ${e.message}`));
  } else if (m.kind === "cleaned-up") {
    cleanedUp?.();
  } else if (m.kind === "close") {
    // Main is ending the process (a cell called process.exit): the sockets close first, since
    // exiting with zmq sockets open aborts the process.
    for (const s of [shell, control, stdin, iopub, heartbeat]) s.close();
    toMain({ kind: "exit", code: m.code });
  }
});

async function main() {
  await Promise.all([
    shell.bind(endpoint(info, info.shell_port)),
    control.bind(endpoint(info, info.control_port)),
    stdin.bind(endpoint(info, info.stdin_port)),
    iopub.bind(endpoint(info, info.iopub_port)),
    heartbeat.bind(endpoint(info, info.hb_port)),
  ]);
  toMain({ kind: "bound" });
  void (async () => {
    for await (const ping of heartbeat) await heartbeat.send(ping);
  })().catch(() => {});
  void (async () => {
    for await (const _ of stdin) log("input requests are not supported; stdin message ignored");
  })().catch(() => {});
  void (async () => {
    for await (const msg of messages(control)) await handleControl(msg);
  })().catch((e) => log(`control loop ended: ${e.message}`));
  for await (const msg of messages(shell)) toMain({ kind: "shell", msg });
}

// An orphaned kernel (its launcher died, e.g. a killed runner) shuts itself down, as ipykernel's
// parent poller does. This thread polls because it stays free while a cell keeps main busy.
const launcher = process.ppid;
const orphanPoll = setInterval(() => {
  if (process.ppid === launcher) return;
  clearInterval(orphanPoll);
  log("launcher exited; shutting down");
  void mainCleanedUp().then(endProcess);
}, 1000);
orphanPoll.unref();

main().catch((e) => {
  if (e?.code !== "EAGAIN" && !/closed/i.test(String(e?.message))) log(`wire thread failed: ${e.stack ?? e}`);
});
