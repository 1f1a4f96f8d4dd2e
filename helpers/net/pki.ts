// A small certificate authority for the TLS notebooks: a root CA, an intermediate, server and
// client leaves, built with node-forge. RSA keys come from node:crypto (much faster than forge's
// JavaScript keygen) and are cached per process, so re-running a cell does not wait for keys.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import forge from "node-forge";
import { onShutdown } from "../../kernel/runtime";

const { pki } = forge;
const DAY_MS = 86_400_000;

export interface Issued {
  /** Common name of the subject. */
  name: string;
  cert: forge.pki.Certificate;
  certPem: string;
  keyPem: string;
  /** The issuer, or null for a self-signed root. */
  issuer: Issued | null;
}

export interface Validity {
  notBefore?: Date;
  notAfter?: Date;
}

/** The private key behind each issued certificate, for signing what it issues. */
const signingKeys = new WeakMap<Issued, forge.pki.rsa.PrivateKey>();
const keyCache = new Map<
  string,
  { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string }
>();

/** An RSA key for `label`, generated once per process. */
export function rsaKey(label: string, bits = 2048) {
  const cacheKey = `${label}/${bits}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: bits,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const forgeKey = pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
    key = { privateKey: forgeKey, publicKey: pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem: privateKey };
    keyCache.set(cacheKey, key);
  }
  return key;
}

/** A positive serial number of 16 random bytes (RFC 5280 allows up to 20). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f; // keep it positive in DER
  bytes[0] |= 0x01; // and without a leading zero byte
  return bytes.toString("hex");
}

function issue(options: {
  name: string;
  keyLabel: string;
  issuer: Issued | null;
  validity?: Validity;
  extensions: any[];
}): Issued {
  const key = rsaKey(options.keyLabel);
  const cert = pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = serialNumber();
  const now = Date.now();
  // An hour back, for clock skew.
  cert.validity.notBefore = options.validity?.notBefore ?? new Date(now - 60 * 60 * 1000);
  cert.validity.notAfter = options.validity?.notAfter ?? new Date(now + 30 * DAY_MS);
  const subject = [
    { name: "commonName", value: options.name },
    { name: "organizationName", value: "wirebook lab" },
  ];
  cert.setSubject(subject);
  cert.setIssuer(options.issuer ? options.issuer.cert.subject.attributes : subject);
  const signingKey = options.issuer ? signingKeys.get(options.issuer)! : key.privateKey;
  const keyIds = [{ name: "subjectKeyIdentifier" }];
  if (options.issuer)
    keyIds.push({
      name: "authorityKeyIdentifier",
      keyIdentifier: options.issuer.cert.generateSubjectKeyIdentifier().getBytes(),
    } as any);
  cert.setExtensions([...options.extensions, ...keyIds]);
  cert.sign(signingKey, forge.md.sha256.create());
  const issued: Issued = {
    name: options.name,
    cert,
    certPem: pki.certificateToPem(cert),
    keyPem: key.pem,
    issuer: options.issuer,
  };
  signingKeys.set(issued, key.privateKey);
  return issued;
}

/** A self-signed root: CA, allowed to sign certificates and CRLs. */
export function createRootCA(name = "wirebook Root CA", validity?: Validity): Issued {
  return issue({
    name,
    keyLabel: name,
    issuer: null,
    validity: validity ?? { notAfter: new Date(Date.now() + 365 * DAY_MS) },
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
}

/** An intermediate CA that may sign leaves only (pathLen 0). */
export function createIntermediateCA(issuer: Issued, name = "wirebook Intermediate CA", validity?: Validity): Issued {
  return issue({
    name,
    keyLabel: name,
    issuer,
    validity: validity ?? { notAfter: new Date(Date.now() + 180 * DAY_MS) },
    extensions: [
      { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
}

export interface LeafOptions extends Validity {
  dnsNames?: string[];
  ips?: string[];
}

/** A TLS server certificate: SAN DNS localhost and IP 127.0.0.1 unless told otherwise, EKU serverAuth. */
export function createServerCert(issuer: Issued, name = "localhost", options: LeafOptions = {}): Issued {
  const altNames = [
    ...(options.dnsNames ?? ["localhost"]).map((value) => ({ type: 2, value })),
    ...(options.ips ?? ["127.0.0.1"]).map((ip) => ({ type: 7, ip })),
  ];
  return issue({
    name,
    keyLabel: `server:${name}`,
    issuer,
    validity: options,
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames },
    ],
  });
}

/** A TLS client certificate (EKU clientAuth), the identity in mutual TLS. `keyLabel` picks
 *  another key than the name's own (an impostor's certificate for the same name). */
export function createClientCert(issuer: Issued, name: string, options: Validity & { keyLabel?: string } = {}): Issued {
  return issue({
    name,
    keyLabel: options.keyLabel ?? `client:${name}`,
    issuer,
    validity: options,
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, critical: true },
      { name: "extKeyUsage", clientAuth: true },
    ],
  });
}

/** PEM of a certificate followed by its issuers up to (not including) the root: what a server sends. */
export function chainPem(leaf: Issued): string {
  const parts: string[] = [];
  for (let c: Issued | null = leaf; c && c.issuer; c = c.issuer) parts.push(c.certPem);
  return parts.join("");
}

/** The standard lab set: root → intermediate → server, client, and an expired server. */
export function createLab() {
  const root = createRootCA();
  const intermediate = createIntermediateCA(root);
  const server = createServerCert(intermediate);
  const client = createClientCert(intermediate, "alice");
  const expiredServer = createServerCert(intermediate, "localhost", {
    notBefore: new Date(Date.now() - 60 * DAY_MS),
    notAfter: new Date(Date.now() - 30 * DAY_MS),
  });
  return { root, intermediate, server, client, expiredServer };
}
export type Lab = ReturnType<typeof createLab>;

/** The lab's files, as `npm run pki` writes them. Private keys get mode 0600. */
export function writeLabFiles(lab: Lab, dir: string): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, [string, number]> = {
    "root-ca.pem": [lab.root.certPem, 0o644],
    "intermediate-ca.pem": [lab.intermediate.certPem, 0o644],
    "server.pem": [lab.server.certPem, 0o644],
    "server-chain.pem": [chainPem(lab.server), 0o644],
    "server-key.pem": [lab.server.keyPem, 0o600],
    "client.pem": [lab.client.certPem, 0o644],
    "client-key.pem": [lab.client.keyPem, 0o600],
    "expired-server.pem": [lab.expiredServer.certPem, 0o644],
  };
  const paths: Record<string, string> = {};
  for (const [name, [content, mode]] of Object.entries(files)) {
    const path = join(dir, name);
    writeFileSync(path, content, { mode });
    chmodSync(path, mode); // an existing file keeps its old mode otherwise
    paths[name] = path;
  }
  return paths;
}

/** The lab's files in a fresh temp dir, removed at kernel shutdown or by the returned `remove()`. */
export function labFilesInTempDir(lab: Lab): {
  dir: string;
  files: Record<string, string>;
  remove: () => Promise<void>;
} {
  const dir = mkdtempSync(join(tmpdir(), "wirebook-pki-"));
  const files = writeLabFiles(lab, dir);
  const remove = onShutdown(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, files, remove };
}
