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
    expect(cfg.clusters[0]).toEqual({ name: "kubeflare", cluster: { server: "https://127.0.0.1:6443", "certificate-authority-data": Buffer.from("-----BEGIN CERTIFICATE-----\nX\n").toString("base64") } });
    expect(cfg.users[0]).toEqual({ name: "kubeflare-admin", user: { token: "t0k" } });
    expect(cfg.contexts[0]).toEqual({ name: "kubeflare", context: { cluster: "kubeflare", user: "kubeflare-admin" } });
  });

  it("is written readable by its owner only, even over an existing file", () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-kc-"));
    try {
      const p = join(dir, "kubeconfig");
      writeFileSync(p, "old", { mode: 0o644 });
      writeKubeconfig(p, kubeconfigYaml({ server: "https://x", token: "t", clusterName: "c", insecureSkipTlsVerify: true }));
      expect(statSync(p).mode & 0o777).toBe(0o600);
      expect(parse(readFileSync(p, "utf8")).clusters[0].cluster["insecure-skip-tls-verify"]).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
