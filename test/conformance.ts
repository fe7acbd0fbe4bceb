/**
 * The HTTP conformance suite: the same assertions against every runtime.
 * Each test uses its own namespace so tests are independent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectStatus } from "./api-error";
import { send, type Target } from "./targets";

export const conformance = (name: string, start: () => Promise<Target>) => {
  describe(`HTTP API conformance (${name})`, () => {
    let t: Target;
    beforeAll(async () => {
      t = await start();
    });
    afterAll(async () => {
      await t?.close();
    });

    const req = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, token?: string | null) =>
      send(t, method, path, body, headers, token);
    const mkNs = async (ns: string) => {
      const r = await req("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
      expect(r.status).toBe(201);
    };
    const pod = (name: string, labels: Record<string, string> = {}, extra: any = {}) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, labels },
      spec: { containers: [{ name: "app", image: "busybox:1.36", ports: [{ containerPort: 8080 }] }], ...extra },
    });
    it("serves health, version and discovery", async () => {
      expect((await req("GET", "/healthz", undefined, {}, null)).status).toBe(200);
      expect((await req("GET", "/readyz", undefined, {}, null)).status).toBe(200);
      const v = await req("GET", "/version", undefined, {}, null);
      expect(v.json).toMatchObject({ major: "1", minor: expect.stringMatching(/^\d+$/) });
      expect(v.json.gitVersion).toMatch(/^v1\.\d+\.\d+\+kubeflare/);
      const api = await req("GET", "/api");
      expect(api.json).toMatchObject({ kind: "APIVersions", versions: ["v1"] });
      const apis = await req("GET", "/apis");
      expect(apis.json.groups.map((g: any) => g.name)).toEqual(expect.arrayContaining(["apps", "coordination.k8s.io"]));
      const core = await req("GET", "/api/v1");
      const names = core.json.resources.map((r: any) => r.name);
      expect(names).toEqual(
        expect.arrayContaining([
          "namespaces",
          "pods",
          "pods/status",
          "nodes",
          "services",
          "endpoints",
          "events",
          "configmaps",
          "secrets",
          "replicationcontrollers",
          "replicationcontrollers/scale",
        ]),
      );
      const pods = core.json.resources.find((r: any) => r.name === "pods");
      expect(pods).toMatchObject({ kind: "Pod", namespaced: true, shortNames: ["po"], categories: ["all"] });
      const apps = await req("GET", "/apis/apps/v1");
      expect(apps.json.resources.find((r: any) => r.name === "deployments/scale")).toMatchObject({ group: "autoscaling", kind: "Scale" });
      const agg = await req("GET", "/apis", undefined, { Accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json" });
      expect(agg.headers.get("content-type")).toBe("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
      expect(agg.json.kind).toBe("APIGroupDiscoveryList");
    });

    it("requires a bearer token (401 Status) except on public endpoints", async () => {
      expectStatus(await req("GET", "/api/v1/namespaces", undefined, {}, null), 401, "Unauthorized");
      expectStatus(await req("GET", "/api/v1/namespaces", undefined, {}, "wrong-token"), 401, "Unauthorized");
      expect((await req("GET", "/api/v1/namespaces")).status).toBe(200);
    });

    it("starts with the system namespaces, and default cannot be deleted", async () => {
      const list = await req("GET", "/api/v1/namespaces");
      expect(list.json.kind).toBe("NamespaceList");
      const names = list.json.items.map((n: any) => n.metadata.name);
      expect(names).toEqual(expect.arrayContaining(["default", "kube-system", "kube-node-lease"]));
      expect(list.json.items.find((n: any) => n.metadata.name === "default").status.phase).toBe("Active");
      expectStatus(await req("DELETE", "/api/v1/namespaces/default"), 403, "Forbidden");
    });

    it("creates with server-set metadata and defaults, gets, and refuses duplicates", async () => {
      await mkNs("crud");
      const r = await req("POST", "/api/v1/namespaces/crud/pods", pod("web", { app: "web" }));
      expect(r.status).toBe(201);
      const p = r.json;
      expect(p.metadata).toMatchObject({ name: "web", namespace: "crud", generation: 1 });
      expect(p.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(p.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Number(p.metadata.resourceVersion)).toBeGreaterThan(0);
      expect(p.spec).toMatchObject({ restartPolicy: "Always", terminationGracePeriodSeconds: 30, dnsPolicy: "ClusterFirst" });
      expect(p.spec.containers[0]).toMatchObject({ imagePullPolicy: "IfNotPresent", ports: [{ containerPort: 8080, protocol: "TCP" }] });
      expect(p.status.phase).toBe("Pending");

      const g = await req("GET", "/api/v1/namespaces/crud/pods/web");
      expect(g.status).toBe(200);
      expect(g.json).toMatchObject({ apiVersion: "v1", kind: "Pod", metadata: { uid: p.metadata.uid, resourceVersion: p.metadata.resourceVersion } });

      const dup = await req("POST", "/api/v1/namespaces/crud/pods", pod("web"));
      expectStatus(dup, 409, "AlreadyExists");
      expect(dup.json.message).toBe('pods "web" already exists');
      expect(dup.json.details).toMatchObject({ name: "web", kind: "pods" });

      const nf = await req("GET", "/api/v1/namespaces/crud/pods/nope");
      expectStatus(nf, 404, "NotFound");
      expect(nf.json.message).toBe('pods "nope" not found');

      const gen = await req("POST", "/api/v1/namespaces/crud/configmaps", { metadata: { generateName: "cfg-" }, data: { a: "1" } });
      expect(gen.status).toBe(201);
      expect(gen.json.metadata.name).toMatch(/^cfg-[a-z0-9]{5}$/);

      const dep = await req("POST", "/apis/apps/v1/namespaces/crud/deployments", {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "d" },
        spec: {
          selector: { matchLabels: { app: "d" } },
          template: { metadata: { labels: { app: "d" } }, spec: { containers: [{ name: "c", image: "nginx" }] } },
        },
      });
      expect(dep.status).toBe(201);
      expect(dep.json.spec).toMatchObject({
        replicas: 1,
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      });
      expect(dep.json.spec.template.spec.containers[0].imagePullPolicy).toBe("Always");
      const svc = await req("POST", "/api/v1/namespaces/crud/services", { metadata: { name: "s" }, spec: { selector: { app: "d" }, ports: [{ port: 80 }] } });
      expect(svc.status).toBe(201);
      expect(svc.json.spec).toMatchObject({ type: "ClusterIP", ports: [{ port: 80, protocol: "TCP", targetPort: 80 }] });
    });

    it("refuses objects in a namespace that does not exist", async () => {
      const r = await req("POST", "/api/v1/namespaces/ghost/pods", pod("x"));
      expectStatus(r, 404, "NotFound");
      expect(r.json.message).toBe('namespaces "ghost" not found');
    });

    it("updates with compare-and-swap; generation follows spec changes only; status is a subresource", async () => {
      await mkNs("upd");
      const dep = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "d", labels: { a: "1" } },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "d" } },
          template: { metadata: { labels: { app: "d" } }, spec: { containers: [{ name: "c", image: "nginx:1" }] } },
        },
      };
      const c = (await req("POST", "/apis/apps/v1/namespaces/upd/deployments", dep)).json;
      // labels only: no generation bump
      const l = await req("PUT", "/apis/apps/v1/namespaces/upd/deployments/d", { ...c, metadata: { ...c.metadata, labels: { a: "2" } } });
      expect(l.status).toBe(200);
      expect(l.json.metadata.generation).toBe(1);
      expect(Number(l.json.metadata.resourceVersion)).toBeGreaterThan(Number(c.metadata.resourceVersion));
      // stale resourceVersion: 409 Conflict, nothing written
      const stale = await req("PUT", "/apis/apps/v1/namespaces/upd/deployments/d", { ...c, spec: { ...c.spec, replicas: 9 } });
      expectStatus(stale, 409, "Conflict");
      expect(stale.json.message).toContain('Operation cannot be fulfilled on deployments.apps "d"');
      expect((await req("GET", "/apis/apps/v1/namespaces/upd/deployments/d")).json.spec.replicas).toBe(2);
      // spec change: generation 2; status in a main update is ignored
      const s = await req("PUT", "/apis/apps/v1/namespaces/upd/deployments/d", { ...l.json, spec: { ...l.json.spec, replicas: 3 }, status: { replicas: 99 } });
      expect(s.json.metadata.generation).toBe(2);
      expect(s.json.status.replicas).toBeUndefined();
      // status subresource changes status only
      const st = await req("PUT", "/apis/apps/v1/namespaces/upd/deployments/d/status", {
        ...s.json,
        spec: { ...s.json.spec, replicas: 7 },
        status: { replicas: 3, observedGeneration: 2 },
      });
      expect(st.status).toBe(200);
      expect(st.json.status).toMatchObject({ replicas: 3, observedGeneration: 2 });
      expect(st.json.spec.replicas).toBe(3);
      expect(st.json.metadata.generation).toBe(2);
      // an update that changes nothing writes nothing
      const same = await req("PUT", "/apis/apps/v1/namespaces/upd/deployments/d", st.json);
      expect(same.json.metadata.resourceVersion).toBe(st.json.metadata.resourceVersion);
      // the selector is immutable
      const sel = await req("PUT", "/apis/apps/v1/namespaces/upd/deployments/d", {
        ...st.json,
        spec: { ...st.json.spec, selector: { matchLabels: { app: "x" } }, template: { ...st.json.spec.template, metadata: { labels: { app: "x" } } } },
      });
      expectStatus(sel, 422, "Invalid");
      expect(sel.json.details.causes).toEqual(expect.arrayContaining([expect.objectContaining({ field: "spec.selector" })]));
    });

    it("patches: merge, JSON and strategic (containers merged by name, $patch delete)", async () => {
      await mkNs("patch");
      const p = pod("p", { a: "1" });
      p.spec.containers.push({ name: "side", image: "busybox", ports: [] } as any);
      await req("POST", "/api/v1/namespaces/patch/pods", p);
      const m = await req(
        "PATCH",
        "/api/v1/namespaces/patch/pods/p",
        { metadata: { labels: { b: "2", a: null } } },
        { "Content-Type": "application/merge-patch+json" },
      );
      expect(m.status).toBe(200);
      expect(m.json.metadata.labels).toEqual({ b: "2" });
      const j = await req("PATCH", "/api/v1/namespaces/patch/pods/p", [{ op: "add", path: "/metadata/annotations", value: { x: "y" } }], {
        "Content-Type": "application/json-patch+json",
      });
      expect(j.json.metadata.annotations).toEqual({ x: "y" });
      const bad = await req("PATCH", "/api/v1/namespaces/patch/pods/p", [{ op: "test", path: "/metadata/name", value: "other" }], {
        "Content-Type": "application/json-patch+json",
      });
      expect([409, 422]).toContain(bad.status);
      expect(bad.json.kind).toBe("Status");
      const sm = await req(
        "PATCH",
        "/api/v1/namespaces/patch/pods/p",
        { spec: { containers: [{ name: "app", image: "busybox:1.37" }] } },
        { "Content-Type": "application/strategic-merge-patch+json" },
      );
      expect(sm.status).toBe(200);
      expect(sm.json.spec.containers.map((c: any) => [c.name, c.image])).toEqual([
        ["app", "busybox:1.37"],
        ["side", "busybox"],
      ]);
      expect(sm.json.spec.containers[0].ports).toEqual([{ containerPort: 8080, protocol: "TCP" }]);
      // a Deployment: strategic merge with $patch: delete on a container
      const d = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "d" },
        spec: {
          selector: { matchLabels: { app: "d" } },
          template: {
            metadata: { labels: { app: "d" } },
            spec: {
              containers: [
                {
                  name: "a",
                  image: "x",
                  env: [
                    { name: "A", value: "1" },
                    { name: "B", value: "2" },
                  ],
                },
                { name: "b", image: "y" },
              ],
            },
          },
        },
      };
      await req("POST", "/apis/apps/v1/namespaces/patch/deployments", d);
      const dp = await req(
        "PATCH",
        "/apis/apps/v1/namespaces/patch/deployments/d",
        {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: "b", $patch: "delete" },
                  {
                    name: "a",
                    env: [
                      { name: "B", $patch: "delete" },
                      { name: "C", value: "3" },
                    ],
                  },
                ],
              },
            },
          },
        },
        { "Content-Type": "application/strategic-merge-patch+json" },
      );
      expect(dp.status).toBe(200);
      expect(dp.json.spec.template.spec.containers.map((c: any) => c.name)).toEqual(["a"]);
      expect(dp.json.spec.template.spec.containers[0].env.map((e: any) => e.name).sort()).toEqual(["A", "C"]);
      expect(dp.json.metadata.generation).toBe(2);
      // unknown patch type
      expectStatus(await req("PATCH", "/api/v1/namespaces/patch/pods/p", { a: 1 }, { "Content-Type": "text/plain" }), 415, "UnsupportedMediaType");
      // patch of a missing object
      expectStatus(await req("PATCH", "/api/v1/namespaces/patch/pods/nope", {}, { "Content-Type": "application/merge-patch+json" }), 404, "NotFound");
    });

    it("serves the scale subresource", async () => {
      await mkNs("scale");
      await req("POST", "/api/v1/namespaces/scale/replicationcontrollers", {
        metadata: { name: "rc" },
        spec: {
          replicas: 2,
          selector: { app: "rc" },
          template: { metadata: { labels: { app: "rc" } }, spec: { containers: [{ name: "c", image: "busybox" }] } },
        },
      });
      const s = await req("GET", "/api/v1/namespaces/scale/replicationcontrollers/rc/scale");
      expect(s.json).toMatchObject({ apiVersion: "autoscaling/v1", kind: "Scale", spec: { replicas: 2 }, status: { selector: "app=rc" } });
      const p = await req(
        "PATCH",
        "/api/v1/namespaces/scale/replicationcontrollers/rc/scale",
        { spec: { replicas: 5 } },
        { "Content-Type": "application/merge-patch+json" },
      );
      expect(p.status).toBe(200);
      expect(p.json.spec.replicas).toBe(5);
      expect((await req("GET", "/api/v1/namespaces/scale/replicationcontrollers/rc")).json.spec.replicas).toBe(5);
      const u = await req("PUT", "/api/v1/namespaces/scale/replicationcontrollers/rc/scale", {
        apiVersion: "autoscaling/v1",
        kind: "Scale",
        metadata: { name: "rc" },
        spec: { replicas: 1 },
      });
      expect(u.json.spec.replicas).toBe(1);
      expectStatus(
        await req("PUT", "/api/v1/namespaces/scale/replicationcontrollers/rc/scale", { kind: "Scale", metadata: { name: "rc" }, spec: { replicas: -1 } }),
        422,
        "Invalid",
      );
    });

    it("lists with label and field selectors, across namespaces, and pages", async () => {
      await mkNs("sel-a");
      await mkNs("sel-b");
      await req("POST", "/api/v1/namespaces/sel-a/pods", pod("p1", { env: "prod", creation_method: "manual" }));
      await req("POST", "/api/v1/namespaces/sel-a/pods", pod("p2", { env: "devel" }));
      await req("POST", "/api/v1/namespaces/sel-a/pods", pod("p3", { env: "qa" }, { nodeName: "n1" }));
      await req("POST", "/api/v1/namespaces/sel-b/pods", pod("p4", { env: "prod" }));
      const names = async (q: string, ns = "sel-a") =>
        (await req("GET", `/api/v1/${ns ? `namespaces/${ns}/` : ""}pods?${q}`)).json.items.map((p: any) => p.metadata.name);
      expect(await names(`labelSelector=${encodeURIComponent("env in (prod,devel)")}`)).toEqual(["p1", "p2"]);
      expect(await names(`labelSelector=${encodeURIComponent("creation_method!=manual")}`)).toEqual(["p2", "p3"]);
      expect(await names(`labelSelector=${encodeURIComponent("env notin (prod),!creation_method")}`)).toEqual(["p2", "p3"]);
      expect(await names(`labelSelector=creation_method`)).toEqual(["p1"]);
      expect(await names(`fieldSelector=${encodeURIComponent("spec.nodeName=n1")}`)).toEqual(["p3"]);
      expect(await names(`fieldSelector=${encodeURIComponent("metadata.name!=p1")}`)).toEqual(["p2", "p3"]);
      expect(await names(`labelSelector=env%3Dprod`, "")).toEqual(["p1", "p4"]);
      const all = await req("GET", "/api/v1/pods?labelSelector=env");
      expect(all.json.kind).toBe("PodList");
      expect(Number(all.json.metadata.resourceVersion)).toBeGreaterThan(0);
      // paging
      const page1 = await req("GET", "/api/v1/namespaces/sel-a/pods?limit=2");
      expect(page1.json.items.map((p: any) => p.metadata.name)).toEqual(["p1", "p2"]);
      expect(page1.json.metadata.continue).toBeTruthy();
      await req("POST", "/api/v1/namespaces/sel-a/pods", pod("p25"));
      const page2 = await req("GET", `/api/v1/namespaces/sel-a/pods?limit=2&continue=${encodeURIComponent(page1.json.metadata.continue)}`);
      expect(page2.json.items.map((p: any) => p.metadata.name)).toEqual(["p3"]);
      expect(page2.json.metadata.continue).toBeUndefined();
      expect(page2.json.metadata.resourceVersion).toBe(page1.json.metadata.resourceVersion);
      // bad selectors
      expectStatus(await req("GET", `/api/v1/pods?labelSelector=${encodeURIComponent("env in (prod")}`), 400, "BadRequest");
      const fs = await req("GET", `/api/v1/pods?fieldSelector=${encodeURIComponent("spec.bogus=1")}`);
      expectStatus(fs, 400, "BadRequest");
      expect(fs.json.message).toContain("spec.bogus");
      expectStatus(await req("GET", `/api/v1/pods?continue=garbage`), 410, "Expired");
    });

    it("watches from a resourceVersion: ADDED, MODIFIED, DELETED in order, with bookmarks", async () => {
      await mkNs("watch");
      const list = await req("GET", "/api/v1/namespaces/watch/configmaps");
      const rv = list.json.metadata.resourceVersion;
      const res = await t.fetch(`/api/v1/namespaces/watch/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=5&allowWatchBookmarks=true`);
      expect(res.status).toBe(200);
      const events: any[] = [];
      const reading = (async () => {
        const reader = res.body!.getReader();
        const dec = new TextDecoder();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let i: number;
          while ((i = buf.indexOf("\n")) >= 0) {
            events.push(JSON.parse(buf.slice(0, i)));
            buf = buf.slice(i + 1);
            if (events.filter((e) => e.type !== "BOOKMARK").length === 3) {
              await reader.cancel();
              return;
            }
          }
        }
      })();
      const c = await req("POST", "/api/v1/namespaces/watch/configmaps", { metadata: { name: "c" }, data: { a: "1" } });
      await req("PUT", "/api/v1/namespaces/watch/configmaps/c", { ...c.json, data: { a: "2" } });
      await req("DELETE", "/api/v1/namespaces/watch/configmaps/c");
      await reading;
      const real = events.filter((e) => e.type !== "BOOKMARK");
      expect(real.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
      expect(real[0].object).toMatchObject({ kind: "ConfigMap", apiVersion: "v1", data: { a: "1" } });
      expect(real[1].object.data).toEqual({ a: "2" });
      const revs = real.map((e) => Number(e.object.metadata.resourceVersion));
      expect(revs[0]).toBeGreaterThan(Number(rv));
      expect([...revs].sort((a, b) => a - b)).toEqual(revs);
    });

    it("watch without resourceVersion starts with the current state; a stale one gets 410 Expired", async () => {
      await mkNs("watch2");
      await req("POST", "/api/v1/namespaces/watch2/configmaps", { metadata: { name: "x" } });
      const res = await t.fetch(`/api/v1/namespaces/watch2/configmaps?watch=1&timeoutSeconds=1`);
      const text = await res.text();
      const evs = text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(evs[0]).toMatchObject({ type: "ADDED", object: { metadata: { name: "x" } } });
      expect(evs).toHaveLength(1);
    });

    it("deletes: preconditions, finalizers, and deletecollection", async () => {
      await mkNs("del");
      const c = (await req("POST", "/api/v1/namespaces/del/configmaps", { metadata: { name: "a", finalizers: ["example.com/hold"] } })).json;
      const pre = await req("DELETE", "/api/v1/namespaces/del/configmaps/a", { preconditions: { uid: "not-the-uid" } });
      expectStatus(pre, 409, "Conflict");
      // with a finalizer the object is only marked
      const marked = await req("DELETE", "/api/v1/namespaces/del/configmaps/a", { propagationPolicy: "Background" });
      expect(marked.status).toBe(202);
      expect(marked.json.metadata.deletionTimestamp).toBeTruthy();
      const still = await req("GET", "/api/v1/namespaces/del/configmaps/a");
      expect(still.json.metadata.deletionTimestamp).toBeTruthy();
      // removing the finalizer completes the deletion
      const fin = await req(
        "PATCH",
        "/api/v1/namespaces/del/configmaps/a",
        { metadata: { finalizers: null } },
        { "Content-Type": "application/merge-patch+json" },
      );
      expect(fin.status).toBe(200);
      expectStatus(await req("GET", "/api/v1/namespaces/del/configmaps/a"), 404, "NotFound");
      expect(c.metadata.uid).toBeTruthy();
      // immediate delete returns the object
      await req("POST", "/api/v1/namespaces/del/configmaps", { metadata: { name: "b" } });
      const d = await req("DELETE", "/api/v1/namespaces/del/configmaps/b");
      expect(d.status).toBe(200);
      expect(d.json.metadata.name).toBe("b");
      expectStatus(await req("DELETE", "/api/v1/namespaces/del/configmaps/b"), 404, "NotFound");
      // deletecollection by label
      for (const n of ["x1", "x2", "y1"]) await req("POST", "/api/v1/namespaces/del/configmaps", { metadata: { name: n, labels: { g: n[0] } } });
      const dc = await req("DELETE", "/api/v1/namespaces/del/configmaps?labelSelector=g%3Dx");
      expect(dc.status).toBe(200);
      const left = await req("GET", "/api/v1/namespaces/del/configmaps");
      expect(left.json.items.map((i: any) => i.metadata.name)).toEqual(["y1"]);
    });

    it("accepts YAML bodies", async () => {
      await mkNs("yaml");
      const yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  k: v\n";
      const r = await req("POST", "/api/v1/namespaces/yaml/configmaps", yaml, { "Content-Type": "application/yaml" });
      expect(r.status).toBe(201);
      expect(r.json.data).toEqual({ k: "v" });
    });

    it("answers bad input with the right 4xx Status and changes nothing", async () => {
      await mkNs("bad");
      const before = (await req("GET", "/api/v1/namespaces/bad/pods")).json.metadata.resourceVersion;
      const cases: [string, string, unknown, Record<string, string>, number, string][] = [
        ["malformed JSON", "POST", "{not json", {}, 400, "BadRequest"],
        ["malformed YAML", "POST", "a: [1, 2\nb: }", { "Content-Type": "application/yaml" }, 400, "BadRequest"],
        ["wrong kind", "POST", { apiVersion: "v1", kind: "Service", metadata: { name: "x" } }, {}, 400, "BadRequest"],
        ["wrong type", "POST", { metadata: { name: "x" }, spec: { containers: "nope" } }, {}, 422, "Invalid"],
        ["bad name", "POST", pod("Bad_Name"), {}, 422, "Invalid"],
        ["no image", "POST", { metadata: { name: "x" }, spec: { containers: [{ name: "c" }] } }, {}, 422, "Invalid"],
        [
          "bad port",
          "POST",
          { metadata: { name: "x" }, spec: { containers: [{ name: "c", image: "i", ports: [{ containerPort: 70000 }] }] } },
          {},
          422,
          "Invalid",
        ],
        ["bad label", "POST", pod("x", { "bad key!": "v" }), {}, 422, "Invalid"],
        [
          "bad quantity",
          "POST",
          { metadata: { name: "x" }, spec: { containers: [{ name: "c", image: "i", resources: { limits: { memory: "lots" } } }] } },
          {},
          422,
          "Invalid",
        ],
        [
          "unknown field (Strict)",
          "POST?fieldValidation=Strict",
          { metadata: { name: "x" }, spec: { containers: [{ name: "c", image: "i" }], bogus: 1 } },
          {},
          400,
          "BadRequest",
        ],
        [
          "namespace mismatch",
          "POST",
          { metadata: { name: "x", namespace: "other" }, spec: { containers: [{ name: "c", image: "i" }] } },
          {},
          400,
          "BadRequest",
        ],
        ["unsupported media type", "POST", "x", { "Content-Type": "text/csv" }, 415, "UnsupportedMediaType"],
        ["oversized body", "POST", { metadata: { name: "big" }, data: { a: "x".repeat(4 * 1024 * 1024) } }, {}, 413, "RequestEntityTooLarge"],
      ];
      for (const [label, m, body, headers, code, reason] of cases) {
        const [method, q] = m.split("?");
        const path = label === "oversized body" ? "/api/v1/namespaces/bad/configmaps" : `/api/v1/namespaces/bad/pods${q ? `?${q}` : ""}`;
        const r = await req(method, path, body, headers);
        expect([label, r.status, r.json?.reason]).toEqual([label, code, reason]);
        expect(r.json.kind).toBe("Status");
      }
      const invalid = await req("POST", "/api/v1/namespaces/bad/pods", { metadata: { name: "x" }, spec: { containers: [{ name: "c" }] } });
      expect(invalid.json.details.causes).toEqual(expect.arrayContaining([expect.objectContaining({ field: "spec.containers[0].image" })]));
      const strict = await req("POST", "/api/v1/namespaces/bad/pods?fieldValidation=Strict", {
        metadata: { name: "x" },
        spec: { containers: [{ name: "c", image: "i" }], bogus: 1 },
      });
      expect(strict.json.message).toContain('unknown field "spec.bogus"');
      // Warn: created, unknown field dropped, warning header
      const warn = await req("POST", "/api/v1/namespaces/bad/configmaps?fieldValidation=Warn", { metadata: { name: "w" }, data: { a: "1" }, extra: true });
      expect(warn.status).toBe(201);
      expect(warn.json.extra).toBeUndefined();
      expect(warn.headers.get("warning")).toContain('unknown field \\"extra\\"');
      await req("DELETE", "/api/v1/namespaces/bad/configmaps/w");
      expectStatus(await req("GET", "/api/v1/namespaces/bad/bogus"), 404, "NotFound");
      expectStatus(await req("PUT", "/api/v1/namespaces/bad/pods"), 405, "MethodNotAllowed");
      expectStatus(await req("GET", "/api/v1/pods?limit=abc"), 400, "BadRequest");
      // nothing above left a pod behind
      const after = await req("GET", "/api/v1/namespaces/bad/pods");
      expect(after.json.items).toEqual([]);
      expect(Number(after.json.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(before));
    });

    it("gives every namespaced kind an all-namespaces list, and serves cluster-scoped kinds", async () => {
      for (const p of [
        "/api/v1/pods",
        "/api/v1/services",
        "/api/v1/endpoints",
        "/api/v1/events",
        "/api/v1/configmaps",
        "/api/v1/secrets",
        "/api/v1/replicationcontrollers",
        "/apis/apps/v1/deployments",
        "/apis/apps/v1/replicasets",
        "/apis/coordination.k8s.io/v1/leases",
        "/api/v1/nodes",
      ]) {
        const r = await req("GET", p);
        expect([p, r.status]).toEqual([p, 200]);
        expect(r.json.kind).toMatch(/List$/);
      }
      const node = await req("POST", "/api/v1/nodes", {
        metadata: { name: "n1", labels: { "kubernetes.io/hostname": "n1" } },
        status: { capacity: { cpu: "2", memory: "4Gi", pods: "110" } },
      });
      expect(node.status).toBe(201);
      expect(node.json.metadata.namespace).toBeUndefined();
      expect(node.json.status.capacity.cpu).toBe("2");
      const lease = await req("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", {
        metadata: { name: "n1" },
        spec: { holderIdentity: "n1", leaseDurationSeconds: 40 },
      });
      expect(lease.status).toBe(201);
      const secret = await req("POST", "/api/v1/namespaces/default/secrets", { metadata: { name: "s" }, stringData: { a: "b" } });
      expect(secret.status).toBe(201);
      expect(secret.json.type).toBe("Opaque");
    });
  });
};
