// kernel_info_reply content, the same on shell and control.
import { PROTOCOL_VERSION } from "./protocol";

const tsVersion: string = require("@tslab/typescript-for-tslab/package.json").version;
const ownVersion: string = require("../package.json").version;

export const KERNEL_NAME = "wirebook";
export const DISPLAY_NAME = "TypeScript (wirebook)";

export const kernelInfo = {
  status: "ok",
  protocol_version: PROTOCOL_VERSION,
  implementation: "wirebook",
  implementation_version: ownVersion,
  language_info: {
    name: "typescript",
    version: tsVersion,
    mimetype: "text/typescript",
    file_extension: ".ts",
    codemirror_mode: { name: "javascript", typescript: true },
    pygments_lexer: "typescript",
  },
  banner: `wirebook ${ownVersion}: TypeScript ${tsVersion} on Node.js ${process.version} (tslab)`,
  help_links: [],
  debugger: false,
};
