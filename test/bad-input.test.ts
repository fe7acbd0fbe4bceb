/**
 * Bad values on both runtimes (issue #9, items 2-4): every case answers a 4xx
 * `kind: Status` with kube-apiserver's reason, and writes nothing (the store's global
 * revision does not move, the object is absent or unchanged). Also: a body built to
 * freeze the server (a pod with a quantity of millions of digits) is refused while
 * /healthz keeps answering.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_DEPTH } from "../shared/validation/limits";
import { expectStatus } from "./api-error";
import { send, startNodeTarget, startWorkerTarget, type Target } from "./targets";

const YAML_CT = { "Content-Type": "application/yaml" };
const JSON_PATCH = { "Content-Type": "application/json-patch+json" };
const MERGE_PATCH = { "Content-Type": "application/merge-patch+json" };

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const runtimes: [string, () => Promise<Target>][] = [
  ["Node", () => startNodeTarget()],
  ["Worker", () => startWorkerTarget()],
];

for (const [runtime, start] of runtimes) {
  describe(`bad values are 4xx Status errors that write nothing (${runtime})`, () => {
    let t: Target;
    beforeAll(async () => {
      t = await start();
    });
    afterAll(async () => {
      await t?.close();
    });

    const req = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => send(t, method, path, body, headers);
    /** The store's global revision: any write moves it. */
    const revision = async () => Number((await req("GET", "/api/v1/namespaces")).json.metadata.resourceVersion);
    /** Run a request that must fail with `code`/`reason` and must not write anything. */
    const refused = async (code: number, reason: string, method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
      const before = await revision();
      const r = await req(method, path, body, headers);
      expectStatus(r, code, reason);
      expect(await revision()).toBe(before);
      return r;
    };
    const absent = async (path: string) => expectStatus(await req("GET", path), 404, "NotFound");
    const mkNs = async (ns: string) => expect((await req("POST", "/api/v1/namespaces", { metadata: { name: ns } })).status).toBe(201);
    const pod = (name: string, spec: Record<string, unknown>) => ({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec });
    const container = (extra: Record<string, unknown> = {}) => ({ name: "c", image: "busybox:1.36", ...extra });

    it("refuses a pod with a quantity of 2.9 million digits (422 naming the field) while /healthz keeps answering", async () => {
      await mkNs("big");
      const before = await revision();
      const huge = "1".repeat(2_900_000); // the body stays under the 3 MiB limit
      let posting = true;
      const posts = Promise.all(
        [0, 1, 2].map((i) =>
          req("POST", "/api/v1/namespaces/big/pods", pod(`big-${i}`, { containers: [container({ resources: { requests: { cpu: huge } } })] })),
        ),
      ).finally(() => {
        posting = false;
      });
      // while the three bodies are uploaded and checked, the server keeps answering
      const latencies: number[] = [];
      while (posting) {
        const t0 = performance.now();
        expect((await t.fetch("/healthz", { token: null })).status).toBe(200);
        latencies.push(performance.now() - t0);
        await sleep(20);
      }
      for (const r of await posts) {
        expectStatus(r, 422, "Invalid");
        expect(r.json.details.causes).toEqual([
          { reason: "FieldValueTooLong", field: "spec.containers[0].resources.requests[cpu]", message: "Too long: may not be more than 100 bytes" },
        ]);
        expect(r.text.length).toBeLessThan(2000); // the value is not echoed
      }
      expect(latencies.length).toBeGreaterThan(0);
      expect(Math.max(...latencies)).toBeLessThan(1000);
      for (const i of [0, 1, 2]) await absent(`/api/v1/namespaces/big/pods/big-${i}`);
      // nothing was stored, so no scheduling pass ever meets it
      expect(await revision()).toBe(before);
    });

    it("refuses containers that are not a list of objects (422, not 500)", async () => {
      await mkNs("shapes");
      for (const [containers, field] of [
        [{}, "spec.containers"],
        [[null], "spec.containers[0]"],
        ["x", "spec.containers"],
        [[container(), 5], "spec.containers[1]"],
      ] as const) {
        const r = await refused(422, "Invalid", "POST", "/api/v1/namespaces/shapes/pods", pod("p", { containers }));
        expect(r.json.details.causes[0]).toMatchObject({ reason: "FieldValueTypeInvalid", field });
      }
      await absent("/api/v1/namespaces/shapes/pods/p");
      // the same shapes in a pod template
      const d = {
        metadata: { name: "d" },
        spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [null] } } },
      };
      await refused(422, "Invalid", "POST", "/apis/apps/v1/namespaces/shapes/deployments", d);
    });

    it(`refuses JSON nested deeper than ${MAX_DEPTH} levels in any field (400), and takes ${MAX_DEPTH}`, async () => {
      await mkNs("deep");
      const cm = (extra: string) => `{"metadata":{"name":"cm"},"data":{"a":"b"},"extra":${extra}}`;
      const r = await refused(400, "BadRequest", "POST", "/api/v1/namespaces/deep/configmaps", cm(nested(10_000)));
      expect(r.json.message).toBe(`the request body is not valid JSON: exceeded max depth of ${MAX_DEPTH}`);
      await refused(400, "BadRequest", "POST", "/api/v1/namespaces/deep/configmaps", `{"metadata":{"name":"cm","labels":${nested(10_000)}}}`);
      await refused(400, "BadRequest", "POST", "/api/v1/namespaces/deep/configmaps", cm(nested(MAX_DEPTH)));
      await absent("/api/v1/namespaces/deep/configmaps/cm");
      // exactly the limit goes through every step (the unknown field is dropped with a warning)
      const ok = await req("POST", "/api/v1/namespaces/deep/configmaps", cm(nested(MAX_DEPTH - 1)));
      expect(ok.status, ok.text.slice(0, 300)).toBe(201);
      expect(ok.headers.get("warning")).toContain('unknown field \\"extra\\"');
      expect(ok.json.extra).toBeUndefined();
      // a deep value where a string belongs is a type error, not a crash
      const ann = `{"metadata":{"name":"cm2","annotations":{"a":${nested(MAX_DEPTH - 3)}}}}`;
      await refused(422, "Invalid", "POST", "/api/v1/namespaces/deep/configmaps", ann);
      // patches: too deep is refused, the object stays as it was
      const rv = (await req("GET", "/api/v1/namespaces/deep/configmaps/cm")).json.metadata.resourceVersion;
      await refused(400, "BadRequest", "PATCH", "/api/v1/namespaces/deep/configmaps/cm", `{"data":{"x":${nested(10_000)}}}`, MERGE_PATCH);
      await refused(
        400,
        "BadRequest",
        "PATCH",
        "/api/v1/namespaces/deep/configmaps/cm",
        `[{"op":"add","path":"/data/x","value":${nested(10_000)}}]`,
        JSON_PATCH,
      );
      await refused(400, "BadRequest", "PUT", "/api/v1/namespaces/deep/configmaps/cm", cm(nested(10_000)));
      await refused(400, "BadRequest", "POST", "/api/v1/namespaces/deep/configmaps", `metadata: {name: y}\nextra: ${nested(10_000)}\n`, YAML_CT);
      expect((await req("GET", "/api/v1/namespaces/deep/configmaps/cm")).json.metadata.resourceVersion).toBe(rv);
    });

    it("refuses a list limit beyond int64 (400) and takes the largest int64", async () => {
      const r = await refused(400, "BadRequest", "GET", "/api/v1/pods?limit=99999999999999999999");
      expect(r.json.message).toContain("limit");
      const all = await req("GET", "/api/v1/namespaces?limit=9223372036854775807");
      expect(all.status).toBe(200);
      expect(all.json.items.length).toBeGreaterThan(0);
      expect(all.json.metadata.continue).toBeUndefined();
      await refused(400, "BadRequest", "GET", "/api/v1/namespaces?limit=1e3");
    });

    it("answers malformed percent-encoding in a path with a 400 Status, and unknown bytes with 404", async () => {
      await mkNs("pct");
      expect((await refused(400, "BadRequest", "GET", "/api/v1/namespaces/%ZZ/pods")).json.message).toBe('invalid URL escape "%ZZ"');
      expect((await refused(400, "BadRequest", "GET", "/api/v1/namespaces/pct/configmaps/%E0%A4%A")).json.message).toBe('invalid URL escape "%A"');
      await refused(400, "BadRequest", "GET", "/api/v1/namespaces/pct/configmaps/%");
      await refused(400, "BadRequest", "GET", "/apis/apps/v1/namespaces/%ZZ/deployments");
      await refused(400, "BadRequest", "PUT", "/api/v1/namespaces/pct/configmaps/a%G1", { metadata: { name: "a%G1" } });
      await refused(400, "BadRequest", "DELETE", "/api/v1/namespaces/pct/configmaps/%");
      // well-formed escapes of bytes that are not UTF-8 name nothing
      await refused(404, "NotFound", "GET", "/api/v1/namespaces/pct/configmaps/%E0%A4");
      // and well-formed ones still work
      expect((await req("POST", "/api/v1/namespaces/pct/configmaps", { metadata: { name: "a.b" } })).status).toBe(201);
      expect((await req("GET", "/api/v1/namespaces/pct/configmaps/a%2Eb")).status).toBe(200);
    });

    it("refuses DeleteOptions of the wrong types (400) and keeps the object", async () => {
      await mkNs("del");
      const made = await req("POST", "/api/v1/namespaces/del/configmaps", { metadata: { name: "cm" } });
      expect(made.status).toBe(201);
      for (const body of [
        '{"dryRun":{"a":1}}',
        '{"dryRun":"All"}',
        '{"dryRun":[1]}',
        '{"gracePeriodSeconds":"5"}',
        '{"preconditions":5}',
        '{"preconditions":{"uid":7}}',
        '{"orphanDependents":"yes"}',
        '{"propagationPolicy":1}',
        "[]",
      ]) {
        const r = await refused(400, "BadRequest", "DELETE", "/api/v1/namespaces/del/configmaps/cm", body);
        expect(r.json.message).not.toContain("is not iterable");
      }
      await refused(400, "BadRequest", "DELETE", "/api/v1/namespaces/del/configmaps", '{"dryRun":{"a":1}}');
      const still = await req("GET", "/api/v1/namespaces/del/configmaps/cm");
      expect(still.status).toBe(200);
      expect(still.json.metadata.resourceVersion).toBe(made.json.metadata.resourceVersion);
    });

    it("refuses a join token lifetime no clock can hold (400) and makes no token", async () => {
      const tokens = async () =>
        (await req("GET", "/api/v1/namespaces/kube-system/secrets?fieldSelector=type%3Dbootstrap.kubernetes.io%2Ftoken")).json.items.length;
      const n = await tokens();
      for (const ttl of ["1e15", "9223372036854775807", "-1", "1.5"]) {
        const r = await refused(400, "BadRequest", "POST", "/apis/kubeflare.dev/v1/bootstraptokens", `{"ttlSeconds":${ttl}}`);
        expect(r.json.message).toContain("ttlSeconds");
      }
      expect(await tokens()).toBe(n);
      expect((await req("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { ttlSeconds: 3600 })).status).toBe(201);
      expect(await tokens()).toBe(n + 1);
    });

    it("refuses numbers JSON and YAML cannot carry (400) instead of storing null", async () => {
      await mkNs("nums");
      const json = (memory: string) =>
        `{"metadata":{"name":"m"},"spec":{"containers":[{"name":"c","image":"i","resources":{"requests":{"memory":${memory}}}}]}}`;
      const r = await refused(400, "BadRequest", "POST", "/api/v1/namespaces/nums/pods", json("1e999"));
      expect(r.json.message).toBe("the request body is not valid JSON: number 1e999 at spec.containers[0].resources.requests.memory is out of range");
      await refused(400, "BadRequest", "POST", "/api/v1/namespaces/nums/pods", json("-1E+400"));
      await refused(
        400,
        "BadRequest",
        "POST",
        "/api/v1/namespaces/nums/pods",
        '{"metadata":{"name":"m"},"spec":{"terminationGracePeriodSeconds":1e999,"containers":[{"name":"c","image":"i"}]}}',
      );
      for (const [v, go] of [
        [".inf", "+Inf"],
        ["-.inf", "-Inf"],
        [".nan", "NaN"],
      ]) {
        const y = `metadata: {name: m}\nspec:\n  containers:\n  - name: c\n    image: i\n    resources: {requests: {memory: ${v}}}\n`;
        const e = await refused(400, "BadRequest", "POST", "/api/v1/namespaces/nums/pods", y, YAML_CT);
        expect(e.json.message).toBe(`the request body is not valid YAML: spec.containers[0].resources.requests.memory: json: unsupported value: ${go}`);
      }
      await absent("/api/v1/namespaces/nums/pods/m");
      // nor through a patch of an existing object
      expect((await req("POST", "/api/v1/namespaces/nums/configmaps", { metadata: { name: "cm" }, data: { a: "b" } })).status).toBe(201);
      await refused(400, "BadRequest", "PATCH", "/api/v1/namespaces/nums/configmaps/cm", '{"data":{"a":1e999}}', MERGE_PATCH);
      expect((await req("GET", "/api/v1/namespaces/nums/configmaps/cm")).json.data).toEqual({ a: "b" });
    });

    it("stores a Pod's negative terminationGracePeriodSeconds as 1 with kube-apiserver's warning; templates keep theirs", async () => {
      await mkNs("grace");
      const r = await req("POST", "/api/v1/namespaces/grace/pods", pod("g", { terminationGracePeriodSeconds: -5, containers: [container()] }));
      expect(r.status, r.text).toBe(201);
      expect(r.headers.get("warning")).toBe('299 - "spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1"');
      expect(r.json.spec.terminationGracePeriodSeconds).toBe(1);
      expect((await req("GET", "/api/v1/namespaces/grace/pods/g")).json.spec.terminationGracePeriodSeconds).toBe(1);
      const d = await req("POST", "/apis/apps/v1/namespaces/grace/deployments", {
        metadata: { name: "d" },
        spec: {
          selector: { matchLabels: { a: "b" } },
          template: { metadata: { labels: { a: "b" } }, spec: { terminationGracePeriodSeconds: -5, containers: [container()] } },
        },
      });
      expect(d.status, d.text).toBe(201);
      expect(d.headers.get("warning")).toBe(
        '299 - "spec.template.spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1"',
      );
      expect(d.json.spec.template.spec.terminationGracePeriodSeconds).toBe(-5);
    });

    it("refuses Secret stringData values that are not strings (422) instead of coercing them", async () => {
      await mkNs("sec");
      for (const v of [5, true, { a: "b" }, ["x"]]) {
        const r = await refused(422, "Invalid", "POST", "/api/v1/namespaces/sec/secrets", { metadata: { name: "s" }, stringData: { k: v } });
        expect(r.json.details.causes[0]).toMatchObject({ reason: "FieldValueTypeInvalid", field: "stringData[k]" });
      }
      await absent("/api/v1/namespaces/sec/secrets/s");
      expect((await req("POST", "/api/v1/namespaces/sec/secrets", { metadata: { name: "s" }, stringData: { k: "v" } })).status).toBe(201);
      await refused(422, "Invalid", "PUT", "/api/v1/namespaces/sec/secrets/s", { metadata: { name: "s" }, stringData: { k: 5 } });
      expect((await req("GET", "/api/v1/namespaces/sec/secrets/s")).json.data).toEqual({ k: btoa("v") });
    });

    it("refuses namespaces/finalize with finalizers that are not a list of strings (422) and keeps the finalizer", async () => {
      await mkNs("fin");
      for (const finalizers of [5, "kubernetes", [5], { a: 1 }]) {
        const r = await refused(422, "Invalid", "PUT", "/api/v1/namespaces/fin/finalize", { metadata: { name: "fin" }, spec: { finalizers } });
        expect(r.json.details.causes[0].field).toMatch(/^spec\.finalizers/);
      }
      expect((await req("GET", "/api/v1/namespaces/fin")).json.spec.finalizers).toEqual(["kubernetes"]);
    });

    it("refuses a patch that renames the object (400), moves it (400) or changes its uid (422)", async () => {
      await mkNs("ren");
      const made = await req("POST", "/api/v1/namespaces/ren/configmaps", { metadata: { name: "cm" }, data: { a: "b" } });
      const path = "/api/v1/namespaces/ren/configmaps/cm";
      const name = await refused(400, "BadRequest", "PATCH", path, [{ op: "replace", path: "/metadata/name", value: "other" }], JSON_PATCH);
      expect(name.json.message).toBe("the name of the object (other) does not match the name on the URL (cm)");
      await refused(400, "BadRequest", "PATCH", path, [{ op: "remove", path: "/metadata/name" }], JSON_PATCH);
      await refused(400, "BadRequest", "PATCH", path, { metadata: { name: "other" } }, MERGE_PATCH);
      const ns = await refused(400, "BadRequest", "PATCH", path, [{ op: "replace", path: "/metadata/namespace", value: "default" }], JSON_PATCH);
      expect(ns.json.message).toBe("the namespace of the object (default) does not match the namespace on the request (ren)");
      const uid = await refused(422, "Invalid", "PATCH", path, [{ op: "replace", path: "/metadata/uid", value: "abc" }], JSON_PATCH);
      expect(uid.json.message).toBe('ConfigMap "cm" is invalid: metadata.uid: Invalid value: "abc": field is immutable');
      await refused(422, "Invalid", "PATCH", path, { metadata: { uid: "abc" } }, MERGE_PATCH);
      await refused(422, "Invalid", "PUT", path, { metadata: { name: "cm", uid: "abc" }, data: { a: "c" } });
      await absent("/api/v1/namespaces/ren/configmaps/other");
      const now = await req("GET", path);
      expect(now.json.metadata).toMatchObject({ uid: made.json.metadata.uid, resourceVersion: made.json.metadata.resourceVersion });
      // the uid it has, or none, is fine
      expect((await req("PATCH", path, [{ op: "replace", path: "/metadata/uid", value: made.json.metadata.uid }], JSON_PATCH)).status).toBe(200);
    });

    it("validates pod log options as kube-apiserver does: 422 for bad values, 400 for unparsable ones", async () => {
      await mkNs("logs");
      expect((await req("POST", "/api/v1/namespaces/logs/pods", pod("p", { containers: [container()] }))).status).toBe(201);
      const log = "/api/v1/namespaces/logs/pods/p/log";
      const r = await refused(422, "Invalid", "GET", `${log}?limitBytes=-1`);
      expect(r.json.message).toBe('PodLogOptions "p" is invalid: limitBytes: Invalid value: -1: must be greater than 0');
      expect(r.json.details).toMatchObject({ kind: "PodLogOptions", causes: [{ reason: "FieldValueInvalid", field: "limitBytes" }] });
      await refused(422, "Invalid", "GET", `${log}?limitBytes=0`);
      await refused(422, "Invalid", "GET", `${log}?tailLines=-1`);
      await refused(422, "Invalid", "GET", `${log}?sinceSeconds=0`);
      await refused(422, "Invalid", "GET", `${log}?sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z`);
      const time = await refused(400, "BadRequest", "GET", `${log}?sinceTime=garbage`);
      expect(time.json.message).toContain('"garbage"');
      await refused(400, "BadRequest", "GET", `${log}?sinceTime=2024-13-45T99:00:00Z`);
      await refused(400, "BadRequest", "GET", `${log}?limitBytes=99999999999999999999`);
      // good values still work, huge ones included
      for (const q of [
        "sinceTime=2024-01-01T00:00:00Z",
        "sinceTime=2024-01-01T02:00:00%2B02:00",
        "limitBytes=9223372036854775807&tailLines=9223372036854775807",
        "sinceSeconds=9223372036854775807",
        "timestamps=true",
      ]) {
        const ok = await req("GET", `${log}?${q}`);
        expect(ok.status, `${q}: ${ok.text}`).toBe(200);
      }
    });

    it("reads boolean query parameters as kube's codec does (watch=True, as the Python client sends it, is a watch)", async () => {
      expect((await req("GET", "/api/v1/namespaces?watch=FALSE")).json.kind).toBe("NamespaceList");
      const ac = new AbortController();
      const w = await t.fetch("/api/v1/namespaces?watch=True&timeoutSeconds=1", { signal: ac.signal });
      expect(w.status).toBe(200);
      const first = JSON.parse((await w.text()).split("\n")[0]);
      expect(first.type).toBe("ADDED");
    });
  });
}
