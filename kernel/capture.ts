// What the kernel takes over in the process that hosts it: writes to stdout and stderr become
// stream outputs of the running (or last) cell, and an error no cell awaited (a timer that throws,
// a rejection nobody handles) becomes an error output instead of ending the process. The kernel
// process (kernel/main.ts) installs this for its whole life; an in-process test installs it for
// its own duration and then restores what was there.
import { Console } from "node:console";
import type { Kernel } from "./kernel";

export interface CaptureOptions {
  /** Also point the global console at the captured streams, for a host that replaced the console
   *  with its own (vitest does), so that a cell's console.log still reaches the kernel. */
  console?: boolean;
}

type Write = NodeJS.WriteStream["write"];

/** Installs the capture; returns a function that restores the streams, listeners and console. */
export function captureProcess(kernel: Pick<Kernel, "write" | "reportError">, options: CaptureOptions = {}) {
  const restore: Array<() => void> = [];
  for (const name of ["stdout", "stderr"] as const) {
    const stream = process[name];
    const original = stream.write;
    const passThrough = original.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = function (chunk: string | Uint8Array, ...rest: unknown[]): boolean {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      if (!kernel.write(name, text)) return passThrough(chunk, ...rest);
      rest.find((a): a is () => void => typeof a === "function")?.(); // the write callback
      return true;
    } as Write;
    restore.push(() => (stream.write = original));
  }
  const onError = (e: unknown) => kernel.reportError(e);
  process.on("uncaughtException", onError);
  process.on("unhandledRejection", onError);
  restore.push(() => {
    process.off("uncaughtException", onError);
    process.off("unhandledRejection", onError);
  });
  if (options.console) {
    // A test runner may have replaced the console's methods: point them at the captured streams.
    const ours = new Console({ stdout: process.stdout, stderr: process.stderr });
    for (const method of ["log", "info", "warn", "error", "debug", "dir", "table"] as const) {
      const previous = console[method];
      Object.assign(console, { [method]: ours[method].bind(ours) });
      restore.push(() => Object.assign(console, { [method]: previous }));
    }
  }
  return () => {
    for (const undo of restore.splice(0).reverse()) undo();
  };
}
