/**
 * The certificate served when no Ingress TLS Secret matches a TLS client (or it sent no
 * SNI): self-signed, "Kubeflare Ingress Fake Certificate", as ingress-nginx serves its
 * "Kubernetes Ingress Controller Fake Certificate". Made once per process (agent/x509.ts).
 */
import { certificate, keyPem, name, rsaKeysSync } from "../x509";

let made: { cert: string; key: string } | undefined;

export const fakeCertificate = (): { cert: string; key: string } => {
  if (made) return made;
  const keys = rsaKeysSync();
  const cert = certificate({
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    subject: name("Kubeflare Ingress Fake Certificate", "Kubeflare"),
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    ca: false,
    sans: ["ingress.local"],
  });
  made = { cert, key: keyPem(keys.privateKey) };
  return made;
};
