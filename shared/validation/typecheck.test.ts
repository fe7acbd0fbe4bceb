import { describe, expect, it } from "vitest";
import { KINDS } from "./schema/kinds";
import { formatPath, typeCauses, unknownFieldPaths, withoutNulls } from "./typecheck";

const types = (kind: string, obj: unknown) => typeCauses(KINDS[kind], obj).map((c) => `${c.field} ${c.reason}`);

describe("withoutNulls and formatPath", () => {
  it("drops null fields but keeps null list items", () => {
    expect(withoutNulls({ a: null, b: { c: null, d: 1 }, e: [null, { f: null }] })).toEqual({ b: { d: 1 }, e: [null, {}] });
    expect(withoutNulls("x")).toBe("x");
  });

  it("formats paths", () => {
    expect(formatPath(["spec", "containers", 0, "ports", 1, "containerPort"])).toBe("spec.containers[0].ports[1].containerPort");
    expect(formatPath([])).toBe("");
    expect(formatPath(["extra"])).toBe("extra");
  });
});

describe("typeCauses", () => {
  it("accepts well-typed objects, ignoring missing required fields", () => {
    expect(types("Pod", { metadata: { name: "p" }, spec: { containers: [{ image: "x" }] } })).toEqual([]);
    expect(types("Pod", {})).toEqual([]);
  });

  it("reports wrong JSON types in schema-validation wording", () => {
    const c = typeCauses(KINDS.Pod, { metadata: { name: 5, labels: { a: 1 } }, spec: { containers: "nope", hostNetwork: "yes", priority: 1.5 } });
    expect(c).toEqual([
      { reason: "FieldValueTypeInvalid", field: "metadata.name", message: 'Invalid value: "integer": metadata.name in body must be of type string: "integer"' },
      {
        reason: "FieldValueTypeInvalid",
        field: "metadata.labels[a]",
        message: 'Invalid value: "integer": metadata.labels[a] in body must be of type string: "integer"',
      },
      {
        reason: "FieldValueTypeInvalid",
        field: "spec.containers",
        message: 'Invalid value: "string": spec.containers in body must be of type array: "string"',
      },
      {
        reason: "FieldValueTypeInvalid",
        field: "spec.hostNetwork",
        message: 'Invalid value: "string": spec.hostNetwork in body must be of type boolean: "string"',
      },
      { reason: "FieldValueTypeInvalid", field: "spec.priority", message: 'Invalid value: "number": spec.priority in body must be of type integer: "number"' },
    ]);
  });

  it("checks Time and MicroTime values as RFC 3339, without echoing a long one", () => {
    const ok = { metadata: { name: "p", creationTimestamp: "2024-05-01T12:00:00Z" }, status: { startTime: "2024-05-01T12:00:00.5+02:00" } };
    expect(types("Pod", ok)).toEqual([]);
    expect(types("Event", { eventTime: "2024-05-01T12:00:00.123456Z" })).toEqual([]);
    const c = typeCauses(KINDS.Pod, {
      metadata: { deletionTimestamp: "not-a-time" },
      status: { startTime: 5, conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2024-02-30T00:00:00Z" }] },
    });
    expect(c).toEqual([
      {
        reason: "FieldValueInvalid",
        field: "metadata.deletionTimestamp",
        message: 'Invalid value: "not-a-time": parsing time "not-a-time" as "2006-01-02T15:04:05Z07:00": not an RFC 3339 time',
      },
      {
        reason: "FieldValueInvalid",
        field: "status.conditions[0].lastTransitionTime",
        message: 'Invalid value: "2024-02-30T00:00:00Z": parsing time "2024-02-30T00:00:00Z": day out of range',
      },
      {
        reason: "FieldValueTypeInvalid",
        field: "status.startTime",
        message: 'Invalid value: "integer": status.startTime in body must be of type string: "integer"',
      },
    ]);
    const long = typeCauses(KINDS.Event, { eventTime: "9".repeat(100_000) });
    expect(long).toEqual([{ reason: "FieldValueTooLong", field: "eventTime", message: "Too long: may not be more than 64 bytes" }]);
  });

  it("names int-or-string and quantity expectations", () => {
    const c = typeCauses(KINDS.Service, { spec: { ports: [{ port: 80, targetPort: true }] } });
    expect(c.map((x) => x.message)).toEqual(['Invalid value: "boolean": spec.ports[0].targetPort in body must be of type integer or string: "boolean"']);
    expect(types("Node", { status: { capacity: { cpu: [] } } })).toEqual(["status.capacity[cpu] FieldValueTypeInvalid"]);
  });

  it("reports malformed quantities at the map key", () => {
    const c = typeCauses(KINDS.Pod, {
      spec: { containers: [{ name: "c", resources: { requests: { memory: "lots", cpu: "100m" } } }], overhead: { cpu: "1 core" } },
    });
    expect(c.map((x) => [x.field, x.reason, x.message])).toEqual([
      [
        "spec.containers[0].resources.requests[memory]",
        "FieldValueInvalid",
        "Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      ],
      [
        "spec.overhead[cpu]",
        "FieldValueInvalid",
        "Invalid value: \"1 core\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      ],
    ]);
  });

  it("reports quantities too long to parse as FieldValueTooLong, without echoing them", () => {
    const huge = "1".repeat(2_500_000);
    const c = typeCauses(KINDS.Pod, { spec: { containers: [{ name: "c", resources: { requests: { cpu: huge, memory: "1Gi" } } }] } });
    expect(c).toEqual([
      { reason: "FieldValueTooLong", field: "spec.containers[0].resources.requests[cpu]", message: "Too long: may not be more than 100 bytes" },
    ]);
    expect(types("Node", { status: { allocatable: { memory: `${"9".repeat(101)}` } } })).toEqual(["status.allocatable[memory] FieldValueTooLong"]);
  });

  it("reports unsupported enum values, and empty ones as required", () => {
    expect(typeCauses(KINDS.Pod, { spec: { restartPolicy: "Sometimes", dnsPolicy: "" } })).toEqual([
      {
        reason: "FieldValueNotSupported",
        field: "spec.restartPolicy",
        message: 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
      },
      { reason: "FieldValueRequired", field: "spec.dnsPolicy", message: "Required value" },
    ]);
    expect(types("Service", { spec: { ipFamilies: ["IPv5"] } })).toEqual(["spec.ipFamilies[0] FieldValueNotSupported"]);
    // enums the rules check (with kube-apiserver's own wording) are not checked twice
    expect(types("Pod", { spec: { tolerations: [{ operator: "Maybe", effect: "Sometimes" }] } })).toEqual([]);
  });

  it("reports integers out of range", () => {
    expect(typeCauses(KINDS.Deployment, { spec: { replicas: 3_000_000_000 } })).toEqual([
      {
        reason: "FieldValueInvalid",
        field: "spec.replicas",
        message: "Invalid value: 3000000000: spec.replicas in body should be less than or equal to 2147483647",
      },
    ]);
  });
});

describe("unknownFieldPaths", () => {
  it("lists unknown fields in document order", () => {
    const pod = { extra: 1, metadata: { name: "x", zz: 1 }, spec: { bogus: 1, containers: [{ name: "c", image: "i", foo: 1 }] }, z: 2 };
    expect(unknownFieldPaths(KINDS.Pod, pod)).toEqual(["extra", "metadata.zz", "spec.bogus", "spec.containers[0].foo", "z"]);
  });

  it("finds unknown fields below wrongly typed siblings and inside lists", () => {
    expect(
      unknownFieldPaths(KINDS.Pod, {
        spec: { hostNetwork: "x", containers: [{}, { env: [{ name: "a", valueFrom: { fieldRef: { fieldPath: "x", nope: 1 } } }] }] },
      }),
    ).toEqual(["spec.containers[1].env[0].valueFrom.fieldRef.nope"]);
  });

  it("orders many unknown fields of a big, deep object", () => {
    // 20,000 unknown keys below a 500-deep, 20,000-wide known structure: sorting them
    // once walked and copied every path of the object
    const extra: Record<string, number> = {};
    for (let i = 0; i < 20_000; i++) extra[`k${i}`] = i;
    const deep: unknown = JSON.parse("[".repeat(500) + "]".repeat(500));
    const pod = {
      metadata: { name: "p", annotations: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`a${i}`, "v"])) },
      spec: { containers: [{ name: "c", zz: 1 }] },
      ...extra,
      deep,
    };
    const paths = unknownFieldPaths(KINDS.Pod, pod);
    expect(paths.length).toBe(20_002);
    expect(paths.slice(0, 3)).toEqual(["spec.containers[0].zz", "k0", "k1"]);
    expect(paths.at(-1)).toBe("deep");
  });

  it("accepts any key in free-form maps and objects", () => {
    expect(
      unknownFieldPaths(KINDS.Pod, {
        metadata: { labels: { "any/thing": "x" }, annotations: { y: "z" } },
        spec: { nodeSelector: { k: "v" }, containers: [{ resources: { limits: { "nvidia.com/gpu": 1 } } }], volumes: [{ name: "v", iscsi: { anything: 1 } }] },
      }),
    ).toEqual([]);
    expect(unknownFieldPaths(KINDS.Deployment, { spec: { selector: { matchLabels: { a: "b" } } } })).toEqual([]);
  });
});
