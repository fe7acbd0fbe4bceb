/**
 * X.509 on WebCrypto (pkijs), the same code on Workers and on Node: the cluster CA
 * (ECDSA P-256, self-signed, 10 years) and the serving certificates it issues to nodes
 * for the `kubernetes` Service relay. A CA made elsewhere (the Node server's RSA CA in
 * its data dir) signs as well: its PKCS#8 key is imported for the algorithm its
 * certificate names.
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

/** A CA: its certificate (PEM) and its private key (PKCS#8 PEM). */
export interface CaMaterial {
  cert: string;
  key: string;
}

const DAY = 86_400_000;
/** certificates keep whole seconds (UTCTime) */
const seconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
const OID = {
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  subjectKeyIdentifier: "2.5.29.14",
  authorityKeyIdentifier: "2.5.29.35",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  ecPublicKey: "1.2.840.10045.2.1",
  rsaEncryption: "1.2.840.113549.1.1.1",
  p256: "1.2.840.10045.3.1.7",
  p384: "1.3.132.0.34",
};

const b64encode = (bytes: Uint8Array) => {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
};

/** The DER inside the first PEM block labelled `label`; throws when there is none. */
export const pemToDer = (pem: string, label: string): ArrayBuffer => {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
  if (!m) throw new Error(`no ${label} PEM block`);
  const bin = atob(m[1].replace(/\s+/g, ""));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
};

export const derToPem = (der: ArrayBuffer, label: string): string => {
  const text = b64encode(new Uint8Array(der));
  return `-----BEGIN ${label}-----\n${text.replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`;
};

const name = (cn: string, o?: string) => {
  const rdn = new pkijs.RelativeDistinguishedNames();
  if (o) rdn.typesAndValues.push(new pkijs.AttributeTypeAndValue({ type: OID.organization, value: new asn1js.Utf8String({ value: o }) }));
  rdn.typesAndValues.push(new pkijs.AttributeTypeAndValue({ type: OID.commonName, value: new asn1js.Utf8String({ value: cn }) }));
  return rdn;
};

const serial = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f; // positive
  bytes[0] |= 0x10; // and no shorter than 16 bytes
  return new asn1js.Integer({ valueHex: bytes.buffer });
};

const ext = (extnID: string, critical: boolean, value: { toSchema(): asn1js.AsnType } | asn1js.AsnType) =>
  new pkijs.Extension({
    extnID,
    critical,
    extnValue: ("toSchema" in value ? value.toSchema() : value).toBER(false),
  });

/** keyUsage bits (RFC 5280 4.2.1.3): digitalSignature 0, keyEncipherment 2, keyCertSign 5, cRLSign 6 */
const keyUsage = (bits: number[]) => {
  let v = 0;
  for (const b of bits) v |= 0x80 >> b;
  const last = Math.max(...bits);
  return new asn1js.BitString({ valueHex: new Uint8Array([v]).buffer, unusedBits: 7 - last });
};

const keyId = async (spki: pkijs.PublicKeyInfo) =>
  new Uint8Array(await crypto.subtle.digest("SHA-1", new Uint8Array(spki.subjectPublicKey.valueBlock.valueHexView))).slice(0, 20);

/** The WebCrypto algorithm for a key of this SubjectPublicKeyInfo. */
const algorithmOf = (spki: pkijs.PublicKeyInfo): EcKeyImportParams | RsaHashedImportParams => {
  const oid = spki.algorithm.algorithmId;
  if (oid === OID.rsaEncryption) return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  if (oid === OID.ecPublicKey) {
    const curve = (spki.algorithm.algorithmParams as asn1js.ObjectIdentifier | undefined)?.valueBlock?.toString();
    if (curve === OID.p256) return { name: "ECDSA", namedCurve: "P-256" };
    if (curve === OID.p384) return { name: "ECDSA", namedCurve: "P-384" };
  }
  throw new Error("unsupported key: RSA or ECDSA P-256/P-384 only");
};

/** A new cluster CA: ECDSA P-256, self-signed, valid 10 years from a day ago. */
export async function createCa(commonName: string, now = new Date()): Promise<CaMaterial> {
  const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = serial();
  cert.subject = name(commonName);
  cert.issuer = name(commonName);
  cert.notBefore.value = seconds(now.getTime() - DAY);
  cert.notAfter.value = seconds(now.getTime() + 3650 * DAY);
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey);
  cert.extensions = [
    ext(OID.basicConstraints, true, new pkijs.BasicConstraints({ cA: true })),
    ext(OID.keyUsage, true, keyUsage([0, 5, 6])),
    ext(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: (await keyId(cert.subjectPublicKeyInfo)).buffer })),
  ];
  await cert.sign(keys.privateKey, "SHA-256");
  const pkcs8 = (await crypto.subtle.exportKey("pkcs8", keys.privateKey)) as ArrayBuffer;
  return { cert: derToPem(cert.toSchema(true).toBER(false), "CERTIFICATE"), key: derToPem(pkcs8, "PRIVATE KEY") };
}

/** The public key in a PEM SubjectPublicKeyInfo, checked: RSA of 2048 bits or more, or ECDSA P-256/P-384. */
export async function parsePublicKey(pem: string): Promise<pkijs.PublicKeyInfo> {
  const spki = pkijs.PublicKeyInfo.fromBER(pemToDer(pem, "PUBLIC KEY"));
  const alg = algorithmOf(spki);
  // WebCrypto checks the key itself (a point on the curve, a well-formed modulus)
  const key = await crypto.subtle.importKey("spki", spki.toSchema().toBER(false), alg, true, ["verify"]);
  if (alg.name === "RSASSA-PKCS1-v1_5" && ((key.algorithm as RsaHashedKeyAlgorithm).modulusLength ?? 0) < 2048) {
    throw new Error("RSA keys must have at least 2048 bits");
  }
  return spki;
}

export interface ServingRequest {
  /** the subject's public key (already checked by parsePublicKey) */
  publicKey: pkijs.PublicKeyInfo;
  commonName: string;
  organization?: string;
  dnsNames: string[];
  ips: string[];
  /** validity in days from now (it starts a minute ago, for clocks slightly behind) */
  days: number;
  now?: Date;
}

const ipBytes = (ip: string): Uint8Array => {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return new Uint8Array(parts);
};

/** A TLS server certificate for `req`, signed by `ca`: its PEM and its end of validity. */
export async function issueServing(ca: CaMaterial, req: ServingRequest): Promise<{ cert: string; notAfter: Date }> {
  const caCert = pkijs.Certificate.fromBER(pemToDer(ca.cert, "CERTIFICATE"));
  const caKey = await crypto.subtle.importKey("pkcs8", pemToDer(ca.key, "PRIVATE KEY"), algorithmOf(caCert.subjectPublicKeyInfo), false, ["sign"]);
  const now = req.now ?? new Date();
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = serial();
  cert.subject = name(req.commonName, req.organization);
  cert.issuer = caCert.subject;
  cert.notBefore.value = seconds(now.getTime() - 60_000);
  cert.notAfter.value = seconds(Math.min(now.getTime() + req.days * DAY, caCert.notAfter.value.getTime()));
  cert.subjectPublicKeyInfo = req.publicKey;
  const rsa = req.publicKey.algorithm.algorithmId === OID.rsaEncryption;
  const altNames = new pkijs.AltName({
    altNames: [
      ...req.dnsNames.map((value) => new pkijs.GeneralName({ type: 2, value })),
      ...req.ips.map((ip) => new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(ip).buffer }) })),
    ],
  });
  cert.extensions = [
    ext(OID.basicConstraints, true, new pkijs.BasicConstraints({ cA: false })),
    ext(OID.keyUsage, true, keyUsage(rsa ? [0, 2] : [0])),
    ext(OID.extKeyUsage, false, new pkijs.ExtKeyUsage({ keyPurposes: [OID.serverAuth] })),
    ext(OID.subjectAltName, false, altNames),
    ext(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: (await keyId(req.publicKey)).buffer })),
  ];
  // the CA's own key identifier, when it has one (chain building matches on it)
  const caKeyId = caCert.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier);
  if (caKeyId) {
    const id = asn1js.fromBER(caKeyId.extnValue.valueBlock.valueHexView).result as asn1js.OctetString;
    cert.extensions.push(ext(OID.authorityKeyIdentifier, false, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: id })));
  }
  await cert.sign(caKey, "SHA-256");
  return { cert: derToPem(cert.toSchema(true).toBER(false), "CERTIFICATE"), notAfter: cert.notAfter.value };
}
