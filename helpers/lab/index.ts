// The namespace lab, as notebooks import it (`import { startLab } from "wirebook/helpers/lab"`):
// a small network of Linux network namespaces — hosts, routers, links with addresses, MTUs, rate
// limits and loss — built in a few lines, with helper functions run inside its hosts. The work
// is done by topology.ts (building and tearing down), access.ts (root, a user namespace, or
// none), cleanup.ts (what a crashed kernel left behind) and os/remote.ts (code inside a host).
export { labAccess, type LabAccess } from "./access";
export { LabError, staleNamespaces } from "./cleanup";
export { Lab, LabHost, startLab, type HostSpec, type Interface, type LabSpec, type LinkSpec } from "./topology";
