import { describe, expect, it } from "vitest";
import type { KObject } from "../../../shared/types";
import {
  matchNodeSelectorRequirement,
  matchNodeSelectorTerm,
  matchNodeSelectorTerms,
  preferredNodeAffinity,
  requiredNodeAffinity,
  requiredPodAffinityTerms,
  requiredPodAntiAffinityTerms,
  usesNamespaceSelector,
} from "./affinity";

const node = (name: string, labels: Record<string, string>): KObject => ({ apiVersion: "v1", kind: "Node", metadata: { name, labels } });
const pod = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}): KObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "default", ...meta },
  spec: { containers: [{ name: "c", image: "i" }], ...spec },
});
const required = (...terms: unknown[]) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });

describe("matchNodeSelectorRequirement", () => {
  it("In / NotIn", () => {
    expect(matchNodeSelectorRequirement({ key: "k", operator: "In", values: ["a", "b"] }, "b")).toBe(true);
    expect(matchNodeSelectorRequirement({ key: "k", operator: "In", values: ["a"] }, undefined)).toBe(false);
    expect(matchNodeSelectorRequirement({ key: "k", operator: "NotIn", values: ["a"] }, "b")).toBe(true);
    expect(matchNodeSelectorRequirement({ key: "k", operator: "NotIn", values: ["a"] }, "a")).toBe(false);
    expect(matchNodeSelectorRequirement({ key: "k", operator: "NotIn", values: ["a"] }, undefined)).toBe(true);
  });

  it("Exists / DoesNotExist", () => {
    expect(matchNodeSelectorRequirement({ key: "k", operator: "Exists" }, "")).toBe(true);
    expect(matchNodeSelectorRequirement({ key: "k", operator: "Exists" }, undefined)).toBe(false);
    expect(matchNodeSelectorRequirement({ key: "k", operator: "DoesNotExist" }, undefined)).toBe(true);
    expect(matchNodeSelectorRequirement({ key: "k", operator: "DoesNotExist" }, "x")).toBe(false);
  });

  it("Gt / Lt compare integers, and fail on anything else", () => {
    expect(matchNodeSelectorRequirement({ key: "k", operator: "Gt", values: ["4"] }, "5")).toBe(true);
    expect(matchNodeSelectorRequirement({ key: "k", operator: "Gt", values: ["4"] }, "4")).toBe(false);
    expect(matchNodeSelectorRequirement({ key: "k", operator: "Lt", values: ["4"] }, "-1")).toBe(true);
    expect(matchNodeSelectorRequirement({ key: "k", operator: "Lt", values: ["4"] }, "10")).toBe(false);
    expect(matchNodeSelectorRequirement({ key: "k", operator: "Gt", values: ["4"] }, "5.5")).toBe(false);
    expect(matchNodeSelectorRequirement({ key: "k", operator: "Gt", values: ["4"] }, "big")).toBe(false);
    expect(matchNodeSelectorRequirement({ key: "k", operator: "Gt", values: ["4"] }, undefined)).toBe(false);
    expect(matchNodeSelectorRequirement({ key: "k", operator: "Gt", values: ["1", "2"] }, "5")).toBe(false);
  });

  it("an unknown operator matches nothing", () => {
    expect(matchNodeSelectorRequirement({ key: "k", operator: "Like", values: ["a"] }, "a")).toBe(false);
  });
});

describe("node selector terms", () => {
  const n = node("n1", { disk: "ssd", gen: "5" });

  it("ANDs a term's expressions and fields; an empty term matches nothing", () => {
    expect(
      matchNodeSelectorTerm(
        {
          matchExpressions: [
            { key: "disk", operator: "In", values: ["ssd"] },
            { key: "gen", operator: "Gt", values: ["3"] },
          ],
        },
        n,
      ),
    ).toBe(true);
    expect(
      matchNodeSelectorTerm(
        {
          matchExpressions: [
            { key: "disk", operator: "In", values: ["ssd"] },
            { key: "gen", operator: "Gt", values: ["7"] },
          ],
        },
        n,
      ),
    ).toBe(false);
    expect(matchNodeSelectorTerm({}, n)).toBe(false);
    expect(matchNodeSelectorTerm({ matchExpressions: [] }, n)).toBe(false);
  });

  it("matchFields knows metadata.name", () => {
    expect(matchNodeSelectorTerm({ matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] }, n)).toBe(true);
    expect(matchNodeSelectorTerm({ matchFields: [{ key: "metadata.name", operator: "NotIn", values: ["n1"] }] }, n)).toBe(false);
    expect(matchNodeSelectorTerm({ matchFields: [{ key: "metadata.uid", operator: "In", values: ["x"] }] }, n)).toBe(false);
  });

  it("ORs terms; no terms match nothing", () => {
    const terms = [{ matchExpressions: [{ key: "disk", operator: "In", values: ["hdd"] }] }, { matchExpressions: [{ key: "gen", operator: "Exists" }] }];
    expect(matchNodeSelectorTerms(terms, n)).toBe(true);
    expect(matchNodeSelectorTerms(terms.slice(0, 1), n)).toBe(false);
    expect(matchNodeSelectorTerms([], n)).toBe(false);
  });
});

describe("requiredNodeAffinity", () => {
  const ssd = node("a", { disk: "ssd", zone: "z1" });
  const hdd = node("b", { disk: "hdd", zone: "z2" });

  it("is null without a nodeSelector or required affinity", () => {
    expect(requiredNodeAffinity(pod({}))).toBeNull();
    expect(requiredNodeAffinity(pod({ affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } } }))).toBeNull();
  });

  it("checks nodeSelector labels exactly", () => {
    const m = requiredNodeAffinity(pod({ nodeSelector: { disk: "ssd" } }))!;
    expect([m(ssd), m(hdd)]).toEqual([true, false]);
  });

  it("needs nodeSelector AND some required term", () => {
    const m = requiredNodeAffinity(
      pod({ nodeSelector: { disk: "ssd" }, ...required({ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["z1"] }] }) }),
    )!;
    expect([m(ssd), m(hdd)]).toEqual([false, false]);
    const m2 = requiredNodeAffinity(pod(required({ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["z1"] }] })))!;
    expect([m2(ssd), m2(hdd)]).toEqual([false, true]);
  });

  it("matches no node with an empty nodeSelectorTerms", () => {
    const m = requiredNodeAffinity(pod(required()))!;
    expect(m(ssd)).toBe(false);
  });
});

describe("preferredNodeAffinity", () => {
  it("sums the weights of the matching preferences", () => {
    const p = pod({
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 10, preference: { matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }] } },
            { weight: 3, preference: { matchExpressions: [{ key: "zone", operator: "Exists" }] } },
          ],
        },
      },
    });
    const score = preferredNodeAffinity(p)!;
    expect(score(node("a", { disk: "ssd", zone: "z" }))).toBe(13);
    expect(score(node("b", { zone: "z" }))).toBe(3);
    expect(score(node("c", {}))).toBe(0);
    expect(preferredNodeAffinity(pod({}))).toBeNull();
  });
});

describe("pod (anti-)affinity terms", () => {
  const other = (labels: Record<string, string>, namespace = "default"): KObject => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "o", namespace, labels },
    spec: {},
  });
  const anti = (term: Record<string, unknown>) =>
    pod({ affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname", ...term }] } } });

  it("selects pods by label in the pod's own namespace by default", () => {
    const [t] = requiredPodAntiAffinityTerms(anti({ labelSelector: { matchLabels: { app: "db" } } }));
    expect(t.topologyKey).toBe("kubernetes.io/hostname");
    expect(t.matches(other({ app: "db" }))).toBe(true);
    expect(t.matches(other({ app: "web" }))).toBe(false);
    expect(t.matches(other({ app: "db" }, "prod"))).toBe(false);
  });

  it("honors namespaces and namespaceSelector (empty: every namespace)", () => {
    const [listed] = requiredPodAntiAffinityTerms(anti({ labelSelector: { matchLabels: { app: "db" } }, namespaces: ["prod"] }));
    expect([listed.matches(other({ app: "db" }, "prod")), listed.matches(other({ app: "db" }))]).toEqual([true, false]);
    const [everywhere] = requiredPodAntiAffinityTerms(anti({ labelSelector: { matchLabels: { app: "db" } }, namespaceSelector: {} }));
    expect(everywhere.matches(other({ app: "db" }, "anything"))).toBe(true);
    const nsLabels = (ns: string): Record<string, string> => (ns === "prod" ? { env: "prod" } : {});
    const [selected] = requiredPodAntiAffinityTerms(
      anti({ labelSelector: { matchLabels: { app: "db" } }, namespaceSelector: { matchLabels: { env: "prod" } } }),
      nsLabels,
    );
    expect([selected.matches(other({ app: "db" }, "prod")), selected.matches(other({ app: "db" }, "dev"))]).toEqual([true, false]);
  });

  it("a missing label selector selects nothing; {} selects every pod", () => {
    const [none] = requiredPodAntiAffinityTerms(anti({}));
    expect(none.matches(other({ app: "db" }))).toBe(false);
    const [all] = requiredPodAntiAffinityTerms(anti({ labelSelector: {} }));
    expect(all.matches(other({}))).toBe(true);
  });

  it("drops terms without a topologyKey, and gives equal terms equal signatures", () => {
    expect(requiredPodAntiAffinityTerms(anti({ topologyKey: "", labelSelector: {} }))).toEqual([]);
    const a = requiredPodAntiAffinityTerms(anti({ labelSelector: { matchLabels: { app: "db" } } }))[0];
    const b = requiredPodAntiAffinityTerms(anti({ labelSelector: { matchLabels: { app: "db" } } }))[0];
    const c = requiredPodAntiAffinityTerms(anti({ labelSelector: { matchLabels: { app: "web" } } }))[0];
    expect(a.signature).toBe(b.signature);
    expect(a.signature).not.toBe(c.signature);
  });

  it("reads podAffinity separately from podAntiAffinity", () => {
    const p = pod({
      affinity: {
        podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "zone", labelSelector: { matchLabels: { app: "cache" } } }] },
      },
    });
    expect(requiredPodAffinityTerms(p).map((t) => t.topologyKey)).toEqual(["zone"]);
    expect(requiredPodAntiAffinityTerms(p)).toEqual([]);
  });

  it("knows when a pass needs namespace labels", () => {
    expect(usesNamespaceSelector(anti({ labelSelector: {}, namespaceSelector: { matchLabels: { env: "prod" } } }))).toBe(true);
    expect(usesNamespaceSelector(anti({ labelSelector: {}, namespaceSelector: {} }))).toBe(false);
    expect(usesNamespaceSelector(pod({}))).toBe(false);
  });
});
