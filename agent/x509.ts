/**
 * The few X.509 certificates the Node processes make themselves (the data dir's CA and
 * the server certificate it signs, node/tls.ts; the ingress proxy's fake certificate,
 * agent/ingress/fakecert.ts): RSA keys and signatures from node:crypto, the
 * certificate's DER written here. A certificate library (node-forge: ~0.4 MB of source,
 * held in memory as long as the process runs) is not loaded for them (issue #14, goal 5).
 * Reading certificates is node:crypto's X509Certificate.
 */
import { createHash, createPublicKey, generateKeyPair, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { isIP } from "node:net";

// ---------------------------------------------------------------- DER

const length = (n: number): number[] => {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
};
const tlv = (tag: number, ...parts: Uint8Array[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag, ...length(body.length)]), body]);
};
const seq = (...parts: Uint8Array[]) => tlv(0x30, ...parts);
const oid = (dotted: string): Buffer => {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const base128 = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) base128.unshift((v & 0x7f) | 0x80);
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
};
/** a non-negative INTEGER from its big-endian bytes */
const integer = (bytes: Uint8Array): Buffer => {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const v = bytes.subarray(i);
  return tlv(0x02, v[0] & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
};
const TRUE = Buffer.from([0x01, 0x01, 0xff]);
const NULL = Buffer.from([0x05, 0x00]);
const octets = (b: Uint8Array) => tlv(0x04, b);
const bits = (b: Uint8Array, unused = 0) => tlv(0x03, Buffer.from([unused]), b);
/** UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5), whole seconds */
const time = (d: Date): Buffer => {
  const s = d
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/[-:T]/g, "");
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(s.slice(2))) : tlv(0x18, Buffer.from(s));
};

/** one TLV of `der` at `at`: its tag, where its contents start and end */
const read = (der: Uint8Array, at: number) => {
  const tag = der[at];
  let len = der[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i];
    start += n;
  }
  return { tag, start, end: start + len };
};

/** The subject Name of a DER certificate, as it is encoded there (what an issued certificate's issuer must be, byte for byte). */
export const subjectOf = (certDer: Uint8Array): Buffer => {
  const tbs = read(certDer, read(certDer, 0).start);
  let at = tbs.start;
  if (read(certDer, at).tag === 0xa0) at = read(certDer, at).end; // [0] version
  for (let i = 0; i < 4; i++) at = read(certDer, at).end; // serialNumber, signature, issuer, validity
  return Buffer.from(certDer.subarray(at, read(certDer, at).end));
};

// ---------------------------------------------------------------- certificates

const OID = {
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  subjectKeyIdentifier: "2.5.29.14",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  sha256WithRSA: "1.2.840.113549.1.1.11",
};

/** A Name of an organization (optional) and a common name, UTF8String values. */
export const name = (commonName: string, organization?: string): Buffer =>
  seq(
    ...(organization ? [tlv(0x31, seq(oid(OID.organization), tlv(0x0c, Buffer.from(organization))))] : []),
    tlv(0x31, seq(oid(OID.commonName), tlv(0x0c, Buffer.from(commonName)))),
  );

/** An IP address's bytes: 4 for IPv4, 16 for IPv6 (also what its SAN holds); undefined when it is none. */
export const ipBytes = (ip: string): Buffer | undefined => {
  const v = isIP(ip);
  if (v === 4) return Buffer.from(ip.split(".").map(Number));
  if (v !== 6) return undefined;
  let s = ip.replace(/%.*$/, "");
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = ipBytes(v4[1])!;
    s = `${s.slice(0, -v4[1].length)}${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  return out;
};

export interface CertificateSpec {
  /** the certificate's public key, and the key that signs it (the same for a self-signed one); RSA */
  publicKey: KeyObject;
  signingKey: KeyObject;
  subject: Buffer;
  /** the issuer's Name (subjectOf the CA's certificate); the subject when self-signed */
  issuer?: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** a CA (basicConstraints cA, critical; keyCertSign, cRLSign, digitalSignature; a subject key identifier) or a TLS server (serverAuth) */
  ca: boolean;
  /** DNS names and IP addresses (subjectAltName), a server's */
  sans?: string[];
}

/** A certificate (PEM), X.509 v3, sha256WithRSAEncryption, a random 16-byte serial number. */
export const certificate = (o: CertificateSpec): string => {
  const spki = o.publicKey.export({ type: "spki", format: "der" });
  const ext = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [TRUE] : []), octets(value));
  const extensions = o.ca
    ? [
        ext(OID.basicConstraints, true, seq(TRUE)),
        // digitalSignature (0), keyCertSign (5), cRLSign (6)
        ext(OID.keyUsage, true, bits(Buffer.from([0x86]), 1)),
        // the SHA-1 of the key's BIT STRING (RFC 5280 4.2.1.2, method 1)
        ext(OID.subjectKeyIdentifier, false, octets(createHash("sha1").update(spkiKeyBits(spki)).digest())),
      ]
    : [
        ext(OID.basicConstraints, false, seq()),
        // digitalSignature (0), keyEncipherment (2)
        ext(OID.keyUsage, true, bits(Buffer.from([0xa0]), 5)),
        ext(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
        ...(o.sans?.length ? [ext(OID.subjectAltName, false, seq(...o.sans.map((s) => (isIP(s) ? tlv(0x87, ipBytes(s)!) : tlv(0x82, Buffer.from(s))))))] : []),
      ];
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x10; // positive, and no shorter than 16 bytes
  const algorithm = seq(oid(OID.sha256WithRSA), NULL);
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))), // v3
    integer(serial),
    algorithm,
    o.issuer ?? o.subject,
    seq(time(o.notBefore), time(o.notAfter)),
    o.subject,
    spki,
    tlv(0xa3, seq(...extensions)),
  );
  const der = seq(tbs, algorithm, bits(sign("sha256", tbs, o.signingKey)));
  return `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{1,64}/g, "$&\n")}-----END CERTIFICATE-----\n`;
};

/** the subjectPublicKey BIT STRING's contents (without its unused-bits byte) of a DER SubjectPublicKeyInfo */
const spkiKeyBits = (spki: Buffer): Buffer => {
  const outer = read(spki, 0);
  const bitString = read(spki, read(spki, outer.start).end); // after the AlgorithmIdentifier
  return spki.subarray(bitString.start + 1, bitString.end);
};

/** An RSA 2048 key pair, generated off the event loop. */
export const rsaKeys = (): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> =>
  new Promise((resolve, reject) =>
    generateKeyPair("rsa", { modulusLength: 2048, publicExponent: 0x10001 }, (err, publicKey, privateKey) =>
      err ? reject(err) : resolve({ publicKey, privateKey }),
    ),
  );
/** The same, synchronously. */
export const rsaKeysSync = () => generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent: 0x10001 });

/** A private key as PEM (PKCS#1 "RSA PRIVATE KEY" for RSA, as before). */
export const keyPem = (k: KeyObject): string => k.export({ type: "pkcs1", format: "pem" }) as string;

/** The public key of a private key (PEM or KeyObject). */
export const publicOf = (k: KeyObject | string) => createPublicKey(k);
