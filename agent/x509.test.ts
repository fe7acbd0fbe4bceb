import { createPrivateKey, X509Certificate } from "node:crypto";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { certificate, ipBytes, keyPem, name, rsaKeys, rsaKeysSync, subjectOf } from "./x509";

const DAY = 24 * 3600 * 1000;

describe("x509 (certificates without a certificate library)", () => {
  it("makes a CA and a server certificate it signs, which node:crypto and OpenSSL read and verify", async () => {
    const caKeys = await rsaKeys();
    const ca = new X509Certificate(
      certificate({
        publicKey: caKeys.publicKey,
        signingKey: caKeys.privateKey,
        subject: name("test-ca", "Kubeflare"),
        notBefore: new Date(Date.now() - DAY),
        notAfter: new Date(Date.UTC(2060, 0, 1)), // GeneralizedTime after 2049
        ca: true,
      }),
    );
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe("O=Kubeflare\nCN=test-ca");
    expect(ca.issuer).toBe(ca.subject);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.checkPrivateKey(caKeys.privateKey)).toBe(true);
    expect(Date.parse(ca.validTo)).toBe(Date.UTC(2060, 0, 1));
    expect(ca.serialNumber).toMatch(/^[0-9A-F]{32}$/);

    const keys = rsaKeysSync();
    const pem = certificate({
      publicKey: keys.publicKey,
      signingKey: createPrivateKey(keyPem(caKeys.privateKey)),
      subject: name("server"),
      issuer: subjectOf(ca.raw),
      notBefore: new Date(Date.UTC(2026, 0, 1, 0, 0, 0)),
      notAfter: new Date(Date.UTC(2027, 0, 1, 0, 0, 0)),
      ca: false,
      sans: ["localhost", "127.0.0.1", "::1", "fd00::10:5", "kubernetes.default.svc"],
    });
    const cert = new X509Certificate(pem);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(false);
    expect(cert.subjectAltName).toBe(
      "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FD00:0:0:0:0:0:10:5, DNS:kubernetes.default.svc",
    );
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(Date.parse(cert.validFrom)).toBe(Date.UTC(2026, 0, 1));
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    // OpenSSL's own chain check, with its purpose (serverAuth) and key usages
    const text = execFileSync("openssl", ["x509", "-noout", "-text"], { input: pem }).toString();
    expect(text).toContain("Digital Signature, Key Encipherment");
    expect(text).toContain("TLS Web Server Authentication");
    expect(execFileSync("openssl", ["x509", "-noout", "-text"], { input: ca.toString() }).toString()).toMatch(
      /CA:TRUE[\s\S]*Digital Signature, Certificate Sign, CRL Sign[\s\S]*Subject Key Identifier/,
    );
  });

  it("spells IP addresses as bytes", () => {
    expect(ipBytes("10.0.0.5")).toEqual(Buffer.from([10, 0, 0, 5]));
    expect(ipBytes("::1")).toEqual(Buffer.from([...Array(15).fill(0), 1]));
    expect(ipBytes("0:0:0:0:0:0:0:1")).toEqual(ipBytes("::1"));
    expect(ipBytes("::ffff:1.2.3.4")).toEqual(Buffer.from([...Array(10).fill(0), 0xff, 0xff, 1, 2, 3, 4]));
    expect(ipBytes("fe80::1:2")?.toString("hex")).toBe("fe800000000000000000000000010002");
    expect(ipBytes("example.com")).toBeUndefined();
  });
});
