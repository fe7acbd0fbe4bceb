/**
 * Serving certificates for the Node server: a CA created once in the data dir and a
 * server certificate it signs, reissued when the wanted names change or expiry nears.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { certificate, ipBytes, keyPem, name, rsaKeys, subjectOf } from "../agent/x509";

export interface TlsMaterial {
  cert: string;
  key: string;
  ca: string;
  /** the CA's private key (PEM), when the CA is the data dir's own (not with an operator's certificate files) */
  caKey?: string;
}

const DAY = 24 * 60 * 60 * 1000;

const writeSecret = (path: string, text: string) => {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
};

/** Whether a PEM private key belongs to a certificate (a crash between writing the two files could part them). */
const keyMatches = (cert: X509Certificate, keyPem: string): boolean => {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
};

/** RSA 2048 (node:crypto, off the event loop), 10 years. */
const createCa = async () => {
  const keys = await rsaKeys();
  const cert = certificate({
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    subject: name(`kubeflare-ca-${Math.floor(Date.now() / 1000)}`),
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 3650 * DAY),
    ca: true,
  });
  return { cert, key: keyPem(keys.privateKey) };
};

const issueServer = async (ca: { cert: string; key: string }, sans: string[]) => {
  const keys = await rsaKeys();
  const cert = certificate({
    publicKey: keys.publicKey,
    signingKey: createPrivateKey(ca.key),
    subject: name("kubeflare-apiserver"),
    issuer: subjectOf(new X509Certificate(ca.cert).raw),
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 365 * DAY),
    ca: false,
    sans,
  });
  return { cert, key: keyPem(keys.privateKey) };
};

/** The SANs in a certificate (DNS names and IP addresses), sorted. */
const certSans = (cert: X509Certificate): string[] =>
  (cert.subjectAltName ?? "")
    .split(", ")
    .map((s) => /^(?:DNS:|IP Address:)(.*)$/.exec(s)?.[1])
    .filter((s): s is string => !!s)
    .sort();

/** One spelling per address, so "::1" and "0:0:0:0:0:0:0:1" compare equal. */
const normalizeIp = (s: string): string => {
  if (isIP(s) !== 6) return s;
  const b = ipBytes(s)!;
  return Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(":");
};

/**
 * The serving certificate, its key and the CA that clients should trust. With
 * certFile/keyFile the operator's own files are used (and the certificate is the CA to
 * trust). Otherwise `dataDir/tls` keeps a CA (created once, 10 years) and a server
 * certificate it signs (1 year) for localhost, 127.0.0.1, ::1, this host's name and
 * `sans`, reissued when that set changes, it expires within 30 days, or it no longer
 * matches its key or the CA. Private keys are written 0600.
 */
export async function ensureTls(dataDir: string, o: { sans: string[]; certFile?: string; keyFile?: string }): Promise<TlsMaterial> {
  if (o.certFile || o.keyFile) {
    if (!o.certFile || !o.keyFile) throw new Error("--tls-cert-file and --tls-private-key-file go together");
    const cert = readFileSync(o.certFile, "utf8");
    return { cert, key: readFileSync(o.keyFile, "utf8"), ca: cert };
  }
  const dir = join(dataDir, "tls");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caCrt = join(dir, "ca.crt");
  const caKey = join(dir, "ca.key");
  const caUsable = () => {
    try {
      return keyMatches(new X509Certificate(readFileSync(caCrt, "utf8")), readFileSync(caKey, "utf8"));
    } catch {
      return false;
    }
  };
  if (!existsSync(caCrt) || !existsSync(caKey) || !caUsable()) {
    const ca = await createCa();
    writeSecret(caKey, ca.key);
    writeFileSync(caCrt, ca.cert);
  }
  const ca = { cert: readFileSync(caCrt, "utf8"), key: readFileSync(caKey, "utf8") };
  const wanted = [...new Set(["localhost", "127.0.0.1", "::1", hostname(), ...o.sans].filter(Boolean).map(normalizeIp))].sort();
  const srvCrt = join(dir, "server.crt");
  const srvKey = join(dir, "server.key");
  const fresh = (() => {
    if (!existsSync(srvCrt) || !existsSync(srvKey)) return false;
    try {
      const cert = new X509Certificate(readFileSync(srvCrt, "utf8"));
      return (
        cert.verify(new X509Certificate(ca.cert).publicKey) &&
        keyMatches(cert, readFileSync(srvKey, "utf8")) &&
        Date.parse(cert.validTo) - Date.now() > 30 * DAY &&
        JSON.stringify(certSans(cert).map(normalizeIp).sort()) === JSON.stringify(wanted)
      );
    } catch {
      return false; // unreadable: issue a new one
    }
  })();
  if (!fresh) {
    const srv = await issueServer(ca, wanted);
    writeSecret(srvKey, srv.key);
    writeFileSync(srvCrt, srv.cert);
  }
  return { cert: readFileSync(srvCrt, "utf8"), key: readFileSync(srvKey, "utf8"), ca: ca.cert, caKey: ca.key };
}
