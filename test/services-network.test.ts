/**
 * The control-plane side of Services networking, over HTTP on both runtimes: the
 * service CIDR's well-known Services (kubernetes .1, kube-dns .10) and its endpoints,
 * ClusterIP and nodePort allocation and their 422s, allocation under concurrent creates,
 * podCIDRs from node-ipam (and that a node may not pick its own), ServiceLB's ingress,
 * and the CIDRs as configuration.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveHrana } from "../dev/hrana";
import { startServer } from "../node/server";
import { startNodeTarget, startWorkerTarget, type Target, type TargetOptions } from "./targets";

const RUNTIMES: [string, (o: TargetOptions) => Promise<Target>][] = [
  ["Node", (o) => startNodeTarget(o)],
  ["Worker", (o) => startWorkerTarget(o)],
];

const call = async (t: Target, method: string, path: string, body?: unknown, token?: string) => {
  const res = await t.fetch(path, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    ...(token ? { token } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
};

/** Poll until `f` returns something truthy (controllers on the Worker run through the queue). */
const eventually = async <T>(f: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> => {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 100));
  }
};

const readyNode = (name: string, ip: string) => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name },
  status: {
    addresses: [{ type: "InternalIP", address: ip }],
    capacity: { cpu: "1", memory: "1Gi", pods: "10" },
    conditions: [{ type: "Ready", status: "True", reason: "Test", lastHeartbeatTime: new Date().toISOString() }],
  },
});

for (const [runtime, start] of RUNTIMES) {
  describe(`Services networking, control plane (${runtime})`, () => {
    let t: Target;
    beforeAll(async () => {
      t = await start({ controllers: true });
    }, 120_000);
    afterAll(async () => t?.close());

    it("starts with kubernetes at 10.43.0.1 and kube-dns at 10.43.0.10, as k3s", async () => {
      const all = (await call(t, "GET", "/api/v1/services")).json.items;
      const svc = (ns: string, name: string) => all.find((s: any) => s.metadata.namespace === ns && s.metadata.name === name);
      expect(svc("default", "kubernetes").spec).toMatchObject({ clusterIP: "10.43.0.1", clusterIPs: ["10.43.0.1"], type: "ClusterIP" });
      const dns = svc("kube-system", "kube-dns");
      expect(dns.spec).toMatchObject({
        clusterIP: "10.43.0.10",
        type: "ClusterIP",
        ports: [
          { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
          { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
          { name: "metrics", port: 9153, protocol: "TCP", targetPort: 9153 },
        ],
      });
      expect(dns.spec.selector).toBeUndefined();
      expect(dns.metadata.labels).toMatchObject({ "k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS" });
    });

    it("points the kubernetes endpoints at the API server on Node, and leaves them empty on the Worker", async () => {
      const ep = (await call(t, "GET", "/api/v1/namespaces/default/endpoints/kubernetes")).json;
      expect(ep.kind).toBe("Endpoints");
      if (runtime === "Node") {
        const port = Number(new URL((t as any).url).port);
        expect(ep.subsets).toEqual([{ addresses: [{ ip: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/) }], ports: [{ name: "https", port, protocol: "TCP" }] }]);
        const slice = (await call(t, "GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes")).json;
        expect(slice).toMatchObject({ addressType: "IPv4", endpoints: [{ addresses: [ep.subsets[0].addresses[0].ip] }], ports: [{ port }] });
        // pods dial kubernetes.default.svc or the ClusterIP and check the name against the CA
        const san = await new Promise<string>((resolve, reject) => {
          const sock = connect({ host: "127.0.0.1", port, ca: (t as any).caPem, servername: "kubernetes.default.svc" }, () => {
            resolve(sock.getPeerCertificate().subjectaltname ?? "");
            sock.end();
          });
          sock.on("error", reject);
        });
        for (const name of ["DNS:kubernetes", "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local", "IP Address:10.43.0.1"])
          expect(san.split(", ")).toContain(name);
      } else {
        expect(ep.subsets).toBeUndefined();
      }
      // the endpoints controller leaves a selector-less Service's endpoints alone
      await new Promise((r) => setTimeout(r, 500));
      expect((await call(t, "GET", "/api/v1/namespaces/default/endpoints/kubernetes")).json.subsets).toEqual(ep.subsets);
    });

    it("allocates ClusterIPs from the service CIDR; out of range or taken is 422 and creates nothing", async () => {
      const svc = (name: string, spec: Record<string, unknown> = {}) => ({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name },
        spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
      });
      const made = await call(t, "POST", "/api/v1/namespaces/default/services", svc("auto"));
      expect(made.status).toBe(201);
      expect(made.json.spec.clusterIP).toMatch(/^10\.43\.\d+\.\d+$/);
      expect(["10.43.0.0", "10.43.0.1", "10.43.0.10", "10.43.255.255"]).not.toContain(made.json.spec.clusterIP);

      const pinned = await call(t, "POST", "/api/v1/namespaces/default/services", svc("pinned", { clusterIP: "10.43.7.7" }));
      expect(pinned.status).toBe(201);
      expect(pinned.json.spec.clusterIPs).toEqual(["10.43.7.7"]);

      const outside = await call(t, "POST", "/api/v1/namespaces/default/services", svc("outside", { clusterIP: "10.96.0.5" }));
      expect(outside.status).toBe(422);
      expect(outside.json).toMatchObject({ kind: "Status", reason: "Invalid", details: { causes: [{ field: "spec.clusterIPs" }] } });
      expect(outside.json.message).toContain("provided IP (10.96.0.5) is not in the valid range. The range of valid IPs is 10.43.0.0/16");

      const taken = await call(t, "POST", "/api/v1/namespaces/default/services", svc("taken", { clusterIP: "10.43.0.10" }));
      expect(taken.status).toBe(422);
      expect(taken.json.message).toContain("failed to allocate IP 10.43.0.10: provided IP is already allocated");

      for (const name of ["outside", "taken"]) expect((await call(t, "GET", `/api/v1/namespaces/default/services/${name}`)).status).toBe(404);
    });

    it("keeps allocated addresses on update, allocates what a new type needs, and drops what it no longer uses", async () => {
      const path = "/api/v1/namespaces/default/services/retype";
      const made = await call(t, "POST", "/api/v1/namespaces/default/services", {
        metadata: { name: "retype" },
        spec: { selector: { app: "retype" }, ports: [{ port: 80 }] },
      });
      const ip = made.json.spec.clusterIP;
      const merge = (patch: unknown) =>
        t.fetch(path, { method: "PATCH", headers: { "Content-Type": "application/merge-patch+json" }, body: JSON.stringify(patch) }).then(async (r) => ({
          status: r.status,
          json: (await r.json()) as any,
        }));
      // kubectl patch svc retype -p '{"spec":{"type":"NodePort"}}'
      const np = await merge({ spec: { type: "NodePort" } });
      expect(np.status).toBe(200);
      expect(np.json.spec.clusterIP).toBe(ip);
      const nodePort = np.json.spec.ports[0].nodePort;
      expect(nodePort).toBeGreaterThanOrEqual(30000);
      // a PUT that leaves out clusterIP and nodePort keeps them
      const { clusterIP: _c, clusterIPs: _cs, ...spec } = np.json.spec;
      const put = await call(t, "PUT", path, { ...np.json, spec: { ...spec, ports: [{ port: 80, protocol: "TCP", targetPort: 80 }] } });
      expect(put.status).toBe(200);
      expect([put.json.spec.clusterIP, put.json.spec.ports[0].nodePort]).toEqual([ip, nodePort]);
      // the ClusterIP may not change
      const moved = await merge({ spec: { clusterIP: "10.43.9.9", clusterIPs: ["10.43.9.9"] } });
      expect(moved.status).toBe(422);
      expect(moved.json.message).toContain("may not change once set");
      // back to ClusterIP: the node port and externalTrafficPolicy go
      const back = await merge({ spec: { type: "ClusterIP" } });
      expect(back.status).toBe(200);
      expect(back.json.spec.ports[0].nodePort).toBeUndefined();
      expect(back.json.spec.externalTrafficPolicy).toBeUndefined();
      expect(back.json.spec.clusterIP).toBe(ip);
    });

    it("refuses a hand-set nodePort another Service holds (422), allows TCP+UDP on one nodePort, keeps its own on update", async () => {
      const np = (name: string, ports: unknown[]) => ({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name },
        spec: { type: "NodePort", selector: { app: name }, ports },
      });
      const first = await call(t, "POST", "/api/v1/namespaces/default/services", np("np-first", [{ port: 80, nodePort: 30080 }]));
      expect(first.status).toBe(201);
      expect(first.json.spec.ports[0].nodePort).toBe(30080);

      // kube-apiserver: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated
      const second = await call(t, "POST", "/api/v1/namespaces/default/services", np("np-second", [{ port: 81, nodePort: 30080 }]));
      expect(second.status).toBe(422);
      expect(second.json).toMatchObject({ kind: "Status", reason: "Invalid", details: { causes: [{ field: "spec.ports[0].nodePort" }] } });
      expect(second.json.message).toContain("spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated");
      expect((await call(t, "GET", "/api/v1/namespaces/default/services/np-second")).status).toBe(404);
      // also in another namespace, and when the port is the second one
      const other = await call(
        t,
        "POST",
        "/api/v1/namespaces/kube-system/services",
        np("np-other", [
          { name: "a", port: 1 },
          { name: "b", port: 2, nodePort: 30080 },
        ]),
      );
      expect(other.status).toBe(422);
      expect(other.json.message).toContain("spec.ports[1].nodePort: Invalid value: 30080: provided port is already allocated");

      // out of the range: 422 naming the range
      const outside = await call(t, "POST", "/api/v1/namespaces/default/services", np("np-outside", [{ port: 80, nodePort: 8080 }]));
      expect(outside.status).toBe(422);
      expect(outside.json.message).toContain("The range of valid ports is 30000-32767");

      // one nodePort for TCP and UDP in one Service is fine; twice for one protocol is not
      const dns = await call(
        t,
        "POST",
        "/api/v1/namespaces/default/services",
        np("np-dns", [
          { name: "udp", port: 53, protocol: "UDP", nodePort: 30053 },
          { name: "tcp", port: 53, protocol: "TCP", nodePort: 30053 },
        ]),
      );
      expect(dns.status).toBe(201);
      expect(dns.json.spec.ports.map((p: any) => p.nodePort)).toEqual([30053, 30053]);
      const twice = await call(
        t,
        "POST",
        "/api/v1/namespaces/default/services",
        np("np-twice", [
          { name: "a", port: 1, nodePort: 30054 },
          { name: "b", port: 2, nodePort: 30054 },
        ]),
      );
      expect(twice.status).toBe(422);
      expect(twice.json.message).toContain("spec.ports[1].nodePort: Duplicate value: 30054");

      // without nodePorts, a TCP and a UDP port of one number share one allocated nodePort (as kube-apiserver does)
      const pair = await call(
        t,
        "POST",
        "/api/v1/namespaces/default/services",
        np("np-pair", [
          { name: "udp", port: 5353, protocol: "UDP" },
          { name: "tcp", port: 5353, protocol: "TCP" },
          { name: "web", port: 80, protocol: "TCP" },
        ]),
      );
      expect(pair.status).toBe(201);
      const [u, tc, w] = pair.json.spec.ports.map((p: any) => p.nodePort);
      expect(u).toBe(tc);
      expect(w).not.toBe(u);
      // dynamic allocation never hands out a port that is taken
      expect([30080, 30053]).not.toContain(u);
      expect([30080, 30053]).not.toContain(w);

      // an update that keeps its own nodePort is fine; moving onto another Service's is not
      const cur = (await call(t, "GET", "/api/v1/namespaces/default/services/np-first")).json;
      const kept = await call(t, "PUT", "/api/v1/namespaces/default/services/np-first", {
        ...cur,
        metadata: { ...cur.metadata, labels: { touched: "yes" } },
      });
      expect(kept.status).toBe(200);
      expect(kept.json.spec.ports[0].nodePort).toBe(30080);
      const moved = await call(t, "PUT", "/api/v1/namespaces/default/services/np-first", {
        ...kept.json,
        spec: { ...kept.json.spec, ports: [{ ...kept.json.spec.ports[0], nodePort: 30053 }] },
      });
      expect(moved.status).toBe(422);
      expect(moved.json.message).toContain("spec.ports[0].nodePort: Invalid value: 30053: provided port is already allocated");
      // a ClusterIP Service turned NodePort with a taken nodePort
      expect((await call(t, "POST", "/api/v1/namespaces/default/services", { metadata: { name: "np-late" }, spec: { ports: [{ port: 80 }] } })).status).toBe(
        201,
      );
      const late = await t.fetch("/api/v1/namespaces/default/services/np-late", {
        method: "PATCH",
        headers: { "Content-Type": "application/merge-patch+json" },
        body: JSON.stringify({ spec: { type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] } }),
      });
      expect(late.status).toBe(422);
      expect(((await late.json()) as any).message).toContain("provided port is already allocated");

      // a LoadBalancer that does without node ports gets none, but keeps one asked for
      const lb = await call(t, "POST", "/api/v1/namespaces/default/services", {
        metadata: { name: "np-lb" },
        spec: {
          type: "LoadBalancer",
          allocateLoadBalancerNodePorts: false,
          ports: [
            { name: "a", port: 80 },
            { name: "b", port: 81, nodePort: 30081 },
          ],
        },
      });
      expect(lb.status).toBe(201);
      expect(lb.json.spec.ports.map((p: any) => p.nodePort)).toEqual([undefined, 30081]);

      // a deleted Service's nodePort is free again
      expect((await call(t, "DELETE", "/api/v1/namespaces/default/services/np-first")).status).toBe(200);
      const again = await call(t, "POST", "/api/v1/namespaces/default/services", np("np-again", [{ port: 80, nodePort: 30080 }]));
      expect(again.status).toBe(201);
    });

    it("gives nodes podCIDRs, and a node may not set its own", async () => {
      expect((await call(t, "POST", "/api/v1/nodes", readyNode("ipam-a", "127.0.0.21"))).status).toBe(201);
      const a = await eventually(async () => (await call(t, "GET", "/api/v1/nodes/ipam-a")).json.spec?.podCIDR);
      expect(a).toMatch(/^10\.42\.\d+\.0\/24$/);

      // a joined node: its credential may not choose or change a pod CIDR
      const tok = (await call(t, "POST", "/apis/kubeflare.dev/v1/bootstraptokens", { ttlSeconds: 600 })).json.token;
      const cred = (await call(t, "POST", "/apis/kubeflare.dev/v1/join", { nodeName: "ipam-b" }, tok)).json.token;
      const own = { ...readyNode("ipam-b", "127.0.0.22"), spec: { podCIDR: "10.42.200.0/24", podCIDRs: ["10.42.200.0/24"] } };
      const refused = await call(t, "POST", "/api/v1/nodes", own, cred);
      expect(refused.status).toBe(403);
      expect(refused.json.message).toContain('node "ipam-b" is not allowed to set podCIDR');
      expect((await call(t, "POST", "/api/v1/nodes", readyNode("ipam-b", "127.0.0.22"), cred)).status).toBe(201);
      const b = await eventually(async () => (await call(t, "GET", "/api/v1/nodes/ipam-b")).json.spec?.podCIDR);
      expect(b).not.toBe(a);
      const node = (await call(t, "GET", "/api/v1/nodes/ipam-b")).json;
      const change = await call(
        t,
        "PUT",
        "/api/v1/nodes/ipam-b",
        { ...node, spec: { ...node.spec, podCIDR: "10.42.201.0/24", podCIDRs: ["10.42.201.0/24"] } },
        cred,
      );
      expect(change.status).toBe(403);
      // the agent's status writes keep it
      const status = await call(t, "PUT", "/api/v1/nodes/ipam-b/status", { ...node, spec: {}, status: { ...node.status, capacity: { cpu: "2" } } }, cred);
      expect(status.status).toBe(200);
      expect(status.json.spec.podCIDR).toBe(b);
    });

    it("sets a LoadBalancer Service's ingress to the Ready nodes' addresses", async () => {
      const made = await call(t, "POST", "/api/v1/namespaces/default/services", {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "lb" },
        spec: { type: "LoadBalancer", selector: { app: "lb" }, ports: [{ port: 8080 }] },
      });
      expect(made.status).toBe(201);
      const ingress = await eventually(async () => {
        const ing = (await call(t, "GET", "/api/v1/namespaces/default/services/lb")).json.status?.loadBalancer?.ingress;
        return ing?.length >= 2 ? ing : undefined;
      });
      expect(ingress.map((i: any) => i.ip)).toEqual(["127.0.0.21", "127.0.0.22"]);
    });
  });
}

/**
 * The Node server on a remote libSQL (sqld/Turso, here the dev Hrana endpoint over
 * HTTP), where requests interleave at every statement as they do on the Worker; on
 * the embedded file each statement completes synchronously.
 */
const startNodeOnRemoteDb = async (o: TargetOptions): Promise<Target> => {
  const dir = mkdtempSync(join(tmpdir(), "kf-remote-"));
  const db = await serveHrana({ path: join(dir, "db.sqlite"), port: 0, host: "127.0.0.1" });
  const server = await startServer({
    port: 0,
    host: "127.0.0.1",
    dataDir: dir,
    dbUrl: db.url,
    controllers: [],
    clusterCIDR: o.network?.clusterCIDR,
    serviceCIDR: o.network?.serviceCIDR,
    log: () => {},
  });
  const dispatcher = new Agent({ connect: { ca: server.caPem } });
  return {
    name: "node-remote-db",
    token: server.adminToken,
    fetch: (path, init) => {
      const headers = new Headers(init?.headers);
      headers.set("Authorization", `Bearer ${server.adminToken}`);
      return undiciFetch(server.url + path, { ...(init as any), headers, dispatcher }) as unknown as Promise<Response>;
    },
    close: async () => {
      await server.close();
      await dispatcher.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

for (const [runtime, start] of [...RUNTIMES, ["Node on a remote libSQL", startNodeOnRemoteDb] as const]) {
  describe(`Services networking, concurrent allocation (${runtime})`, () => {
    let t: Target;
    // a /24 service range, most of it taken, so that concurrent picks would collide
    const PREFIX = "10.101.0";
    beforeAll(async () => {
      t = await start({ network: { clusterCIDR: "10.100.0.0/16", serviceCIDR: `${PREFIX}.0/24` } });
      // the Worker seeds the cluster on its first request
      expect((await call(t, "GET", "/api/v1/namespaces/default/services/kubernetes")).status).toBe(200);
    }, 120_000);
    afterAll(async () => t?.close());

    const post = (ns: string, body: unknown) => call(t, "POST", `/api/v1/namespaces/${ns}/services`, body);

    it("gives concurrently created Services distinct ClusterIPs and nodePorts", async () => {
      // hold .17-.190 of the dynamic band (.17-.254) and 30000-32699 of the node ports by hand, in batches
      const fill: unknown[] = [];
      for (let i = 17; i <= 190; i++) fill.push({ metadata: { name: `fill-ip-${i}` }, spec: { clusterIP: `${PREFIX}.${i}`, ports: [{ port: 80 }] } });
      for (let s = 0; s < 4; s++) {
        const ports = Array.from({ length: 675 }, (_, i) => ({ name: `p${i}`, port: 1000 + i, nodePort: 30000 + s * 675 + i }));
        fill.push({ metadata: { name: `fill-np-${s}` }, spec: { type: "NodePort", clusterIP: `${PREFIX}.${2 + s}`, ports } });
      }
      for (let i = 0; i < fill.length; i += 25) {
        const made = await Promise.all(fill.slice(i, i + 25).map((b) => post("default", b)));
        for (const m of made) if (m.status !== 201) console.log(JSON.stringify(m.json).slice(0, 500));
        expect(made.map((m) => m.status)).toEqual(made.map(() => 201));
      }

      // 20 ClusterIP and 20 NodePort Services at once, in two namespaces
      const creates = Array.from({ length: 40 }, (_, i) =>
        post(i % 2 ? "default" : "kube-system", {
          metadata: { name: `race-${i}` },
          spec: { ...(i < 20 ? {} : { type: "NodePort" }), selector: { app: `race-${i}` }, ports: [{ port: 80 }] },
        }),
      );
      const made = await Promise.all(creates);
      expect(made.map((m) => m.status)).toEqual(made.map(() => 201));

      const all = (await call(t, "GET", "/api/v1/services")).json.items;
      const ips = all.map((s: any) => s.spec.clusterIP);
      expect(ips.length).toBe(2 + 174 + 4 + 40);
      for (const ip of ips) expect(ip.startsWith(`${PREFIX}.`)).toBe(true);
      const nodePorts = all.flatMap((s: any) => (s.spec.ports ?? []).map((p: any) => p.nodePort).filter(Boolean));
      expect(nodePorts.length).toBe(4 * 675 + 20);
      const dupes = (xs: unknown[]) => xs.filter((x, i) => xs.indexOf(x) !== i);
      expect({ clusterIPs: dupes(ips), nodePorts: dupes(nodePorts) }).toEqual({ clusterIPs: [], nodePorts: [] });
      for (const p of nodePorts) expect(p >= 30000 && p <= 32767).toBe(true);
    }, 120_000);

    it("never hands a Service's own hand-set nodePort to another of its ports", async () => {
      // the lowest free port, where a scan from anywhere in the taken ports below it ends
      const taken = new Set((await call(t, "GET", "/api/v1/services")).json.items.flatMap((s: any) => (s.spec.ports ?? []).map((p: any) => p.nodePort)));
      let free = 30000;
      while (taken.has(free)) free++;
      const made = await post("default", {
        metadata: { name: "own-port" },
        spec: {
          type: "NodePort",
          ports: [
            { name: "auto", port: 80 },
            { name: "fixed", port: 81, nodePort: free },
          ],
        },
      });
      expect(made.status).toBe(201);
      const [auto, fixed] = made.json.spec.ports.map((p: any) => p.nodePort);
      expect(fixed).toBe(free);
      expect(auto).not.toBe(free);
      expect(taken.has(auto)).toBe(false);
    });
  });
}

describe("the cluster and service CIDRs as configuration", () => {
  for (const [runtime, start] of RUNTIMES) {
    it(`${runtime}: other ranges move the well-known Services, ClusterIPs and podCIDRs`, async () => {
      const t = await start({ controllers: true, network: { clusterCIDR: "10.100.0.0/16", serviceCIDR: "10.101.0.0/20" } });
      try {
        const all = (await call(t, "GET", "/api/v1/services")).json.items.map((s: any) => [s.metadata.name, s.spec.clusterIP]);
        expect(Object.fromEntries(all)).toEqual({ kubernetes: "10.101.0.1", "kube-dns": "10.101.0.10" });
        const out = await call(t, "POST", "/api/v1/namespaces/default/services", {
          metadata: { name: "x" },
          spec: { clusterIP: "10.43.0.50", ports: [{ port: 80 }] },
        });
        expect(out.status).toBe(422);
        expect(out.json.message).toContain("The range of valid IPs is 10.101.0.0/20");
        expect((await call(t, "POST", "/api/v1/nodes", readyNode("n", "127.0.0.5"))).status).toBe(201);
        expect(await eventually(async () => (await call(t, "GET", "/api/v1/nodes/n")).json.spec?.podCIDR)).toBe("10.100.0.0/24");
      } finally {
        await t.close();
      }
    }, 120_000);
  }

  it("Node: refuses overlapping or malformed ranges at start", async () => {
    await expect(startNodeTarget({ network: { clusterCIDR: "10.0.0.0/8", serviceCIDR: "10.43.0.0/16" } })).rejects.toThrow(
      "--cluster-cidr 10.0.0.0/8 and --service-cidr 10.43.0.0/16 overlap",
    );
    await expect(startNodeTarget({ network: { serviceCIDR: "10.43.0.1/16" } })).rejects.toThrow("--service-cidr must be an IPv4 CIDR");
  });

  it("Worker: a malformed range is a Status saying so", async () => {
    const t = await startWorkerTarget({ network: { clusterCIDR: "10.42.0.0/24" } });
    try {
      const r = await call(t, "GET", "/api/v1/namespaces");
      expect(r.status).toBe(500);
      expect(r.json).toMatchObject({ kind: "Status" });
      expect(r.json.message).toContain("CLUSTER_CIDR must be a /8 to /22");
    } finally {
      await t.close();
    }
  }, 60_000);
});
