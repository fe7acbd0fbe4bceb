import { describe, expect, it } from "vitest";
import { Causes } from "../validation/causes";
import { applySchemaDefaults, jsonPathValue, patternProblem, schemaCauses, unknownPaths } from "./schema";
import { validateCRD, validateStructural } from "./validate";

const schema = {
  type: "object",
  properties: {
    spec: {
      type: "object",
      required: ["image"],
      properties: {
        image: { type: "string", pattern: "^[a-z]+(:[a-z0-9.]+)?$" },
        replicas: { type: "integer", minimum: 0, maximum: 10, default: 1 },
        color: { type: "string", enum: ["red", "blue"], default: "red" },
        ports: { type: "array", maxItems: 2, minItems: 1, items: { type: "object", properties: { port: { type: "integer" } } } },
        port: { "x-kubernetes-int-or-string": true },
        extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        labels: { type: "object", additionalProperties: { type: "string" } },
        when: { type: "string", format: "date-time" },
        nested: { type: "object", default: {}, properties: { depth: { type: "integer", default: 3 } } },
      },
    },
    status: { type: "object", properties: { replicas: { type: "integer" } } },
  },
};

const crd = (over: Record<string, any> = {}) => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    names: { plural: "widgets", singular: "widget", kind: "Widget" },
    scope: "Namespaced",
    versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: schema } }],
    ...over,
  },
});

const fields = (causes: { field?: string; message?: string }[]) => causes.map((c) => `${c.field}: ${c.message}`);

describe("CRD validation", () => {
  it("accepts a well-formed CRD", () => {
    expect(validateCRD(crd())).toEqual([]);
  });

  it("wants the name to be <plural>.<group>, a dotted group, one storage version and a served one", () => {
    expect(fields(validateCRD({ ...crd(), metadata: { name: "gadgets.example.com" } }))).toContain(
      'metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group',
    );
    expect(fields(validateCRD(crd({ group: "example" })))).toContain('spec.group: Invalid value: "example": should be a domain with at least one dot');
    const two = crd({
      versions: [
        { name: "v1", served: true, storage: true, schema: { openAPIV3Schema: schema } },
        { name: "v2", served: false, storage: true, schema: { openAPIV3Schema: schema } },
      ],
    });
    expect(validateCRD(two).map((c) => c.message)).toContainEqual(expect.stringContaining("must have exactly one version marked as storage version"));
    const none = crd({ versions: [{ name: "v1", served: false, storage: true, schema: { openAPIV3Schema: schema } }] });
    expect(validateCRD(none).map((c) => c.message)).toContainEqual(expect.stringContaining("must have at least one version marked as served"));
    expect(fields(validateCRD(crd({ scope: "Galaxy" })))).toEqual(['spec.scope: Unsupported value: "Galaxy": supported values: "Cluster", "Namespaced"']);
    expect(fields(validateCRD(crd({ names: { plural: "widgets", kind: "" } })))).toContain("spec.names.kind: Required value");
    expect(fields(validateCRD(crd({ preserveUnknownFields: true })))).toEqual([
      "spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead",
    ]);
  });

  it("wants structural schemas: a type everywhere, no disallowed keywords, extensions where they may be", () => {
    const c = new Causes();
    validateStructural(
      {
        type: "object",
        properties: {
          spec: { properties: { a: { type: "string" } } },
          ref: { $ref: "#/definitions/x", type: "object" },
          list: { type: "array", uniqueItems: true, items: { type: "string" } },
          noitems: { type: "array" },
          ios: { "x-kubernetes-int-or-string": true, type: "string" },
          any: { "x-kubernetes-preserve-unknown-fields": true },
          emb: { "x-kubernetes-embedded-resource": true, type: "string" },
          both: { type: "object", properties: { a: { type: "string" } }, additionalProperties: { type: "string" } },
          bad: { type: "integer", default: "x" },
        },
      },
      "s",
      c,
    );
    expect(fields(c.list)).toEqual([
      "s.properties[spec].type: Required value: must not be empty for specified object fields",
      "s.properties[ref].$ref: Forbidden: must not be specified in a structural schema",
      "s.properties[list].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
      "s.properties[noitems].items: Required value: must be specified",
      's.properties[ios].type: Invalid value: "string": must be empty if x-kubernetes-int-or-string is true',
      "s.properties[emb].type: Required value: must be object if x-kubernetes-embedded-resource is true",
      "s.properties[both].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive",
      's.properties[bad].default: Invalid value: "x": s.properties[bad].default in body must be of type integer: "string"',
    ]);
  });

  it("takes RE2 patterns as Go's regexp does, and refuses lookarounds and backreferences", () => {
    const ok = [
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
      "^(https?|ftp)://",
      "^\\d+(\\.\\d+)?$",
      "^(?:[a-z]+:)?x{2,3}$",
      "(?i)abc",
      "^([a-z]+\\.)+[a-z]+$",
      // shapes that backtrack exponentially in JavaScript's engine: fine in a linear-time one
      "^(a+)+$",
      "(\\w+\\s?)*$",
      "(a|aa)*b",
    ];
    for (const p of ok) expect(patternProblem(p), p).toBe("");
    for (const p of ["(?=x)", "(?<!x)y", "(a)\\1", "[z-a]", "a{2,1}", "x".repeat(4097)]) expect(patternProblem(p), p.slice(0, 20)).not.toBe("");
    const c = new Causes();
    validateStructural({ type: "object", properties: { s: { type: "string", pattern: "(a)\\1" } } }, "s", c);
    expect(c.list.map((x) => x.field)).toEqual(["s.properties[s].pattern"]);
  });

  it("matches a pattern in linear time: a value built to make a backtracking engine take forever is judged at once", () => {
    const schema = { type: "object", properties: { s: { type: "string", pattern: "^(a+)+$" } } };
    const causes = (v: string) => schemaCauses(schema, { s: v }, "spec").list.map((x) => x.field);
    expect(causes(`${"a".repeat(100_000)}!`)).toEqual(["spec.s"]);
    expect(causes("a".repeat(100_000))).toEqual([]);
  });

  it("limits the root metadata to name and generateName", () => {
    const c = new Causes();
    validateStructural({ type: "object", properties: { metadata: { type: "object", properties: { labels: { type: "object" } } } } }, "s", c);
    expect(fields(c.list)).toEqual(["s.properties[metadata].properties[labels]: Forbidden: must not be specified"]);
  });
});

describe("custom objects against their schema", () => {
  it("reports wrong types, required fields, enums, patterns, bounds, item counts and formats by field", () => {
    const obj = {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { replicas: "three", color: "green", ports: [], port: true, when: "yesterday", labels: { a: 1 } },
    };
    expect(fields(schemaCauses(schema, obj).list)).toEqual([
      "spec.image: Required value",
      'spec.replicas: Invalid value: "three": spec.replicas in body must be of type integer: "string"',
      'spec.color: Unsupported value: "green": supported values: "red", "blue"',
      "spec.ports: Invalid value: 0: spec.ports in body should have at least 1 items",
      'spec.port: Invalid value: true: spec.port in body must be of type integer,string: "boolean"',
      'spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"',
      'spec.labels.a: Invalid value: 1: spec.labels.a in body must be of type string: "integer"',
    ]);
    const more = { spec: { image: "Nginx", replicas: 11, ports: [{}, {}, {}], port: "http" } };
    expect(fields(schemaCauses(schema, more).list)).toEqual([
      "spec.image: Invalid value: \"Nginx\": spec.image in body should match '^[a-z]+(:[a-z0-9.]+)?$'",
      "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10",
      "spec.ports: Too many: 3: must have at most 2 items",
    ]);
    expect(schemaCauses(schema, { spec: { image: "nginx:1.2", replicas: 0, port: 80 } }).list).toEqual([]);
  });

  it("wants embedded resources to name their apiVersion and kind, and keeps their metadata", () => {
    const emb = {
      type: "object",
      properties: { tpl: { type: "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": false, properties: {} } },
    };
    expect(fields(schemaCauses(emb, { tpl: { metadata: { name: "x" } } }).list)).toEqual([
      "tpl.apiVersion: Required value: must not be empty",
      "tpl.kind: Required value: must not be empty",
    ]);
    expect(unknownPaths(emb, { tpl: { apiVersion: "v1", kind: "Pod", metadata: { name: "x" }, spec: {} } })).toEqual(["tpl.spec"]);
  });

  it("keeps x-kubernetes-list-type set and map lists unique", () => {
    const lists = {
      type: "object",
      properties: {
        tags: { type: "array", "x-kubernetes-list-type": "set", items: { type: "string" } },
        ports: {
          type: "array",
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["port"],
          items: { type: "object", properties: { port: { type: "integer" }, name: { type: "string" } } },
        },
      },
    };
    expect(
      fields(
        schemaCauses(lists, {
          tags: ["a", "b", "a"],
          ports: [
            { port: 1, name: "x" },
            { port: 1, name: "y" },
          ],
        }).list,
      ),
    ).toEqual(['tags[2]: Duplicate value: "a"', 'ports[1]: Duplicate value: {"port":1}']);
  });

  it("prunes fields the schema does not declare, unless preserved", () => {
    const obj = {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w" },
      top: 1,
      spec: { image: "x", bogus: true, extra: { anything: { goes: 1 } }, ports: [{ port: 1, proto: "TCP" }], labels: { free: "x" } },
      status: { replicas: 1, phase: "x" },
    };
    expect(unknownPaths(schema, obj)).toEqual(["top", "spec.bogus", "spec.ports[0].proto", "status.phase"]);
  });

  it("defaults from the schema, below defaulted objects too", () => {
    const obj: any = { spec: { image: "x" } };
    applySchemaDefaults(schema, obj);
    expect(obj.spec).toEqual({ image: "x", replicas: 1, color: "red", nested: { depth: 3 } });
    const set: any = { spec: { image: "x", replicas: 0, color: "blue", nested: { depth: 1 } } };
    applySchemaDefaults(schema, set);
    expect(set.spec).toEqual({ image: "x", replicas: 0, color: "blue", nested: { depth: 1 } });
  });

  it("reads simple JSON paths (printer columns, scale)", () => {
    const o = {
      spec: { replicas: 2 },
      status: {
        conditions: [
          { type: "A", status: "False" },
          { type: "Ready", status: "True" },
        ],
      },
    };
    expect(jsonPathValue(o, ".spec.replicas")).toBe(2);
    expect(jsonPathValue(o, ".status.conditions[1].type")).toBe("Ready");
    expect(jsonPathValue(o, '.status.conditions[?(@.type=="Ready")].status')).toBe("True");
    expect(jsonPathValue(o, ".spec.missing.deeper")).toBeUndefined();
  });
});
