/**
 * Serving certificates for the Node server: a CA created once in the data dir and a
 * server certificate it signs, reissued when the wanted names change or expiry nears.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import forge from "node-forge";

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

const serial = () => forge.util.bytesToHex(forge.random.getBytesSync(16)).replace(/^[89a-f]/, "1");

/** RSA 2048; forge hands this to Node's native (asynchronous) key generation. */
const generateKeys = () =>
  new Promise<forge.pki.rsa.KeyPair>((resolve, reject) =>
    forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 }, (err, keys) => (err ? reject(err) : resolve(keys))),
  );

/** Whether a PEM private key belongs to a certificate (a crash between writing the two files could part them). */
const keyMatches = (cert: forge.pki.Certificate, keyPem: string): boolean => {
  try {
    const key = forge.pki.privateKeyFromPem(keyPem);
    const pub = cert.publicKey as forge.pki.rsa.PublicKey;
    return pub.n.equals(key.n) && pub.e.equals(key.e);
  } catch {
    return false;
  }
};

const createCa = async () => {
  const keys = await generateKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - DAY);
  cert.validity.notAfter = new Date(Date.now() + 3650 * DAY);
  const attrs = [{ name: "commonName", value: `kubeflare-ca-${Math.floor(Date.now() / 1000)}` }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
};

const issueServer = async (ca: { cert: string; key: string }, sans: string[]) => {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const keys = await generateKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - DAY);
  cert.validity.notAfter = new Date(Date.now() + 365 * DAY);
  cert.setSubject([{ name: "commonName", value: "kubeflare-apiserver" }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: sans.map((s) => (isIP(s) ? { type: 7, ip: s } : { type: 2, value: s })) },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
};

/** The SANs in a certificate, sorted. */
const certSans = (pem: string): string[] => {
  const cert = forge.pki.certificateFromPem(pem);
  const ext = cert.getExtension("subjectAltName") as { altNames?: { type: number; value?: string; ip?: string }[] } | null;
  return (ext?.altNames ?? []).map((a) => (a.type === 7 ? a.ip! : a.value!)).sort();
};

/** One spelling per address, so "::1" and "0:0:0:0:0:0:0:1" compare equal. */
const normalizeIp = (s: string): string => {
  if (isIP(s) !== 6) return s;
  const util = forge.util as unknown as { bytesFromIP(ip: string): string | null; bytesToIP(b: string): string | null };
  const bytes = util.bytesFromIP(s);
  return (bytes && util.bytesToIP(bytes)) || s;
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
      return keyMatches(forge.pki.certificateFromPem(readFileSync(caCrt, "utf8")), readFileSync(caKey, "utf8"));
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
      const pem = readFileSync(srvCrt, "utf8");
      const cert = forge.pki.certificateFromPem(pem);
      return (
        forge.pki.certificateFromPem(ca.cert).verify(cert) &&
        keyMatches(cert, readFileSync(srvKey, "utf8")) &&
        cert.validity.notAfter.getTime() - Date.now() > 30 * DAY &&
        JSON.stringify(certSans(pem).map(normalizeIp).sort()) === JSON.stringify(wanted)
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
