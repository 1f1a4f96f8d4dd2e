// Before any test: the helpers' declarations, which kernels check cells against, are rebuilt if a
// helper changed since they were built (kernel/helper-types.ts), so every kernel the tests start,
// through the runner or through Jupyter's own clients, finds them fresh.
import { builtLine, refreshHelperTypes } from "../../kernel/helper-types";

export default function setup() {
  const rebuilt = refreshHelperTypes();
  if (rebuilt) console.log(builtLine(rebuilt));
}
