/** kubelet's managed /etc/hosts, line for line (pure; the engines' side is in test/services-e2e.test.ts). */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hostsFileContent, hostsMount } from "./etchosts";

const HEAD =
  "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
  "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n";
const pod = (spec: Record<string, unknown> = {}) => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "web-0", namespace: "shop", uid: "u-1" }, spec });

describe("the pod's /etc/hosts (kubelet's)", () => {
  it("names the pod's address with its host name", () => {
    expect(hostsFileContent(pod(), ["10.42.0.7"])).toBe(`${HEAD}10.42.0.7\tweb-0\n`);
    expect(hostsFileContent(pod({ hostname: "db" }), ["10.42.0.7"])).toBe(`${HEAD}10.42.0.7\tdb\n`);
  });
  it("with a subdomain, the FQDN first, in the cluster's domain", () => {
    expect(hostsFileContent(pod({ subdomain: "web" }), ["10.42.0.7"], "example.internal")).toBe(
      `${HEAD}10.42.0.7\tweb-0.web.shop.svc.example.internal\tweb-0\n`,
    );
  });
  it("ends with the hostAliases", () => {
    const text = hostsFileContent(pod({ hostAliases: [{ ip: "127.0.0.1", hostnames: ["foo.local", "bar.local"] }] }), ["10.42.0.7"]);
    expect(text).toBe(`${HEAD}10.42.0.7\tweb-0\n\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\n`);
  });
  it("is written under the pod's directory and mounted at /etc/hosts", () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-hosts-"));
    try {
      const m = hostsMount(dir, pod(), "10.42.0.7");
      expect(m).toEqual({ hostPath: join(dir, "pods", "u-1", "etc-hosts"), containerPath: "/etc/hosts", readOnly: false });
      expect(readFileSync(m.hostPath, "utf8")).toBe(`${HEAD}10.42.0.7\tweb-0\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
