/**
 * CustomResourceDefinitions with the real kubectl, on `npm start`'s server and on the
 * Worker in Miniflare: apply a CRD, then custom objects; get with printer columns,
 * explain, scale, merge patch, a 422 naming the field, pruning and defaulting, the
 * status subresource, a second version, and deleting the CRD takes its objects along.
 */
import { expect, it } from "vitest";
import { eventually, type Kubectl } from "./kubectl";
import { WIDGET_CRD, widget } from "./crd-fixtures";
import { onBothRuntimes } from "./kubectl-runtimes";

/** The session, against either runtime. */
const session = (ctx: () => { k: Kubectl }) => {
  const ok = async (args: string | string[], input?: string) => {
    const r = await ctx().k(args, { input });
    if (r.code !== 0) throw new Error(`kubectl ${args} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };

  it("applies a CRD, serves its objects with printer columns, explain, scale, merge patch and 422s", async () => {
    const { k } = ctx();
    // nobody serves Widget yet: kubectl's own message
    const before = await k(["apply", "-f", "-"], { input: widget("early") });
    expect(before.code).not.toBe(0);
    expect(before.stderr).toContain('no matches for kind "Widget" in version "example.com/v1"');

    expect(await ok(["apply", "-f", "-"], WIDGET_CRD)).toBe("customresourcedefinition.apiextensions.k8s.io/widgets.example.com created\n");
    const crd = JSON.parse(await ok("get crd widgets.example.com -o json"));
    expect(crd.status.conditions.map((c: any) => `${c.type}=${c.status}`)).toEqual(["NamesAccepted=True", "Established=True"]);
    expect(crd.status.acceptedNames.kind).toBe("Widget");
    expect(crd.status.storedVersions).toEqual(["v1"]);
    expect(await ok("get crd")).toMatch(/^NAME\s+CREATED AT\nwidgets\.example\.com\s+\d{4}-\d\d-\d\dT/);

    // kubectl asks for strict field validation: an unknown field is refused, with Warn it is pruned
    const strict = await k(["apply", "-f", "-"], { input: widget("w1", "  bogus: 1\n") });
    expect(strict.stderr).toContain('strict decoding error: unknown field "spec.bogus"');
    const warned = await k(["apply", "--validate=warn", "-f", "-"], { input: widget("w1", "  bogus: 1\n") });
    expect(warned.stdout).toBe("widget.example.com/w1 created\n");
    expect(warned.stderr).toContain('unknown field "spec.bogus"');
    expect(await ok("get widgets")).toMatch(/^NAME\s+SIZE\s+REPLICAS\s+AGE\nw1\s+small\s+1\s+\d+s\n$/);
    expect(await ok("get wd w1 -o name")).toBe("widget.example.com/w1\n");
    // pruned and defaulted
    const w1 = JSON.parse(await ok("get widget w1 -o json"));
    expect(w1.spec).toEqual({ size: "small", replicas: 1, color: "blue" });
    expect(w1.metadata.generation).toBe(1);

    // the second version, conversion None: the same object, another apiVersion
    expect(JSON.parse(await ok("get widgets.v1beta1.example.com w1 -o json")).apiVersion).toBe("example.com/v1beta1");

    expect(await ok("explain widget.spec")).toContain("What the widget should be.");
    expect(await ok("explain widget.spec.size")).toContain("How big the widget is.");
    expect(await ok("explain widget.spec --output=plaintext-openapiv2")).toContain("What the widget should be.");

    expect(await ok("scale widget w1 --replicas=3")).toBe("widget.example.com/w1 scaled\n");
    expect(JSON.parse(await ok("get widget w1 -o json")).spec.replicas).toBe(3);

    expect(await ok(["patch", "widget", "w1", "--type=merge", "-p", '{"spec":{"size":"large"}}'])).toBe("widget.example.com/w1 patched\n");
    const patched = JSON.parse(await ok("get widget w1 -o json"));
    expect(patched.spec.size).toBe("large");
    expect(patched.metadata.generation).toBe(3);

    // strategic merge patch is not for custom resources
    const smp = await k(["patch", "widget", "w1", "--type=strategic", "-p", '{"spec":{"size":"small"}}']);
    expect(smp.code).not.toBe(0);
    expect(smp.stderr).toContain("the body of the request was in an unknown format");

    const bad = await k(["apply", "-f", "-"], { input: widget("w2").replace("size: small", "size: huge\n  replicas: -1") });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('The Widget "w2" is invalid');
    expect(bad.stderr).toContain('spec.size: Unsupported value: "huge": supported values: "small", "large"');
    expect(bad.stderr).toContain("spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0");
    expect((await k("get widget w2")).code).not.toBe(0);

    // the status subresource: a main-resource write leaves status alone, /status writes it
    expect(await ok(["patch", "widget", "w1", "--type=merge", "--subresource=status", "-p", '{"status":{"replicas":3,"selector":"app=w"}}'])).toBe(
      "widget.example.com/w1 patched\n",
    );
    expect(await ok(["patch", "widget", "w1", "--type=merge", "-p", '{"status":{"replicas":9}}'])).toContain("patched");
    const st = JSON.parse(await ok("get widget w1 -o json"));
    expect(st.status).toEqual({ replicas: 3, selector: "app=w" });
    expect(st.metadata.generation).toBe(3);

    // a watch as kubectl shows it (Table rows with the printer columns)
    const w = k.spawn(["get", "widgets", "-w", "--output-watch-events"]);
    try {
      // the list comes first (as ADDED events), and the watch resumes from the list's revision: w4 can't be missed
      await eventually(async () => /ADDED\s+w1\s/.test(w.output()), 20_000);
      await ok(["apply", "-f", "-"], widget("w4"));
      await eventually(async () => /ADDED\s+w4\s+small\s+1/.test(w.output()), 20_000);
    } finally {
      w.kill();
    }

    // categories: `kubectl get all` lists widgets
    expect(await ok("get all -n default")).toContain("widget.example.com/w1");
    expect(await ok("describe widget w1")).toMatch(/Name:\s+w1/);
    // server-side apply of a custom object, and applying the CRD again with a change
    expect(await ok(["apply", "--server-side", "-f", "-"], widget("w1").replace("size: small", "size: small\n  color: red"))).toBe(
      "widget.example.com/w1 serverside-applied\n",
    );
    expect(JSON.parse(await ok("get widget w1 -o json")).spec).toMatchObject({ size: "small", color: "red", replicas: 3 });
    expect(
      await ok(
        ["apply", "-f", "-"],
        WIDGET_CRD.replace("    - name: Size\n", "    - name: Colour\n      type: string\n      jsonPath: .spec.color\n    - name: Size\n"),
      ),
    ).toBe("customresourcedefinition.apiextensions.k8s.io/widgets.example.com configured\n");
    await eventually(async () => /^NAME\s+COLOUR\s+SIZE/.test(await ok("get widgets")), 20_000);
    expect(await ok("explain crd.spec.versions.additionalPrinterColumns")).toContain("jsonPath");
    expect(await ok("describe crd widgets.example.com")).toMatch(/Established/);

    // the garbage collector deletes a custom object whose owner is gone
    await ok("create configmap owner");
    const uid = await ok("get configmap owner -o jsonpath={.metadata.uid}");
    const owned = widget("w5").replace(
      "  namespace: default\n",
      `  namespace: default\n  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owner, uid: ${uid}}]\n`,
    );
    await ok(["apply", "-f", "-"], owned);
    await ok("delete configmap owner");
    await eventually(async () => (await k("get widget w5")).code !== 0, 20_000);

    // a namespace being deleted takes its custom objects along
    await ok("create namespace crdns");
    await ok(["apply", "-f", "-"], widget("w3").replace("namespace: default", "namespace: crdns"));
    await ok("delete namespace crdns --timeout=60s");
    // made again, the namespace is empty: the widget was deleted with it, not left behind
    await ok("create namespace crdns");
    expect((await k("get widget w3 -n crdns")).stderr).toContain('widgets.example.com "w3" not found');
    await ok("delete namespace crdns --wait=false");
  });

  it("deleting the CRD deletes its objects", async () => {
    const { k } = ctx();
    expect(await ok("delete crd widgets.example.com --wait=true --timeout=60s")).toBe(
      'customresourcedefinition.apiextensions.k8s.io "widgets.example.com" deleted\n',
    );
    expect((await k("get crd widgets.example.com")).code).not.toBe(0);
    await eventually(async () => (await k("get widgets")).code !== 0, 20_000);
    // a CRD of the same name again starts empty
    await ok(["apply", "-f", "-"], WIDGET_CRD);
    await eventually(async () => (await k("get widgets -o name")).code === 0, 20_000);
    expect(await ok("get widgets -o name")).toBe("");
    await ok("delete crd widgets.example.com");
  });
};

onBothRuntimes("CRDs with kubectl", session);
