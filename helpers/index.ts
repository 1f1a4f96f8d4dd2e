// What a notebook imports most: `import { table, ms, serve, closeEverything } from "wirebook/helpers"`.
// The small public surface of the helpers, one name for each thing a learner uses in many
// notebooks; everything else is imported from its own module (helpers/README.md is the map).
export { CellSkipped, cellSignal, closeEverything, onShutdown } from "../kernel/runtime";
export { openComm, registerCommTarget, type Comm, type CommMessage } from "../kernel/runtime";
export { hasProgram, needProgram } from "./os/programs";
export { tshark, tsharkProblemCount } from "./os/tshark";
export { serve, type Served } from "./net/serve";
export { nowMs, sleep } from "./os/time";
export { bitRate, computed, gbps, kpps, mbps, mib, ms } from "./measure/units";
export { percentile, summarize, timed, type Summary } from "./measure/stats";
export { clearOutput, display, displayBundle, liveDisplay, type LiveDisplay } from "./view/display";
export { table, Table } from "./view/table";
export { say } from "./view/wrap";
export { attempt, claim, claimEqual, ClaimFailed, failureOf, type Attempt, type Failure } from "./view/claim";
