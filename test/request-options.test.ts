/**
 * Request options on both runtimes (issue #9): query parameters and DeleteOptions are
 * checked as kube-apiserver checks them (ValidateCreate/Update/Patch/DeleteOptions,
 * ValidateListOptions) before anything is written, and a server-owned time that is not
 * RFC 3339 is refused instead of being overwritten or stored. What kubectl sends keeps
 * working.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send, startNodeTarget, startWorkerTarget, type Target } from "./targets";

const JSON_CT = { "Content-Type": "application/json" };
const MERGE = { "Content-Type": "application/merge-patch+json" };
const APPLY = { "Content-Type": "application/apply-patch+yaml" };

const runtimes: [string, () => Promise<Target>][] = [
  ["Node", () => startNodeTarget()],
  ["Worker", () => startWorkerTarget()],
];

for (const [runtime, start] of runtimes) {
  describe(`request options are checked before anything is written (${runtime})`, () => {
    let t: Target;
    beforeAll(async () => {
      t = await start();
      for (const ns of ["opts", "times"]) {
        const r = await t.fetch("/api/v1/namespaces", { method: "POST", headers: JSON_CT, body: JSON.stringify({ metadata: { name: ns } }) });
        expect(r.status).toBe(201);
      }
    });
    afterAll(async () => {
      await t?.close();
    });

    const req = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => send(t, method, path, body, headers);
    const revision = async () => Number((await req("GET", "/api/v1/namespaces")).json.metadata.resourceVersion);
    /** A request that must fail with `code`/`reason` (and `message`, when given) and write nothing. */
    const refused = async (code: number, reason: string, method: string, path: string, body?: unknown, headers?: Record<string, string>, message?: string) => {
      const before = await revision();
      const r = await req(method, path, body, headers);
      expect(r.status, `${method} ${path}: ${r.text.slice(0, 300)}`).toBe(code);
      expect(r.json).toMatchObject({ kind: "Status", status: "Failure", code, reason });
      if (message) expect(r.json.message).toBe(message);
      expect(await revision(), `${method} ${path} wrote something`).toBe(before);
      return r;
    };
    const cm = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, ...extra }, data: { a: "b" } });

    it("a deletecollection with a bad dryRun deletes nothing (422); dryRun=All deletes nothing either", async () => {
      for (const n of ["a", "b", "c"]) expect((await req("POST", "/api/v1/namespaces/opts/configmaps", cm(n))).status).toBe(201);
      const names = async () => (await req("GET", "/api/v1/namespaces/opts/configmaps")).json.items.map((o: any) => o.metadata.name);
      expect(await names()).toEqual(["a", "b", "c"]);
      await refused(
        422,
        "Invalid",
        "DELETE",
        "/api/v1/namespaces/opts/configmaps?dryRun=Bogus",
        undefined,
        undefined,
        'DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Bogus"}: supported values: "All"',
      );
      await refused(422, "Invalid", "DELETE", "/api/v1/namespaces/opts/configmaps", { dryRun: ["Bogus"] });
      await refused(422, "Invalid", "DELETE", "/api/v1/namespaces/opts/configmaps?resourceVersionMatch=Exact");
      const dry = await req("DELETE", "/api/v1/namespaces/opts/configmaps?dryRun=All");
      expect(dry.status).toBe(200);
      expect(dry.json.items).toHaveLength(3);
      expect(await names()).toEqual(["a", "b", "c"]);
    });

    it("refuses orphanDependents with a propagationPolicy and bad dryRun values on a DELETE (422), and keeps the object", async () => {
      await refused(
        422,
        "Invalid",
        "DELETE",
        "/api/v1/namespaces/opts/configmaps/a",
        { orphanDependents: true, propagationPolicy: "Foreground" },
        JSON_CT,
        'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Foreground": orphanDependents and deletionPropagation cannot be both set',
      );
      await refused(422, "Invalid", "DELETE", "/api/v1/namespaces/opts/configmaps/a?orphanDependents=true&propagationPolicy=Background");
      await refused(422, "Invalid", "DELETE", "/api/v1/namespaces/opts/configmaps/a?dryRun=Bogus");
      await refused(422, "Invalid", "DELETE", "/api/v1/namespaces/opts/configmaps/a", { kind: "DeleteOptions", apiVersion: "v1", dryRun: ["Bogus"] });
      expect((await req("GET", "/api/v1/namespaces/opts/configmaps/a")).status).toBe(200);
      // what kubectl delete sends
      expect(
        (await req("DELETE", "/api/v1/namespaces/opts/configmaps/a", { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" })).status,
      ).toBe(200);
    });

    it("refuses a fieldManager over 128 bytes or with a control character on every write (422 naming the options kind)", async () => {
      const long = "m".repeat(129);
      await refused(
        422,
        "Invalid",
        "POST",
        `/api/v1/namespaces/opts/configmaps?fieldManager=${long}`,
        cm("fm"),
        JSON_CT,
        'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes',
      );
      await refused(
        422,
        "Invalid",
        "PUT",
        "/api/v1/namespaces/opts/configmaps/b?fieldManager=a%01b",
        cm("b"),
        JSON_CT,
        'UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\u0001b": invalid character U+0001 (at position 1)',
      );
      await refused(422, "Invalid", "PATCH", `/api/v1/namespaces/opts/configmaps/b?fieldManager=${long}`, { data: { x: "y" } }, MERGE);
      expect((await req("POST", `/api/v1/namespaces/opts/configmaps?fieldManager=${"m".repeat(128)}`, cm("fm"))).status).toBe(201);
    });

    it("server-side apply needs a fieldManager, an apiVersion and a kind; force is for apply only", async () => {
      const yaml = (extra = "") => `${extra}metadata:\n  name: b\ndata:\n  a: applied\n`;
      await refused(
        422,
        "Invalid",
        "PATCH",
        "/api/v1/namespaces/opts/configmaps/b",
        yaml("apiVersion: v1\nkind: ConfigMap\n"),
        APPLY,
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      );
      await refused(
        400,
        "BadRequest",
        "PATCH",
        "/api/v1/namespaces/opts/configmaps/b?fieldManager=t",
        yaml(),
        APPLY,
        "Incorrect version specified in apply patch. Specified patch version: , expected: v1",
      );
      await refused(400, "BadRequest", "PATCH", "/api/v1/namespaces/opts/configmaps/b?fieldManager=t", yaml("apiVersion: v1\n"), APPLY);
      await refused(
        422,
        "Invalid",
        "PATCH",
        "/api/v1/namespaces/opts/configmaps/b?force=true",
        { data: { a: "merged" } },
        MERGE,
        'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
      );
      // as kubectl apply --server-side --force-conflicts sends it
      const ok = await req("PATCH", "/api/v1/namespaces/opts/configmaps/b?fieldManager=kubectl&force=true", yaml("apiVersion: v1\nkind: ConfigMap\n"), APPLY);
      expect(ok.status, ok.text).toBe(200);
      expect(ok.json.data.a).toBe("applied");
    });

    it("a PUT must name its object (400)", async () => {
      await refused(
        400,
        "BadRequest",
        "PUT",
        "/api/v1/namespaces/opts/configmaps/b",
        { apiVersion: "v1", kind: "ConfigMap", data: { a: "x" } },
        JSON_CT,
        "the name of the object () does not match the name on the URL (b)",
      );
      await refused(400, "BadRequest", "PUT", "/api/v1/namespaces/opts/configmaps/b", { metadata: { namespace: "opts" }, data: {} });
      await refused(400, "BadRequest", "PUT", "/api/v1/namespaces/opts", { apiVersion: "v1", kind: "Namespace" });
    });

    it("refuses list and watch parameters as ValidateListOptions does (422) or that do not decode (400)", async () => {
      const base = "/api/v1/namespaces/opts/configmaps";
      await refused(
        400,
        "BadRequest",
        "GET",
        `${base}?resourceVersion=abc`,
        undefined,
        undefined,
        'invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax',
      );
      await refused(400, "BadRequest", "GET", `${base}?timeoutSeconds=abc`);
      await refused(422, "Invalid", "GET", `${base}?resourceVersionMatch=Exact`);
      await refused(422, "Invalid", "GET", `${base}?resourceVersion=1&resourceVersionMatch=Bogus`);
      await refused(
        422,
        "Invalid",
        "GET",
        `${base}?sendInitialEvents=true`,
        undefined,
        undefined,
        'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list',
      );
      await refused(422, "Invalid", "GET", `${base}?watch=true&resourceVersionMatch=Bogus`);
      // and the usual ones still work
      const rv = (await req("GET", base)).json.metadata.resourceVersion;
      expect((await req("GET", `${base}?resourceVersion=${rv}&resourceVersionMatch=NotOlderThan&timeoutSeconds=5`)).status).toBe(200);
      expect((await req("GET", `${base}?resourceVersion=${rv}&resourceVersionMatch=Exact`)).status).toBe(200);
    });

    it("refuses times that are not RFC 3339 (422 naming the field) instead of overwriting or storing them", async () => {
      const bad = "not-a-time";
      const expectField = (r: { json: any }, field: string) =>
        expect(r.json.details.causes).toContainEqual(
          expect.objectContaining({ field, message: expect.stringContaining(`Invalid value: "${bad}": parsing time`) }),
        );
      expectField(
        await refused(422, "Invalid", "POST", "/api/v1/namespaces/times/configmaps", cm("t1", { creationTimestamp: bad })),
        "metadata.creationTimestamp",
      );
      expectField(
        await refused(422, "Invalid", "POST", "/api/v1/namespaces", { metadata: { name: "t2", deletionTimestamp: bad } }),
        "metadata.deletionTimestamp",
      );
      const ev = {
        metadata: { name: "e" },
        involvedObject: { kind: "Pod", namespace: "times", name: "p" },
        reason: "R",
        message: "m",
        type: "Normal",
        eventTime: bad,
      };
      expectField(await refused(422, "Invalid", "POST", "/api/v1/namespaces/times/events", ev), "eventTime");
      const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "busybox" }] } };
      expect((await req("POST", "/api/v1/namespaces/times/pods", pod)).status).toBe(201);
      expectField(await refused(422, "Invalid", "PUT", "/api/v1/namespaces/times/pods/p/status", { ...pod, status: { startTime: bad } }), "status.startTime");
      expectField(
        await refused(422, "Invalid", "PATCH", "/api/v1/namespaces/times/pods/p", { metadata: { creationTimestamp: bad } }, MERGE),
        "metadata.creationTimestamp",
      );
      // a well-formed time is taken (and the server's own creationTimestamp kept)
      const made = await req("POST", "/api/v1/namespaces/times/configmaps", cm("t3", { creationTimestamp: "2020-01-02T03:04:05Z" }));
      expect(made.status).toBe(201);
      expect(made.json.metadata.creationTimestamp).not.toBe("2020-01-02T03:04:05Z");
      const status = await req("PUT", "/api/v1/namespaces/times/pods/p/status", { ...pod, status: { startTime: "2024-05-01T12:00:00Z" } });
      expect(status.status, status.text).toBe(200);
      expect(status.json.status.startTime).toBe("2024-05-01T12:00:00Z");
    });
  });
}
