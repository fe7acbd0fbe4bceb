/**
 * The certificate served when no Ingress TLS Secret matches a TLS client (or it sent no
 * SNI): self-signed, "Kubeflare Ingress Fake Certificate", as ingress-nginx serves its
 * "Kubernetes Ingress Controller Fake Certificate". Made once per process.
 */
import forge from "node-forge";

let made: { cert: string; key: string } | undefined;

export const fakeCertificate = (): { cert: string; key: string } => {
  if (made) return made;
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const c = forge.pki.createCertificate();
  c.publicKey = keys.publicKey;
  c.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
  c.validity.notBefore = new Date(Date.now() - 60_000);
  c.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const name = [
    { name: "organizationName", value: "Kubeflare" },
    { name: "commonName", value: "Kubeflare Ingress Fake Certificate" },
  ];
  c.setSubject(name);
  c.setIssuer(name);
  c.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: [{ type: 2, value: "ingress.local" }] },
  ]);
  c.sign(keys.privateKey, forge.md.sha256.create());
  made = { cert: forge.pki.certificateToPem(c), key: forge.pki.privateKeyToPem(keys.privateKey) };
  return made;
};
