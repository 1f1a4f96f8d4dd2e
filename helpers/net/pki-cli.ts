// npm run pki -- --out DIR: a local CA for your own experiments (like mkcert).
import { resolve } from "node:path";
import { createLab, writeLabFiles } from "./pki";

const args = process.argv.slice(2);
const at = args.indexOf("--out");
if (at < 0 || !args[at + 1] || args.length !== 2) {
  console.error("usage: npm run pki -- --out DIR");
  process.exit(2);
}
const dir = resolve(args[at + 1]);
const files = writeLabFiles(createLab(), dir);
console.log(`wrote a root CA, an intermediate, server and client certificates to ${dir}:`);
for (const name of Object.keys(files)) console.log(`  ${name}`);
console.log(`check: openssl verify -CAfile ${dir}/root-ca.pem -untrusted ${dir}/intermediate-ca.pem ${dir}/server.pem`);
