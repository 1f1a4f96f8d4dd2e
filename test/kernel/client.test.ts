// KernelClient (kernel/client.ts): start, execute, heartbeat, shutdown, and a kernel that dies.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelClient, KernelDiedError } from "../../kernel/client";
import { isRunning, waitFor } from "../support/process";

/** Resolves to "hung" if `p` has not settled within `ms`, so a hang fails the test instead of timing it out. */
const settledWithin = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p.then(
      (v) => ({ value: v }),
      (e: unknown) => ({ error: e }),
    ),
    new Promise<"hung">((r) => setTimeout(() => r("hung"), ms)),
  ]);

describe("a running kernel", () => {
  let kernel: KernelClient;
  beforeAll(async () => {
    kernel = await KernelClient.start();
  }, 60_000);
  afterAll(async () => {
    await kernel?.shutdown();
  });

  it("starts a live kernel process", () => {
    expect(kernel.alive).toBe(true);
    expect(kernel.process.pid).toBeGreaterThan(0);
    expect(isRunning(kernel.process.pid!)).toBe(true);
  });

  it("answers the heartbeat", async () => {
    expect(await kernel.heartbeat()).toBe(true);
  });

  it("executes code and returns the value as an execute_result", async () => {
    const ex = await kernel.execute("1 + 1");
    expect(ex.timedOut).toBe(false);
    expect(ex.reply.status).toBe("ok");
    expect(ex.reply.execution_count).toBeGreaterThan(0);
    expect(ex.outputs).toEqual([
      {
        output_type: "execute_result",
        execution_count: ex.reply.execution_count,
        data: { "text/plain": "2" },
        metadata: {},
      },
    ]);
  });

  it("collects stdout and stderr as streams, consecutive writes merged", async () => {
    const ex = await kernel.execute('console.log("one"); console.log("two"); console.error("oops");');
    expect(ex.reply.status).toBe("ok");
    expect(ex.outputs).toEqual([
      { output_type: "stream", name: "stdout", text: "one\ntwo\n" },
      { output_type: "stream", name: "stderr", text: "oops\n" },
    ]);
  });

  it("keeps state between executions and counts them", async () => {
    const a = await kernel.execute("let counter = 41;");
    const b = await kernel.execute("counter + 1");
    expect(b.outputs[0]).toMatchObject({ data: { "text/plain": "42" } });
    expect(b.reply.execution_count).toBe(a.reply.execution_count + 1);
  });

  it("waits for output written after an await", async () => {
    const ex = await kernel.execute('await new Promise((r) => setTimeout(r, 200)); console.log("late");');
    expect(ex.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "late\n" }]);
  });

  it("reports an exception as an error reply and an error output", async () => {
    const ex = await kernel.execute('throw new RangeError("boom")');
    expect(ex.reply).toMatchObject({ status: "error", ename: "RangeError", evalue: "boom" });
    expect(ex.outputs).toHaveLength(1);
    expect(ex.outputs[0]).toMatchObject({ output_type: "error", ename: "RangeError", evalue: "boom" });
    // The kernel is still usable.
    expect((await kernel.execute("2 * 3")).outputs[0]).toMatchObject({ data: { "text/plain": "6" } });
  });

  it("interrupts a cell that passes timeoutMs, and stays usable", async () => {
    const ex = await kernel.execute("while (true) {}", { timeoutMs: 1500 });
    expect(ex.timedOut).toBe(true);
    expect(ex.reply.status).toBe("error");
    expect(ex.reply.ename).toBe("Interrupted");
    const pending = await kernel.execute("await new Promise(() => {})", { timeoutMs: 1500 });
    expect(pending.timedOut).toBe(true);
    expect(pending.reply.status).toBe("error");
    expect((await kernel.execute('"still here"')).outputs[0]).toMatchObject({ data: { "text/plain": "'still here'" } });
    expect(await kernel.heartbeat()).toBe(true);
  });
});

describe("shutdown", () => {
  it("stops the kernel process; execute afterwards rejects with KernelDiedError", async () => {
    const kernel = await KernelClient.start();
    const pid = kernel.process.pid!;
    await kernel.shutdown();
    expect(kernel.alive).toBe(false);
    expect(isRunning(pid)).toBe(false);
    expect(kernel.process.exitCode).toBe(0); // it exited by itself, not by SIGKILL
    await expect(kernel.execute("1")).rejects.toBeInstanceOf(KernelDiedError);
    await kernel.shutdown(); // a second shutdown is harmless
  }, 60_000);
});

describe("a kernel that dies", () => {
  let kernel: KernelClient;
  beforeAll(async () => {
    kernel = await KernelClient.start();
  }, 60_000);
  afterAll(async () => {
    await kernel?.shutdown();
  });

  it("makes a pending execute reject with KernelDiedError instead of hanging", async () => {
    let busy!: () => void;
    const running = new Promise<void>((r) => (busy = r));
    const ex = kernel.execute('console.log("started"); await new Promise((r) => setTimeout(r, 120_000));', {
      onIopub: (m) => {
        if (m.header.msg_type === "stream") busy();
      },
    });
    await running;
    process.kill(kernel.process.pid!, "SIGKILL");
    const outcome = await settledWithin(ex, 15_000);
    expect(outcome).not.toBe("hung");
    expect((outcome as { error: unknown }).error).toBeInstanceOf(KernelDiedError);
    expect(String((outcome as { error: Error }).error.message)).toMatch(/SIGKILL/);
    expect(kernel.alive).toBe(false);
  });

  it("then rejects new executes with KernelDiedError, and shuts down promptly", async () => {
    const outcome = await settledWithin(kernel.execute("1 + 1"), 10_000);
    expect(outcome).not.toBe("hung");
    expect((outcome as { error: unknown }).error).toBeInstanceOf(KernelDiedError);
    expect(await settledWithin(kernel.shutdown(), 10_000)).not.toBe("hung");
    expect(await waitFor(() => !isRunning(kernel.process.pid!), 5000)).toBe(true);
  });
});
