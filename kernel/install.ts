// The kernelspec installer's command line (kernel/kernelspec.ts does the work):
// npm run kernel:install -- [--user | --prefix DIR | --sys-prefix] [--remove]
import { installKernelSpec, removeKernelSpec, type InstallTarget } from "./kernelspec";

const USAGE = "usage: npm run kernel:install -- [--user | --prefix DIR | --sys-prefix] [--remove]";

function parse(args: string[]): { target: InstallTarget; remove: boolean } {
  let target: InstallTarget = { kind: "user" };
  let remove = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--user") target = { kind: "user" };
    else if (a === "--sys-prefix") target = { kind: "sys-prefix" };
    else if (a === "--prefix" && args[i + 1]) target = { kind: "prefix", dir: args[++i] };
    else if (a.startsWith("--prefix=")) target = { kind: "prefix", dir: a.slice("--prefix=".length) };
    else if (a === "--remove") remove = true;
    else throw new Error(`unknown argument ${a} (${USAGE})`); // one line, like every other error here
  }
  return { target, remove };
}

try {
  const { target, remove } = parse(process.argv.slice(2));
  const dir = remove ? removeKernelSpec(target) : installKernelSpec(target);
  console.log(remove ? `removed kernelspec ${dir}` : `installed kernelspec "wirebook" in ${dir}`);
} catch (e) {
  console.error(`kernel:install: ${(e as Error).message}`);
  process.exit(2);
}
