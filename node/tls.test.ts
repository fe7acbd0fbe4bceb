import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import forge from "node-forge";
import { afterAll, describe, expect, it } from "vitest";
import { ensureTls } from "./tls";

const dir = mkdtempSync(join(tmpdir(), "kf-tls-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** GET https://host:port/ trusting only `ca`; resolves the body or rejects on a TLS error. */
const fetchWithCa = (host: string, port: number, ca: string) =>
  new Promise<string>((resolve, reject) => {
    import("node:https").then(({ get }) =>
      get({ host, port, path: "/", ca, servername: host === "127.0.0.1" ? undefined : host }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve(body));
      }).on("error", reject),
    );
  });

describe("TLS material", () => {
  it("creates a CA and a server certificate trusted for localhost and 127.0.0.1, with private keys 0600", async () => {
    const tls = await ensureTls(dir, { sans: ["kubeflare.example"] });
    const server = createServer({ key: tls.key, cert: tls.cert }, (_req, res) => res.end("hello"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      expect(await fetchWithCa("127.0.0.1", port, tls.ca)).toBe("hello");
      expect(await fetchWithCa("localhost", port, tls.ca)).toBe("hello");
      // a different CA is not trusted
      const other = await ensureTls(mkdtempSync(join(tmpdir(), "kf-tls-other-")), { sans: [] });
      await expect(fetchWithCa("127.0.0.1", port, other.ca)).rejects.toThrow();
    } finally {
      server.close();
    }
    expect(statSync(join(dir, "tls", "ca.key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "tls", "server.key")).mode & 0o777).toBe(0o600);
  });

  it("issues a 1-year serverAuth certificate from a 10-year CA, IPs as IP SANs and names as DNS SANs", async () => {
    const tls = await ensureTls(dir, { sans: ["kubeflare.example"] });
    const ca = new X509Certificate(tls.ca);
    const cert = new X509Certificate(tls.cert);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const sans = cert.subjectAltName!.split(", ").sort();
    expect(sans).toEqual(
      [...new Set(["DNS:localhost", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1", `DNS:${hostname()}`, "DNS:kubeflare.example"])].sort(),
    );
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]); // extended key usage: serverAuth
    const years = (c: X509Certificate) => (Date.parse(c.validTo) - Date.parse(c.validFrom)) / (365 * 24 * 3600 * 1000);
    expect(years(cert)).toBeGreaterThan(0.99);
    expect(years(cert)).toBeLessThan(1.02);
    expect(years(ca)).toBeGreaterThan(9.9);
    expect(years(ca)).toBeLessThan(10.1);
  });

  it("reuses the files, and reissues the server certificate (same CA) when the names change", async () => {
    const before = readFileSync(join(dir, "tls", "server.crt"), "utf8");
    const same = await ensureTls(dir, { sans: ["kubeflare.example"] });
    expect(same.cert).toBe(before);
    const caBefore = same.ca;
    const more = await ensureTls(dir, { sans: ["kubeflare.example", "10.0.0.5"] });
    expect(more.cert).not.toBe(before);
    expect(more.ca).toBe(caBefore);
    expect(new X509Certificate(more.cert).subjectAltName).toContain("IP Address:10.0.0.5");
    // the same set in another order and spelling is no change
    expect((await ensureTls(dir, { sans: ["10.0.0.5", "kubeflare.example", "0:0:0:0:0:0:0:1"] })).cert).toBe(more.cert);
  });

  it("reissues a server certificate that expires within 30 days or lost its key, keeping the CA", async () => {
    const d = mkdtempSync(join(tmpdir(), "kf-tls-exp-"));
    try {
      const first = await ensureTls(d, { sans: [] });
      // replace the server certificate by one from the same CA with the same names and key, expiring in 10 days
      const caCert = forge.pki.certificateFromPem(first.ca);
      const caKey = forge.pki.privateKeyFromPem(readFileSync(join(d, "tls", "ca.key"), "utf8"));
      const old = forge.pki.certificateFromPem(first.cert);
      const soon = forge.pki.createCertificate();
      soon.publicKey = old.publicKey;
      soon.serialNumber = "01";
      soon.validity.notBefore = new Date(Date.now() - 24 * 3600 * 1000);
      soon.validity.notAfter = new Date(Date.now() + 10 * 24 * 3600 * 1000);
      soon.setSubject(old.subject.attributes);
      soon.setIssuer(caCert.subject.attributes);
      soon.setExtensions(old.extensions);
      soon.sign(caKey, forge.md.sha256.create());
      writeFileSync(join(d, "tls", "server.crt"), forge.pki.certificateToPem(soon));
      const renewed = await ensureTls(d, { sans: [] });
      expect(renewed.ca).toBe(first.ca);
      expect(Date.parse(new X509Certificate(renewed.cert).validTo)).toBeGreaterThan(Date.now() + 300 * 24 * 3600 * 1000);
      // a key file that no longer belongs to the certificate (a crash between the two writes)
      writeFileSync(join(d, "tls", "server.key"), first.key);
      const rekeyed = await ensureTls(d, { sans: [] });
      expect(rekeyed.cert).not.toBe(renewed.cert);
      expect(new X509Certificate(rekeyed.cert).checkPrivateKey(createPrivateKey(rekeyed.key))).toBe(true);
      expect(rekeyed.ca).toBe(first.ca);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it("uses the operator's own certificate files when given", async () => {
    const tls = await ensureTls(dir, { sans: [] });
    const own = await ensureTls(dir, { sans: [], certFile: join(dir, "tls", "server.crt"), keyFile: join(dir, "tls", "server.key") });
    expect(own.cert).toBe(tls.cert);
    await expect(ensureTls(dir, { sans: [], certFile: join(dir, "tls", "server.crt") })).rejects.toThrow(/go together/);
  });
});
