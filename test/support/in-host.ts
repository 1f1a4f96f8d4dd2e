// Calling helper functions inside a lab host from a test: vitest loads modules its own way, so
// the host's agent is given the helper's file, and `inHost<typeof mod>(file)` types the calls.
import { join } from "node:path";
import type { LabHost } from "../../helpers/lab";
import type { Args } from "../../helpers/os/remote";

/** The file of a helper module, e.g. helperFile("net/services"). */
export const helperFile = (name: string) => join(__dirname, "..", "..", "helpers", `${name}.ts`);

/** A typed caller of module M's functions in a host: `inServices(lab.host("b"), "udpServer", 7)`. */
export const inHost =
  <M extends object>(file: string) =>
  <K extends keyof M & string>(host: LabHost, fn: K, ...args: Args<M, K>) =>
    host.run<M, K>(file, fn, ...args);
