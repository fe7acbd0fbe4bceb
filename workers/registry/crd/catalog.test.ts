import { describe, expect, it } from "vitest";
import type { KObject } from "../../../shared/types";
import type { Store } from "../../store/store";
import { findResource, kindOf, RESOURCES, resourceByKind, servedGroupVersions, servedResources } from "../kinds";
import { customKind, refreshAfterMiss, refreshCustomKinds, rememberCustomResourceDefinition } from "./catalog";

const crd = (plural: string, rv: string, established = true): KObject => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${plural}.cat.example.com`, resourceVersion: rv },
  spec: {
    group: "cat.example.com",
    scope: "Cluster",
    names: { plural, kind: plural[0].toUpperCase() + plural.slice(1, -1) },
    versions: [
      { name: "v1beta1", served: true, storage: false, schema: { openAPIV3Schema: { type: "object" } } },
      { name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object" } } },
    ],
  },
  status: {
    acceptedNames: { plural, kind: plural[0].toUpperCase() + plural.slice(1, -1) },
    conditions: [{ type: "Established", status: established ? "True" : "False" }],
  },
});

/** A store that only lists CRDs, counting its reads. */
const fakeStore = (items: KObject[]) => {
  const s = { reads: 0, items, list: async () => ({ items: s.items, revision: 1 }) };
  return s;
};

describe("the custom resource catalog", () => {
  it("reads the CRDs once per max age, and again after a miss at most once a second", async () => {
    const store = fakeStore([crd("cats", "1")]);
    const counted = {
      list: async () => {
        store.reads++;
        return store.list();
      },
    } as unknown as Store;
    await refreshCustomKinds(counted, 5000, 1_000_000);
    expect(store.reads).toBe(1);
    for (let t = 1_000_000; t < 1_004_999; t += 100) await refreshCustomKinds(counted, 5000, t);
    expect(store.reads).toBe(1);
    await refreshCustomKinds(counted, 5000, 1_005_000);
    expect(store.reads).toBe(2);
    expect(await refreshAfterMiss(counted, 1_005_100)).toBe(true);
    expect(await refreshAfterMiss(counted, 1_005_600)).toBe(false);
    expect(store.reads).toBe(3);
  });

  it("serves established CRDs beside the static kinds, the storage version first, without changing RESOURCES", async () => {
    const staticCount = RESOURCES.length;
    const store = fakeStore([crd("cats", "1"), crd("dogs", "2", false)]);
    await refreshCustomKinds(store as unknown as Store, 0);
    expect(RESOURCES.length).toBe(staticCount);
    expect(findResource("cat.example.com", "v1beta1", "cats")?.kind).toBe("Cat");
    expect(findResource("cat.example.com", "v1", "dogs")).toBeUndefined();
    expect(resourceByKind("cat.example.com/v1", "Cat")?.resource).toBe("cats");
    expect(kindOf("cats").info.version).toBe("v1");
    expect(kindOf(findResource("cat.example.com", "v1beta1", "cats")!).info.version).toBe("v1beta1");
    expect(kindOf("pods").info.kind).toBe("Pod");
    // discovery: the group's preferred version is the highest by Kubernetes' priority
    expect(
      servedGroupVersions()
        .filter((g) => g.group === "cat.example.com")
        .map((g) => g.version),
    ).toEqual(["v1", "v1beta1"]);
    expect(servedResources().length).toBe(staticCount + 2);
    // a write seen here updates the layer without a read
    rememberCustomResourceDefinition(crd("cats", "1"), true);
    expect(customKind("cats")).toBeUndefined();
    expect(() => kindOf("cats")).toThrow();
  });
});
