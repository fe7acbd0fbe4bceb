/** `npm start`'s network flags: the cluster and service CIDRs, checked before anything starts; the advertised address. */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { kubeProxyUnavailable } from "../agent/proxy/service-proxy";
import { localAgentNetwork } from "./localagent";
import { advertiseAddress, checkNetwork, firstHostIPv4, localClusterDNS } from "./server";

const root = join(__dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "kf-netflags-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const npmStart = (args: string[]) =>
  promisify(execFile)("npx", ["tsx", "node/main.ts", "--no-agent", "--port", "0", "--data-dir", join(dir, "data"), ...args], {
    cwd: root,
    timeout: 60_000,
  }).then(
    (r) => ({ code: 0, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stderr: String(e.stderr ?? "") }),
  );

describe("npm start's network flags", () => {
  it("refuses overlapping, malformed or oddly sized ranges with exit code 2, before making anything", async () => {
    const overlap = await npmStart(["--cluster-cidr", "10.0.0.0/8"]);
    expect(overlap).toEqual({ code: 2, stderr: "error: --cluster-cidr 10.0.0.0/8 and --service-cidr 10.43.0.0/16 overlap\n" });
    const small = await npmStart(["--service-cidr", "10.43.0.0/28"]);
    expect(small).toEqual({ code: 2, stderr: 'error: --service-cidr must be a /12 to /24, got "10.43.0.0/28"\n' });
    const advertise = await npmStart(["--advertise-address", "kubeflare.example"]);
    expect(advertise).toEqual({ code: 2, stderr: 'error: --advertise-address must be an IPv4 address, got "kubeflare.example"\n' });
    expect(readdirSync(dir)).toEqual([]);
  }, 120_000);

  it("refuses ranges that overlap the machine's own networks", () => {
    expect(() => checkNetwork({}, [{ name: "eth0", cidr: "10.42.7.20/24" }])).toThrow(
      "--cluster-cidr 10.42.0.0/16 overlaps this machine's network 10.42.7.0/24 (interface eth0); pick another range",
    );
    expect(checkNetwork({ clusterCIDR: "10.50.0.0/16" }, [{ name: "eth0", cidr: "10.42.7.20/24" }])).toEqual({
      clusterCIDR: "10.50.0.0/16",
      serviceCIDR: "10.43.0.0/16",
    });
  });

  it("advertises --advertise-address, else a specific listen address, else the first non-loopback IPv4", () => {
    expect(advertiseAddress({ advertiseAddress: "192.0.2.9", host: "127.0.0.1" })).toBe("192.0.2.9");
    expect(advertiseAddress({ host: "192.0.2.7" })).toBe("192.0.2.7");
    for (const host of ["127.0.0.1", "127.0.0.2", "0.0.0.0", "localhost", "::"]) expect(advertiseAddress({ host })).toBe(firstHostIPv4());
  });

  it("gives the local agent's pods kube-dns' address in the service CIDR, unless --cluster-dns says otherwise", () => {
    expect(localClusterDNS({})).toBe("10.43.0.10");
    // a walkthrough with --service-cidr 10.78.0.0/16 got nameserver 10.43.0.10 in every pod, while kube-dns was 10.78.0.10
    expect(localClusterDNS({ serviceCIDR: "10.78.0.0/16" })).toBe("10.78.0.10");
    expect(localClusterDNS({ serviceCIDR: "172.20.0.0/24", clusterDNS: "172.20.0.53" })).toBe("172.20.0.53");
    expect(localClusterDNS({ serviceCIDR: "10.78.0.0/16", clusterDNS: "" })).toBe("");
  });

  it("gives the local agent's kube-proxy the server's --service-cidr (its kubernetes relay and ClusterIP drop), and NetworkPolicy with it", () => {
    const logs: string[] = [];
    const network = { clusterCIDR: "10.201.0.0/16", serviceCIDR: "10.78.0.0/16" };
    const on = localAgentNetwork({}, network, (m) => logs.push(m));
    if (kubeProxyUnavailable()) {
      // not root or no nft: neither runs, and the log says why
      expect(on).toMatchObject({ clusterDNS: "10.78.0.10", kubeProxy: undefined });
      expect(on.networkPolicy).toBeUndefined();
      expect(logs.join("\n")).toContain("kube-proxy: not running");
      return;
    }
    expect(on).toEqual({ clusterDNS: "10.78.0.10", kubeProxy: { serviceCIDR: "10.78.0.0/16" }, networkPolicy: {} });
    expect(localAgentNetwork({ noNetworkPolicy: true }, network)).toEqual({ clusterDNS: "10.78.0.10", kubeProxy: { serviceCIDR: "10.78.0.0/16" } });
    expect(localAgentNetwork({ noKubeProxy: true, clusterDNS: "10.78.0.53" }, network)).toEqual({ clusterDNS: "10.78.0.53", kubeProxy: undefined });
    expect(logs).toEqual([]);
  });
});
