import { describe, expect, it } from "vitest";
import { applyDefaults } from "../../defaults";
import { resourceByName } from "../../../workers/registry/kinds";
import type { KObject } from "../../types";
import { validateObject } from "../index";

const check = (resource: string, obj: KObject) => {
  const info = resourceByName(resource);
  const o = structuredClone(obj);
  applyDefaults(info, o);
  return validateObject(info, o);
};
const fields = (resource: string, obj: KObject) => check(resource, obj).map((c) => `${c.field} ${c.reason}`);

describe("Node", () => {
  it("checks capacity and allocatable", () => {
    expect(fields("nodes", { metadata: { name: "n" }, status: { capacity: { cpu: "4", memory: "16Gi", "hugepages-2Mi": "0", pods: 110 } } })).toEqual([]);
    expect(fields("nodes", { metadata: { name: "n" }, status: { capacity: { cpu: "4" }, allocatable: { cpu: "-1" } } })).toEqual([
      "status.allocatable[cpu] FieldValueInvalid",
    ]);
    expect(fields("nodes", { metadata: { name: "n" }, status: { capacity: { memory: "lots" }, allocatable: {} } })).toEqual([
      "status.capacity[memory] FieldValueInvalid",
    ]);
    expect(fields("nodes", { metadata: { name: "n" }, status: { capacity: { "bad name!": "1" }, allocatable: {} } })).toEqual([
      "status.capacity[bad name!] FieldValueInvalid",
    ]);
  });

  it("checks taints", () => {
    const taint = (t: Record<string, unknown>[]) => fields("nodes", { metadata: { name: "n" }, spec: { taints: t } });
    expect(
      taint([
        { key: "k", effect: "NoSchedule" },
        { key: "k", effect: "NoExecute" },
      ]),
    ).toEqual([]);
    expect(taint([{ key: "k", effect: "Sometimes" }])).toEqual(["spec.taints[0].effect FieldValueNotSupported"]);
    expect(taint([{ key: "k", effect: "" }])).toEqual(["spec.taints[0].effect FieldValueRequired"]);
    expect(taint([{ key: "", effect: "NoSchedule" }])).toEqual(["spec.taints[0].key FieldValueInvalid", "spec.taints[0].key FieldValueInvalid"]);
    expect(taint([{ key: "k", value: "-v", effect: "NoSchedule" }])).toEqual(["spec.taints[0].value FieldValueInvalid"]);
    const dup = check("nodes", {
      metadata: { name: "n" },
      spec: {
        taints: [
          { key: "k", effect: "NoSchedule" },
          { key: "k", value: "x", effect: "NoSchedule" },
        ],
      },
    });
    expect(dup.map((c) => `${c.field} ${c.reason}`)).toEqual(["spec.taints[1] FieldValueDuplicate"]);
    expect(dup[0].message).toMatch(/taints must be unique by key and effect pair$/);
  });

  it("is cluster-scoped", () => {
    expect(check("nodes", { metadata: { name: "n", namespace: "default" } })).toEqual([
      { reason: "FieldValueForbidden", field: "metadata.namespace", message: "Forbidden: not allowed on this type" },
    ]);
  });
});

describe("Namespace", () => {
  it("needs a DNS label name and valid finalizers", () => {
    expect(fields("namespaces", { metadata: { name: "team-a" }, spec: { finalizers: ["kubernetes", "example.com/cleanup"] } })).toEqual([]);
    expect(check("namespaces", { metadata: { name: "team.a" } })[0].message).toBe('Invalid value: "team.a": must not contain dots');
    expect(check("namespaces", { metadata: { name: "team-a" }, spec: { finalizers: ["cleanup"] } })).toEqual([
      {
        reason: "FieldValueInvalid",
        field: "spec.finalizers",
        message: 'Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified',
      },
    ]);
  });
});

describe("Lease", () => {
  it("checks durations and transitions", () => {
    expect(fields("leases", { metadata: { name: "l" }, spec: { holderIdentity: "a", leaseDurationSeconds: 15, leaseTransitions: 0 } })).toEqual([]);
    expect(fields("leases", { metadata: { name: "l" }, spec: {} })).toEqual([]);
    expect(check("leases", { metadata: { name: "l" }, spec: { leaseDurationSeconds: -5 } })).toEqual([
      { reason: "FieldValueInvalid", field: "spec.leaseDurationSeconds", message: "Invalid value: -5: must be greater than 0" },
    ]);
    expect(fields("leases", { metadata: { name: "l" }, spec: { leaseTransitions: -1 } })).toEqual(["spec.leaseTransitions FieldValueInvalid"]);
    expect(fields("leases", { metadata: { name: "l" }, spec: { preferredHolder: "x" } })).toEqual(["spec.preferredHolder FieldValueForbidden"]);
  });
});

describe("Event", () => {
  it("needs the object it is about, in its own namespace", () => {
    expect(fields("events", { metadata: { name: "e", namespace: "default" }, involvedObject: { kind: "Node", name: "n" } } as KObject)).toEqual([]);
    expect(fields("events", { metadata: { name: "e", namespace: "default" } } as KObject)).toEqual(["involvedObject FieldValueRequired"]);
    expect(
      fields("events", { metadata: { name: "e", namespace: "default" }, involvedObject: { kind: "Pod", name: "p", namespace: "other" } } as KObject),
    ).toEqual(["involvedObject.namespace FieldValueInvalid"]);
  });
});

describe("Endpoints and EndpointSlices", () => {
  it("checks addresses and ports", () => {
    expect(
      fields("endpoints", {
        metadata: { name: "e" },
        subsets: [
          {
            notReadyAddresses: [{ ip: "10.0.0.2" }],
            ports: [
              { name: "a", port: 80 },
              { name: "b", port: 81 },
            ],
          },
        ],
      } as KObject),
    ).toEqual([]);
    expect(fields("endpoints", { metadata: { name: "e" }, subsets: [{ ports: [{ port: 80 }] }] } as KObject)).toEqual(["subsets[0] FieldValueRequired"]);
    expect(fields("endpoints", { metadata: { name: "e" }, subsets: [{ addresses: [{ ip: "pod-a" }], ports: [{ port: 0 }] }] } as KObject)).toEqual([
      "subsets[0].addresses[0].ip FieldValueInvalid",
      "subsets[0].ports[0].port FieldValueInvalid",
    ]);
    expect(
      fields("endpoints", { metadata: { name: "e" }, subsets: [{ addresses: [{ ip: "10.0.0.1" }], ports: [{ port: 80 }, { port: 81 }] }] } as KObject),
    ).toEqual(["subsets[0].ports[0].name FieldValueRequired", "subsets[0].ports[1].name FieldValueRequired"]);
  });

  it("checks slices", () => {
    const slice = (over: Record<string, unknown>) =>
      fields("endpointslices", { metadata: { name: "s" }, addressType: "IPv4", endpoints: [{ addresses: ["10.0.0.1"] }], ...over } as KObject);
    expect(slice({})).toEqual([]);
    expect(slice({ endpoints: [] })).toEqual([]);
    expect(slice({ addressType: "IPv7" })).toEqual(["addressType FieldValueNotSupported"]);
    expect(slice({ endpoints: [{ addresses: [] }] })).toEqual(["endpoints[0].addresses FieldValueRequired"]);
    expect(slice({ endpoints: [{ addresses: ["x"] }] })).toEqual(["endpoints[0].addresses[0] FieldValueInvalid"]);
    expect(slice({ addressType: "FQDN", endpoints: [{ addresses: ["db.example.com"] }] })).toEqual([]);
    expect(slice({ ports: [{ port: 0 }] })).toEqual(["ports[0].port FieldValueInvalid"]);
  });
});
