/**
 * CustomResourceDefinitions over plain HTTP on both runtimes: the CRD's own rules (422
 * naming the field), names taken by a built-in or another CRD (NamesAccepted False, not
 * served), aggregated discovery, the OpenAPI v3 document of the group, deprecation
 * warnings, and the 415 of a strategic merge patch.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { WIDGET_CRD } from "./crd-fixtures";
import { eventually } from "./kubectl";
import { send, startNodeTarget, startWorkerTarget, type Target } from "./targets";

const CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

const simple = (plural: string, group: string, kind: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: "Cluster",
    names: { plural, kind },
    versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
    ...extra,
  },
});

const runtimes = [
  ["Node", () => startNodeTarget({ controllers: true })],
  ["Worker", () => startWorkerTarget({ controllers: true })],
] as const;

for (const [runtime, start] of runtimes) {
  describe(`CustomResourceDefinitions over HTTP (${runtime})`, () => {
    let t: Target;
    beforeAll(async () => {
      t = await start();
    }, 60_000);
    afterAll(async () => t?.close());

    it("refuses a CRD that breaks the rules, naming the fields", async () => {
      const bad = simple("things", "example.com", "Thing");
      bad.metadata.name = "stuff.example.com";
      (bad.spec.versions[0].schema.openAPIV3Schema as any) = { type: "object", properties: { spec: { properties: {} } } };
      const r = await send(t, "POST", CRDS, bad);
      expect(r.status).toBe(422);
      expect(r.json.reason).toBe("Invalid");
      expect(r.json.details.causes.map((c: any) => c.field)).toEqual(["metadata.name", "spec.versions[0].schema.openAPIV3Schema.properties[spec].type"]);
      expect((await send(t, "GET", `${CRDS}/stuff.example.com`)).status).toBe(404);
    });

    it("does not serve a CRD whose names are taken (a built-in's plural, another group's plural)", async () => {
      const pods = await send(t, "POST", CRDS, simple("pods", "example.com", "MyPod"));
      expect(pods.status).toBe(201);
      expect(pods.json.status.conditions.map((c: any) => `${c.type}=${c.status}:${c.reason}`)).toEqual([
        "NamesAccepted=False:PluralConflict",
        "Established=False:NotAccepted",
      ]);
      expect((await send(t, "GET", "/apis/example.com/v1/pods")).status).toBe(404);
      expect((await send(t, "POST", CRDS, simple("gadgets", "a.example.com", "Gadget"))).status).toBe(201);
      const again = await send(t, "POST", CRDS, simple("gadgets", "b.example.com", "Gadget"));
      expect(again.json.status.conditions[0]).toMatchObject({ type: "NamesAccepted", status: "False", message: '"gadgets" is already in use' });
      expect((await send(t, "GET", "/apis/a.example.com/v1/gadgets")).status).toBe(200);
      expect((await send(t, "GET", "/apis/b.example.com/v1/gadgets")).status).toBe(404);
    });

    it("shows custom resources in aggregated discovery and OpenAPI v3; warns of deprecated versions; 415 for strategic merge patch", async () => {
      const crd = parse(WIDGET_CRD);
      crd.spec.versions[1].deprecated = true;
      expect((await send(t, "POST", CRDS, crd)).status).toBe(201);
      const disc = await eventually(async () => {
        const r = await send(t, "GET", "/apis", undefined, { Accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList" });
        return r.json.items.find((g: any) => g.metadata.name === "example.com");
      });
      expect(disc.versions.map((v: any) => v.version)).toEqual(["v1", "v1beta1"]);
      const widgets = disc.versions[0].resources.find((r: any) => r.resource === "widgets");
      expect(widgets).toMatchObject({ scope: "Namespaced", shortNames: ["wd"], categories: ["all"], responseKind: { kind: "Widget" } });
      expect(widgets.subresources.map((s: any) => s.subresource)).toEqual(["status", "scale"]);

      const v3 = await send(t, "GET", "/openapi/v3/apis/example.com/v1");
      const schema = v3.json.components.schemas["com.example.v1.Widget"];
      expect(schema["x-kubernetes-group-version-kind"]).toEqual([{ group: "example.com", kind: "Widget", version: "v1" }]);
      expect(schema.properties.spec.properties.size.description).toBe("How big the widget is.");
      expect(v3.json.paths["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/scale"]).toBeTruthy();

      const old = await send(t, "POST", "/apis/example.com/v1beta1/namespaces/default/widgets", {
        apiVersion: "example.com/v1beta1",
        kind: "Widget",
        metadata: { name: "old" },
        spec: { size: "small", anything: 1 },
      });
      expect(old.status).toBe(201);
      expect(old.headers.get("Warning")).toContain("example.com/v1beta1 Widget is deprecated");
      // every request to the deprecated version is warned, not those to the other one
      expect((await send(t, "GET", "/apis/example.com/v1beta1/namespaces/default/widgets")).headers.get("Warning")).toContain("is deprecated");
      expect((await send(t, "GET", "/apis/example.com/v1/namespaces/default/widgets")).headers.get("Warning")).toBeNull();
      // stored once, read in either version
      expect((await send(t, "GET", "/apis/example.com/v1/namespaces/default/widgets/old")).json.apiVersion).toBe("example.com/v1");

      const smp = await send(
        t,
        "PATCH",
        "/apis/example.com/v1/namespaces/default/widgets/old",
        { spec: { size: "large" } },
        {
          "Content-Type": "application/strategic-merge-patch+json",
        },
      );
      expect(smp.status).toBe(415);
      expect(smp.json.reason).toBe("UnsupportedMediaType");
    });
  });
}
