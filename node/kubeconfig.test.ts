import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { kubeconfigYaml, writeKubeconfig } from "./kubeconfig";

describe("kubeconfig", () => {
  it("describes one cluster, user and context, with the CA embedded", () => {
    const cfg = parse(kubeconfigYaml({ server: "https://127.0.0.1:6443", caPem: "-----BEGIN CERTIFICATE-----\nX\n", token: "t0k", clusterName: "kubeflare" }));
    expect(cfg).toMatchObject({ apiVersion: "v1", kind: "Config", "current-context": "kubeflare" });
    expect(cfg.clusters[0]).toEqual({
      name: "kubeflare",
      cluster: { server: "https://127.0.0.1:6443", "certificate-authority-data": Buffer.from("-----BEGIN CERTIFICATE-----\nX\n").toString("base64") },
    });
    expect(cfg.users[0]).toEqual({ name: "kubeflare-admin", user: { token: "t0k" } });
    expect(cfg.contexts[0]).toEqual({ name: "kubeflare", context: { cluster: "kubeflare", user: "kubeflare-admin" } });
  });

  it("names the user and default namespace when asked, and embeds a long CA on one line", () => {
    const pem = `-----BEGIN CERTIFICATE-----\n${"A".repeat(64)}\n`.repeat(20);
    const text = kubeconfigYaml({
      server: "https://kf.example:6443",
      caPem: pem,
      token: "x".repeat(120),
      clusterName: "prod",
      userName: "alice",
      namespace: "team-a",
    });
    const cfg = parse(text);
    expect(cfg.users).toEqual([{ name: "alice", user: { token: "x".repeat(120) } }]);
    expect(cfg.contexts).toEqual([{ name: "prod", context: { cluster: "prod", user: "alice", namespace: "team-a" } }]);
    expect(cfg["current-context"]).toBe("prod");
    expect(Buffer.from(cfg.clusters[0].cluster["certificate-authority-data"], "base64").toString()).toBe(pem);
    expect(text).toMatch(/^ +certificate-authority-data: [A-Za-z0-9+/=]{1000,}$/m);
    expect(cfg.clusters[0].cluster).not.toHaveProperty("insecure-skip-tls-verify");
  });

  it("is written readable by its owner only, even over an existing file", () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-kc-"));
    try {
      const p = join(dir, "kubeconfig");
      writeFileSync(p, "old", { mode: 0o644 });
      writeKubeconfig(p, kubeconfigYaml({ server: "https://x", token: "t", clusterName: "c", insecureSkipTlsVerify: true }));
      expect(statSync(p).mode & 0o777).toBe(0o600);
      expect(parse(readFileSync(p, "utf8")).clusters[0].cluster["insecure-skip-tls-verify"]).toBe(true);
      // a new file in a directory that does not exist yet
      const nested = join(dir, "home", ".kube", "config");
      writeKubeconfig(nested, kubeconfigYaml({ server: "https://x", token: "t", clusterName: "c" }));
      expect(statSync(nested).mode & 0o777).toBe(0o600);
      expect(parse(readFileSync(nested, "utf8")).users[0].user.token).toBe("t");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
