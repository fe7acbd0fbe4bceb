/**
 * The generated hostile-input sweep (issue #9): for every served resource, request
 * bodies, query parameters, encodings and paths that kube-apiserver refuses with a 4xx,
 * built deterministically from a seed. Each case is invalid for sure: where Kubernetes
 * would accept an input (or normalise it with a warning) it is not in the sweep.
 *
 * Cases target a namespace of their own ("hostile") and per-resource fixtures whose
 * names the runner supplies when the case is built, so a case that wrongly deletes its
 * fixture does not change what the next one tests.
 */
import { groupVersion, type ResourceInfo } from "../shared/resources";
import { RESOURCES } from "../workers/registry/kinds";
import type { ObjectType, TypeRef } from "../shared/validation/schema/dsl";
import { KINDS } from "../shared/validation/schema/kinds";

export const NS = "hostile";

/** Current fixture names (a fixture is replaced when a case wrongly deletes it). */
export interface Fixtures {
  name(resource: string): string;
}

export interface Built {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** a watch: on 2xx the stream is cancelled rather than read */
  stream?: boolean;
}

export interface HostileCase {
  /** its index in the sweep: unique, so names made from it never collide */
  id: number;
  /** the class of input, used to group tests and the report */
  group: string;
  /** what is wrong with it, for failure messages */
  label: string;
  /** the resource whose fixture the case uses, if any */
  resource?: string;
  /**
   * run alone: if wrongly accepted it may write any number of revisions (a
   * deletecollection), which would blur what its batch-mates wrote
   */
  solo?: boolean;
  /** the one status that is right (any 4xx otherwise) */
  status?: number;
  build(fx: Fixtures, id: number): Built;
}

// ---------------------------------------------------------------- deterministic randomness

/** mulberry32: a small seeded PRNG, so the sweep is the same on every run. */
export const prng = (seed: number) => {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    shuffle: <T>(xs: readonly T[]): T[] => {
      const out = [...xs];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
    bytes: (n: number) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
  };
};
export type Prng = ReturnType<typeof prng>;

// ---------------------------------------------------------------- raw JSON

/** JSON text put into a body verbatim: numbers JSON.stringify cannot write (1e999), deep nesting. */
export class Raw {
  constructor(readonly text: string) {}
}

/** JSON.stringify, with Raw values written verbatim. */
export const encode = (v: unknown): string => {
  const raws: string[] = [];
  const s = JSON.stringify(v, (_k, x) => {
    if (x instanceof Raw) {
      raws.push(x.text);
      return `__RAW_${raws.length - 1}__`;
    }
    return x;
  });
  return s === undefined ? "" : s.replace(/"__RAW_(\d+)__"/g, (_m, i) => raws[Number(i)]);
};

const short = (v: unknown, max = 60): string => {
  const s = v instanceof Raw ? v.text : typeof v === "string" ? JSON.stringify(v) : encode(v);
  return s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s;
};

const deepArray = (n: number) => new Raw("[".repeat(n) + "]".repeat(n));
const deepObject = (n: number) => new Raw('{"a":'.repeat(n) + "1" + "}".repeat(n));

// ---------------------------------------------------------------- resources and valid objects

export const collectionPath = (info: ResourceInfo, namespace = NS) => {
  const base = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
  return info.namespaced ? `${base}/namespaces/${namespace}/${info.resource}` : `${base}/${info.resource}`;
};
export const objectPath = (info: ResourceInfo, name: string) => `${collectionPath(info)}/${name}`;

const containers = () => [{ name: "app", image: "busybox:1.36" }];
const template = () => ({ metadata: { labels: { app: "h" } }, spec: { containers: containers() } });

/** A valid object of each served kind (the fixtures are made from these, and each case breaks one thing in one). */
export const validObject = (info: ResourceInfo, name: string): Record<string, any> => {
  const head = { apiVersion: groupVersion(info), kind: info.kind, metadata: { name, ...(info.namespaced ? { namespace: NS } : {}) } };
  switch (info.resource) {
    case "namespaces":
      return head;
    case "pods":
      return { ...head, spec: { containers: containers() } };
    case "nodes":
      return { ...head, spec: { unschedulable: true } };
    case "services":
      return { ...head, spec: { selector: { app: "h" }, ports: [{ port: 80, targetPort: 8080 }] } };
    case "endpoints":
      return { ...head, subsets: [{ addresses: [{ ip: "10.0.0.1" }], ports: [{ port: 80 }] }] };
    case "events":
      return {
        ...head,
        involvedObject: { kind: "Pod", namespace: NS, name: "p" },
        reason: "Hostile",
        message: "a test event",
        type: "Normal",
        source: { component: "hostile-test" },
      };
    case "configmaps":
      return { ...head, data: { a: "b" } };
    case "secrets":
      return { ...head, type: "Opaque", data: { a: "Yg==" } };
    case "replicationcontrollers":
      return { ...head, spec: { replicas: 1, selector: { app: "h" }, template: template() } };
    case "deployments":
    case "replicasets":
      return { ...head, spec: { replicas: 1, selector: { matchLabels: { app: "h" } }, template: template() } };
    case "endpointslices":
      return { ...head, addressType: "IPv4", endpoints: [{ addresses: ["10.0.0.1"] }], ports: [{ port: 80, protocol: "TCP" }] };
    case "leases":
      return { ...head, spec: { holderIdentity: "h", leaseDurationSeconds: 15 } };
    case "jobs":
      return { ...head, spec: { template: { ...template(), spec: { ...template().spec, restartPolicy: "Never" } } } };
    case "poddisruptionbudgets":
      return { ...head, spec: { minAvailable: 1, selector: { matchLabels: { app: "h" } } } };
    case "daemonsets":
      return { ...head, spec: { selector: { matchLabels: { app: "h" } }, template: template() } };
    case "cronjobs":
      return {
        ...head,
        spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template: { ...template(), spec: { ...template().spec, restartPolicy: "OnFailure" } } } } },
      };
    case "serviceaccounts":
      return { ...head, automountServiceAccountToken: false, imagePullSecrets: [{ name: "regcred" }] };
    case "controllerrevisions":
      return { ...head, data: { spec: { template: { $patch: "replace" } } }, revision: 1 };
    case "statefulsets":
      return { ...head, spec: { serviceName: "h", selector: { matchLabels: { app: "h" } }, template: template() } };
    case "persistentvolumes":
      return { ...head, spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/tmp/h" } } };
    case "persistentvolumeclaims":
      return { ...head, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } };
    case "storageclasses":
      return { ...head, provisioner: "example.com/h" };
    case "customresourcedefinitions": {
      // valid when the name is <plural>.<group> (the fixtures' are); other names make a 422
      const [plural, ...group] = name.split(".");
      return {
        ...head,
        spec: {
          group: group.join(".") || "hostile.example.com",
          names: { plural, kind: `H${plural.replace(/[^a-z0-9]/g, "")}` },
          scope: "Namespaced",
          versions: [
            { name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } },
          ],
        },
      };
    }
    case "horizontalpodautoscalers":
      return { ...head, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "h" }, minReplicas: 1, maxReplicas: 3 } };
    case "ingresses":
      return {
        ...head,
        spec: {
          rules: [{ host: "h.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "h", port: { number: 80 } } } }] } }],
        },
      };
    case "ingressclasses":
      return { ...head, spec: { controller: "example.com/h" } };
    case "networkpolicies":
      return { ...head, spec: { podSelector: { matchLabels: { app: "h" } }, ingress: [{ from: [{ podSelector: {} }], ports: [{ port: 80 }] }] } };
    case "roles":
    case "clusterroles":
      return { ...head, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }] };
    case "rolebindings":
    case "clusterrolebindings":
      return {
        ...head,
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "ServiceAccount", name: "default", namespace: NS }],
      };
    case "limitranges":
      return { ...head, spec: { limits: [{ type: "example.com/Thing", max: { widgets: "10" } }] } };
    case "resourcequotas":
      return { ...head, spec: { hard: { "count/widgets.example.com": "1000" } } };
    default:
      throw new Error(`no valid object for ${info.resource}`);
  }
};

const clone = <T>(x: T): T => structuredClone(x);

// ---------------------------------------------------------------- fields of the schemas, and wrong values for them

type Step = string | 0;

export interface SchemaField {
  path: Step[];
  type: TypeRef;
  /** under status (the server owns it: only type errors are sure to be refused there) */
  inStatus: boolean;
}

/** Paths are shown as spec.containers[0].image. */
export const showPath = (p: Step[]) => p.map((s, i) => (s === 0 ? "[0]" : i === 0 ? s : `.${s}`)).join("");

/**
 * Every field reachable in a kind's schema (arrays entered at index 0, maps not
 * entered), to a depth. Skipped: free-form JSON (anything goes there), FieldsV1 and
 * managedFields (kube-apiserver resets managedFields it cannot decode).
 */
export const schemaFields = (kind: ObjectType, maxDepth = 9): SchemaField[] => {
  const out: SchemaField[] = [];
  const visit = (t: ObjectType, prefix: Step[], chain: Set<string>, inStatus: boolean) => {
    if (prefix.length >= maxDepth || chain.has(t.name)) return;
    const next = new Set(chain).add(t.name);
    for (const [name, f] of Object.entries(t.fields)) {
      if (name === "managedFields") continue;
      const path = [...prefix, name];
      const status = inStatus || (prefix.length === 0 && name === "status");
      if (skipType(f.type)) continue;
      out.push({ path, type: f.type, inStatus: status });
      let inner = f.type;
      let p = path;
      if (inner.kind === "array") {
        inner = inner.items;
        p = [...path, 0];
        if (!skipType(inner) && inner.kind !== "named") out.push({ path: p, type: inner, inStatus: status });
      }
      if (inner.kind === "named" && inner.type.kind === "object") visit(inner.type, p, next, status);
    }
  };
  visit(kind, [], new Set(), false);
  return out;
};

const skipType = (t: TypeRef): boolean =>
  t.kind === "json" || (t.kind === "named" && t.type.kind === "named-scalar" && t.type.check === "object") || (t.kind === "array" && skipType(t.items));

/**
 * Item types whose zero value kube-apiserver refuses (a name, key, port or address
 * left empty): `[null]` decodes to that zero value, so a list of them holding a null is
 * invalid. (Not every type with a required field: an empty ForZone name is a valid
 * label value, for one.)
 */
const ZERO_INVALID = new Set(
  [
    "core.v1.Container",
    "core.v1.EphemeralContainer",
    "core.v1.ContainerPort",
    "core.v1.EnvVar",
    "core.v1.VolumeMount",
    "core.v1.Volume",
    "core.v1.VolumeDevice",
    "core.v1.ServicePort",
    "core.v1.EndpointAddress",
    "core.v1.EndpointPort",
    "core.v1.Taint",
    "core.v1.HostAlias",
    "core.v1.NodeSelectorRequirement",
    "core.v1.TopologySpreadConstraint",
    "core.v1.PodResourceClaim",
    "core.v1.PodSchedulingGate",
    "core.v1.PodReadinessGate",
    "core.v1.KeyToPath",
    "core.v1.HTTPHeader",
    "core.v1.ResourceClaim",
    "core.v1.ContainerResizePolicy",
    "meta.v1.OwnerReference",
    "meta.v1.LabelSelectorRequirement",
  ].map((n) => (n.startsWith("meta.") ? `io.k8s.apimachinery.pkg.apis.${n}` : `io.k8s.api.${n}`)),
);
const zeroItemInvalid = (t: TypeRef) => t.kind === "array" && t.items.kind === "named" && ZERO_INVALID.has(t.items.type.name);

/**
 * Values of the wrong JSON type for a field: each one fails to decode into the Go type
 * kube-apiserver uses (a string where an object is expected, a quoted number, an
 * integer out of range, 1e999, a fraction for an integer...), so it is refused with a
 * 400 before any validation.
 */
export const wrongValues = (f: SchemaField): unknown[] => {
  const t = f.type;
  switch (t.kind) {
    case "string":
      return [5, true, {}, ["x"]];
    case "boolean":
      return ["true", 1, {}];
    case "int32":
      return ["5", 1.5, new Raw("99999999999999999999"), new Raw("1e999"), true];
    case "int64":
      return ["5", 1.5, new Raw("99999999999999999999"), new Raw("1e999"), {}];
    case "number":
      return ["1.5", {}, []];
    case "enum":
      return [5, {}, [t.values[0]]];
    case "array":
      return ["x", {}, 5, ...(zeroItemInvalid(t) && !f.inStatus ? [[null]] : [])];
    case "map":
      if (t.values.kind === "string") return ["x", [], 5, { k: 5 }, { k: {} }];
      if (t.values.kind === "named" && t.values.type.kind === "named-scalar" && t.values.type.check === "quantity")
        return ["x", [], { cpu: true }, { cpu: "lots" }];
      return ["x", [], 5];
    case "named": {
      const n = t.type;
      if (n.kind === "object") return ["x", 5, [], true];
      switch (n.check) {
        case "quantity":
          return [true, {}, [], "not-a-quantity"];
        case "int-or-string":
          return [true, {}, [], 1.5];
        case "time":
          // Time, MicroTime: RFC 3339 strings only
          return [5, "not-a-time", {}, true];
        default:
          return [];
      }
    }
    default:
      return [];
  }
};

/** Put `value` at `path` in `obj`, making the objects and arrays on the way. */
export const setPath = (obj: Record<string, any>, path: Step[], value: unknown) => {
  let cur: any = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i];
    const wantArray = path[i + 1] === 0;
    let next = cur[k];
    if (wantArray ? !Array.isArray(next) : next === null || typeof next !== "object" || Array.isArray(next)) {
      next = wantArray ? [] : {};
      cur[k] = next;
    }
    cur = next;
  }
  cur[path[path.length - 1]] = value;
  return obj;
};

// ---------------------------------------------------------------- the sweep

const JSON_CT = { "Content-Type": "application/json" };
const PATCH_CT = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
} as const;
type PatchType = keyof typeof PATCH_CT;
const PATCH_TYPES = Object.keys(PATCH_CT) as PatchType[];

const utf8 = (s: string) => new TextEncoder().encode(s);
const concat = (...parts: (string | Uint8Array)[]) => {
  const bufs = parts.map((p) => (typeof p === "string" ? utf8(p) : p));
  const out = new Uint8Array(bufs.reduce((n, b) => n + b.byteLength, 0));
  let off = 0;
  for (const b of bufs) {
    out.set(b, off);
    off += b.byteLength;
  }
  return out;
};

/** The protobuf envelope kubectl sends: "k8s\0" + runtime.Unknown{typeMeta{apiVersion, kind}, raw}. */
const protobufEnvelope = (apiVersion: string, kind: string, raw: Uint8Array) => {
  const field = (n: number, b: Uint8Array) => concat(new Uint8Array([(n << 3) | 2, ...varint(b.byteLength)]), b);
  const typeMeta = concat(field(1, utf8(apiVersion)), field(2, utf8(kind)));
  return concat("k8s\0", field(1, typeMeta), field(2, raw));
};
const varint = (n: number) => {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n >>>= 7;
  }
  out.push(n);
  return out;
};

export interface SweepOptions {
  seed?: number;
  /** wrong-type cases per resource: on create, on update, per patch type */
  fieldCasesPerResource?: { create: number; update: number; patch: number };
}

/** Build the whole sweep. Deterministic for a seed. */
export const hostileCases = (opts: SweepOptions = {}): HostileCase[] => {
  const rnd = prng(opts.seed ?? 9);
  const counts = opts.fieldCasesPerResource ?? { create: 20, update: 5, patch: 2 };
  const cases: HostileCase[] = [];
  const add = (c: Omit<HostileCase, "id">) => cases.push({ ...c, id: cases.length });
  const offset = rnd.int(1000);
  /** `n` of `xs` for the `ri`th resource, round-robin, so across resources every entry is used about equally */
  const spread = <T>(xs: readonly T[], n: number, ri: number): T[] =>
    Array.from({ length: Math.min(n, xs.length) }, (_, j) => xs[(offset + ri * n + j) % xs.length]);

  for (const [ri, info] of STORED_RESOURCES.entries()) {
    const r = info.resource;
    const coll = collectionPath(info);
    const valid = (name: string) => validObject(info, name);
    const fixture = (fx: Fixtures) => objectPath(info, fx.name(r));
    /** a name no other case uses, so a create that is wrongly accepted does not make the next one a 409 */
    const fresh = (id: number) => `h-${id}`;

    // ---- malformed body shapes, on create (POST) and on update (PUT)
    const shapes: [string, (name: string) => string | Raw][] = [
      ["body=[] (an array)", () => "[]"],
      ['body="x" (a string)', () => '"x"'],
      ["body=5 (a number)", () => "5"],
      ["body=null", () => "null"],
      ["body=true", () => "true"],
      ["body=[{…valid object…}]", (n) => `[${encode(valid(n))}]`],
      ["apiVersion=v2 (wrong)", (n) => encode({ ...valid(n), apiVersion: "v2" })],
      ["apiVersion=5 (wrong type)", (n) => encode({ ...valid(n), apiVersion: 5 })],
      ["kind=Banana (wrong)", (n) => encode({ ...valid(n), kind: "Banana" })],
      ["kind={} (wrong type)", (n) => encode({ ...valid(n), kind: {} })],
      [
        "metadata missing",
        (n) => {
          const o = valid(n);
          delete o.metadata;
          return encode(o);
        },
      ],
      ['metadata="x"', (n) => encode({ ...valid(n), metadata: "x" })],
      ["metadata=[]", (n) => encode({ ...valid(n), metadata: [] })],
      ["truncated JSON", (n) => encode(valid(n)).slice(0, -7)],
      ["trailing garbage after the object", (n) => encode(valid(n)) + "}{"],
      ["two objects", (n) => encode(valid(n)) + encode(valid(n))],
      ["JSON with a comment", (n) => "/* c */" + encode(valid(n))],
      ["single-quoted JSON", (n) => encode(valid(n)).replaceAll('"', "'")],
      ["body 20000-deep arrays", () => "[".repeat(20000) + "]".repeat(20000)],
      ["labels.a = 20000-deep arrays", (n) => encode(setPath(valid(n), ["metadata", "labels"], { a: deepArray(20000) }))],
      ["annotations.a = 20000-deep objects", (n) => encode(setPath(valid(n), ["metadata", "annotations"], { a: deepObject(20000) }))],
      ["metadata.generation=1e999", (n) => encode(setPath(valid(n), ["metadata", "generation"], new Raw("1e999")))],
      ["metadata.labels={a: 5}", (n) => encode(setPath(valid(n), ["metadata", "labels"], { a: 5 }))],
      ['metadata.finalizers="x"', (n) => encode(setPath(valid(n), ["metadata", "finalizers"], "x"))],
    ];
    // oversized values (under the 3 MiB body limit), one per resource
    const huge: typeof shapes = [
      ["label value of 512 KiB", (n) => encode(setPath(valid(n), ["metadata", "labels"], { a: "v".repeat(512 * 1024) }))],
      ["annotations of 2 MiB (limit 256 KiB)", (n) => encode(setPath(valid(n), ["metadata", "annotations"], { a: "v".repeat(2 * 1024 * 1024) }))],
      ["metadata.name of 1 MiB", (n) => encode({ ...valid(n), metadata: { ...valid(n).metadata, name: "a".repeat(1024 * 1024) } })],
    ];
    for (const [label, body] of [...shapes, ...spread(huge, 1, ri)]) {
      add({
        group: "body-shape",
        label: `POST ${r} ${label}`,
        build: (_fx, id) => ({ method: "POST", path: coll, headers: JSON_CT, body: bodyText(body(fresh(id))) }),
      });
    }
    // the update path decodes and checks the same way; a share of the shapes is enough there
    for (const [label, body] of spread(shapes, 6, ri)) {
      add({
        group: "body-shape",
        resource: r,
        label: `PUT ${r} ${label}`,
        build: (fx) => ({ method: "PUT", path: fixture(fx), headers: JSON_CT, body: bodyText(body(fx.name(r))) }),
      });
    }
    // names: too long, not a DNS name, path-like
    const names: [string, string][] = [
      ["metadata.name of 254 chars", "a".repeat(254)],
      ["metadata.name=Bad_Name!", "Bad_Name!"],
      ['metadata.name=".."', ".."],
      ['metadata.name="a/b"', "a/b"],
      ['metadata.name=""', ""],
      ['metadata.name="a\\u0000b"', "a\u0000b"],
      ["metadata.name with a lone surrogate", "a\ud800b"],
      // RBAC names are path segments in Kubernetes: Bad_Name! is a valid Role name
    ].filter(([label]) => !(info.group === "rbac.authorization.k8s.io" && label === "metadata.name=Bad_Name!")) as [string, string][];
    for (const [label, name] of spread(names, 4, ri)) {
      add({
        group: "body-shape",
        label: `POST ${r} ${label}`,
        build: () => ({ method: "POST", path: coll, headers: JSON_CT, body: JSON.stringify(valid(name)) }),
      });
    }

    // ---- wrong types per schema field
    const kind = KINDS[info.kind];
    const all = schemaFields(kind);
    const top = all.filter((f) => f.path.length === 1);
    const deeper = rnd.shuffle(all.filter((f) => f.path.length > 1));
    const chosen = [...top, ...deeper].filter((f) => wrongValues(f).length > 0);
    const createFields = chosen.slice(0, Math.max(counts.create, top.length));
    for (const f of createFields) {
      const v = rnd.pick(wrongValues(f));
      add({
        group: "field-type",
        label: `POST ${r} ${showPath(f.path)}=${short(v)}`,
        build: (_fx, id) => ({ method: "POST", path: coll, headers: JSON_CT, body: encode(setPath(valid(fresh(id)), f.path, v)) }),
      });
    }
    const rest = rnd.shuffle(chosen);
    for (const f of rest.slice(0, counts.update)) {
      const v = rnd.pick(wrongValues(f));
      add({
        group: "field-type",
        resource: r,
        label: `PUT ${r} ${showPath(f.path)}=${short(v)}`,
        build: (fx) => ({ method: "PUT", path: fixture(fx), headers: JSON_CT, body: encode(setPath(valid(fx.name(r)), f.path, v)) }),
      });
    }
    let k = counts.update;
    for (const type of PATCH_TYPES) {
      for (const f of rest.slice(k, k + counts.patch)) {
        const v = rnd.pick(wrongValues(f));
        add({
          group: "field-type",
          resource: r,
          label: `PATCH(${type}) ${r} ${showPath(f.path)}=${short(v)}`,
          build: (fx) => ({
            method: "PATCH",
            path: fixture(fx) + (type === "apply" ? "?fieldManager=hostile" : ""),
            headers: { "Content-Type": PATCH_CT[type] },
            body: patchSetting(type, valid(fx.name(r)), f.path, v),
          }),
        });
      }
      k += counts.patch;
    }

    // ---- bad query parameters on writes (the body is valid: only the parameter is wrong)
    const writeParams: [string, string][] = [
      ["fieldValidation=Bogus", "fieldValidation=Bogus"],
      ["dryRun=Bogus", "dryRun=Bogus"],
      ["dryRun=all (only All)", "dryRun=all"],
      ["fieldManager of 129 chars", `fieldManager=${"m".repeat(129)}`],
      ["fieldManager with a control character", "fieldManager=a%01b"],
    ];
    for (const [label, q] of writeParams) {
      add({
        group: "query",
        label: `POST ${r} ?${label}`,
        build: (_fx, id) => ({ method: "POST", path: `${coll}?${q}`, headers: JSON_CT, body: JSON.stringify(valid(fresh(id))) }),
      });
    }
    for (const [label, q] of spread(writeParams, 2, ri)) {
      add({
        group: "query",
        resource: r,
        label: `PUT ${r} ?${label}`,
        build: (fx) => ({ method: "PUT", path: `${fixture(fx)}?${q}`, headers: JSON_CT, body: JSON.stringify(valid(fx.name(r))) }),
      });
    }
    const patchParams: [string, string][] = [
      ["force=true on a merge patch (apply only)", "force=true"],
      ["dryRun=Bogus", "dryRun=Bogus"],
      ["fieldValidation=Bogus", "fieldValidation=Bogus"],
      ["fieldManager of 129 chars", `fieldManager=${"m".repeat(129)}`],
    ];
    for (const [label, q] of patchParams) {
      add({
        group: "query",
        resource: r,
        label: `PATCH(merge) ${r} ?${label}`,
        build: (fx) => ({
          method: "PATCH",
          path: `${fixture(fx)}?${q}`,
          headers: { "Content-Type": PATCH_CT.merge },
          body: '{"metadata":{"labels":{"hostile":"1"}}}',
        }),
      });
    }
    add({
      group: "query",
      resource: r,
      label: `PATCH(apply) ${r} without fieldManager`,
      build: (fx) => ({ method: "PATCH", path: fixture(fx), headers: { "Content-Type": PATCH_CT.apply }, body: JSON.stringify(valid(fx.name(r))) }),
    });

    // ---- bad query parameters on reads (list and watch)
    const listParams: [string, string][] = [
      ["limit=abc", "limit=abc"],
      ["limit=1.5", "limit=1.5"],
      ["limit=99999999999999999999", "limit=99999999999999999999"],
      ["resourceVersion=abc", "resourceVersion=abc"],
      ["resourceVersionMatch=Bogus", "resourceVersion=1&resourceVersionMatch=Bogus"],
      ["resourceVersionMatch=Exact without resourceVersion", "resourceVersionMatch=Exact"],
      ["resourceVersionMatch=Exact&resourceVersion=abc", "resourceVersionMatch=Exact&resourceVersion=abc"],
      ["labelSelector=!!!", "labelSelector=!!!"],
      ["labelSelector=a in (b", "labelSelector=a%20in%20(b"],
      ["labelSelector value of 64 chars", `labelSelector=a=${"v".repeat(64)}`],
      ["fieldSelector=a (no operator)", "fieldSelector=a"],
      ["fieldSelector on an unknown field", "fieldSelector=nonexistent.field%3Dx"],
      ["fieldSelector=metadata.name~x", "fieldSelector=metadata.name~x"],
      ["continue=garbage", "continue=garbage"],
      ["timeoutSeconds=abc", "timeoutSeconds=abc"],
      ["sendInitialEvents=true on a list", "sendInitialEvents=true"],
    ];
    for (const [label, q] of spread(listParams, 10, ri)) {
      add({ group: "query", label: `GET ${r} ?${label}`, build: () => ({ method: "GET", path: `${coll}?${q}` }) });
    }
    const watchParams: [string, string][] = [
      ["timeoutSeconds=abc", "timeoutSeconds=abc"],
      ["timeoutSeconds=99999999999999999999", "timeoutSeconds=99999999999999999999"],
      ["resourceVersion=abc", "resourceVersion=abc"],
      ["labelSelector=!!!", "labelSelector=!!!"],
      ["fieldSelector on an unknown field", "fieldSelector=nonexistent.field%3Dx"],
      ["resourceVersionMatch=Bogus", "resourceVersionMatch=Bogus"],
    ];
    for (const [label, q] of spread(watchParams, 3, ri)) {
      add({ group: "query", label: `GET ${r} ?watch=true&${label}`, build: () => ({ method: "GET", path: `${coll}?watch=true&${q}`, stream: true }) });
    }

    // ---- bad encodings
    const encodings: [string, (name: string) => { ct: string; body: string | Uint8Array }][] = [
      ["invalid UTF-8 in metadata.name", (n) => ({ ct: "application/json", body: splice(encode(valid(n)), `"name":"${n}`, new Uint8Array([0xff, 0xfe])) })],
      [
        "invalid UTF-8 bytes between tokens",
        (n) => ({ ct: "application/json", body: concat("{", new Uint8Array([0xc3, 0x28, 0xff]), encode(valid(n)).slice(1)) }),
      ],
      ["UTF-16 encoded JSON", (n) => ({ ct: "application/json", body: utf16(encode(valid(n))) })],
      ["Content-Type: text/plain", (n) => ({ ct: "text/plain", body: encode(valid(n)) })],
      ["Content-Type: application/xml", (n) => ({ ct: "application/xml", body: `<${info.kind} name="${n}"/>` })],
      [
        "Content-Type: multipart/form-data",
        (n) => ({ ct: "multipart/form-data; boundary=x", body: `--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n${encode(valid(n))}\r\n--x--\r\n` }),
      ],
      ["Content-Type: application/json-patch+json on a create", (n) => ({ ct: PATCH_CT.json, body: encode(valid(n)) })],
      ["protobuf: random bytes", () => ({ ct: "application/vnd.kubernetes.protobuf", body: rndBytes(rnd, 64) })],
      ["protobuf: magic then random bytes", () => ({ ct: "application/vnd.kubernetes.protobuf", body: concat("k8s\0", rndBytes(rnd, 64)) })],
      [
        "protobuf: magic then an overlong varint",
        () => ({
          ct: "application/vnd.kubernetes.protobuf",
          body: concat("k8s\0", new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])),
        }),
      ],
      [
        "protobuf: envelope whose raw is random bytes",
        () => ({ ct: "application/vnd.kubernetes.protobuf", body: protobufEnvelope(groupVersion(info), info.kind, rndBytes(rnd, 48)) }),
      ],
      [
        "protobuf: envelope of another kind",
        (n) => ({
          ct: "application/vnd.kubernetes.protobuf",
          body: protobufEnvelope("v1", info.kind === "Secret" ? "ConfigMap" : "Secret", concat(new Uint8Array([0x0a, n.length + 2, 0x0a, n.length]), n)),
        }),
      ],
      ["protobuf: empty body", () => ({ ct: "application/vnd.kubernetes.protobuf", body: new Uint8Array() })],
      ["YAML that does not parse", () => ({ ct: "application/yaml", body: "metadata: [\n  name: x\n" })],
      [
        "YAML list instead of an object",
        (n) => ({ ct: "application/yaml", body: `- apiVersion: ${groupVersion(info)}\n  kind: ${info.kind}\n  metadata:\n    name: ${n}\n` }),
      ],
      ["YAML with 20000-deep flow nesting", () => ({ ct: "application/yaml", body: "a: " + "[".repeat(20000) + "]".repeat(20000) + "\n" })],
      // the YAML parser's own duplicate-key check was quadratic: this mapping held the event loop for a minute
      ["YAML mapping of 40000 keys", () => ({ ct: "application/yaml", body: `data:\n${Array.from({ length: 40_000 }, (_, i) => `  k${i}: v\n`).join("")}` })],
      ["YAML with a key set twice", (n) => ({ ct: "application/yaml", body: `metadata:\n  name: ${n}\n  name: ${n}x\n` })],
    ];
    for (const [label, make] of spread(encodings, 10, ri)) {
      add({
        group: "encoding",
        label: `POST ${r} ${label}`,
        build: (_fx, id) => {
          const { ct, body } = make(fresh(id));
          return { method: "POST", path: coll, headers: { "Content-Type": ct }, body };
        },
      });
    }
    for (const [label, make] of spread(encodings, 3, ri + 5)) {
      add({
        group: "encoding",
        resource: r,
        label: `PUT ${r} ${label}`,
        build: (fx) => {
          const { ct, body } = make(fx.name(r));
          return { method: "PUT", path: fixture(fx), headers: { "Content-Type": ct }, body };
        },
      });
    }

    // ---- bad percent-encoding in the path
    const badSegments: [string, string][] = [
      ["%ZZ", "%ZZ"],
      ["truncated escape %E0%A4%A", "%E0%A4%A"],
      ["bare %", "%"],
      ["escape of invalid UTF-8 %E0%A4", "%E0%A4"],
      ["escaped NUL %00", "a%00b"],
    ];
    for (const [label, seg] of badSegments) {
      for (const method of rnd.shuffle(["GET", "PUT", "PATCH", "DELETE"]).slice(0, 2)) {
        add({
          group: "path-encoding",
          label: `${method} ${r}/${label}`,
          build: () => ({
            method,
            path: `${coll}/${seg}`,
            headers: method === "PATCH" ? { "Content-Type": PATCH_CT.merge } : method === "PUT" ? JSON_CT : undefined,
            body: method === "PUT" || method === "PATCH" ? JSON.stringify(valid("x")) : undefined,
          }),
        });
      }
    }
    if (info.namespaced) {
      for (const [label, seg] of spread(badSegments, 2, ri)) {
        add({
          group: "path-encoding",
          label: `POST namespaces/${label}/${r}`,
          build: (_fx, id) => ({
            method: "POST",
            path: collectionPath(info, seg),
            headers: JSON_CT,
            body: JSON.stringify({ ...valid(fresh(id)), metadata: { name: fresh(id) } }),
          }),
        });
      }
    }

    // ---- malformed patches, of each type
    const patches: [PatchType, string, (name: string) => string][] = [
      ["json", "body={} (not a list of operations)", () => "{}"],
      ["json", 'op "frob"', () => '[{"op":"frob","path":"/metadata/labels"}]'],
      ["json", "op without a path", () => '[{"op":"add","value":1}]'],
      ["json", "truncated JSON", () => '[{"op":"add","path":"/metadata/labels/a","value":"b"'],
      ["json", "test that fails", () => '[{"op":"test","path":"/metadata/name","value":"not-the-name"}]'],
      ["json", "replace /metadata/name", () => '[{"op":"replace","path":"/metadata/name","value":"renamed"}]'],
      ["json", "replace /metadata/uid", () => '[{"op":"replace","path":"/metadata/uid","value":"00000000-0000-0000-0000-000000000000"}]'],
      ["json", "remove a missing path", () => '[{"op":"remove","path":"/nonexistent/field"}]'],
      ["json", "replace /metadata with a string", () => '[{"op":"replace","path":"/metadata","value":"x"}]'],
      // each copy doubles what it copies: 30 of them once took a minute and 2 GB
      [
        "json",
        "30 copies that double an annotation",
        () =>
          JSON.stringify([
            { op: "add", path: "/metadata/annotations", value: { x: "y".repeat(100) } },
            ...Array.from({ length: 30 }, (_, i) => ({ op: "copy", from: "/metadata/annotations", path: `/metadata/annotations/c${i}` })),
          ]),
      ],
      ["json", "add a 20000-deep label value", () => `[{"op":"add","path":"/metadata/labels","value":{"a":${deepArray(20000).text}}}]`],
      ["merge", "body=[]", () => "[]"],
      ["merge", 'body="x"', () => '"x"'],
      ["merge", "body=5", () => "5"],
      ["merge", "truncated JSON", () => '{"metadata":{"labels":{"a":"b"}'],
      ["merge", 'metadata="x"', () => '{"metadata":"x"}'],
      ["merge", "metadata.name renamed", () => '{"metadata":{"name":"renamed"}}'],
      ["merge", "a 20000-deep label value", () => `{"metadata":{"labels":{"a":${deepArray(20000).text}}}}`],
      ["strategic", "body=[]", () => "[]"],
      ["strategic", "truncated JSON", () => '{"metadata":{"labels":'],
      ["strategic", "metadata=[]", () => '{"metadata":[]}'],
      ["strategic", "metadata.name renamed", () => '{"metadata":{"name":"renamed"}}'],
      ["strategic", 'metadata.labels="x"', () => '{"metadata":{"labels":"x"}}'],
      // merged element by element: compared pair by pair, 20,000 of them held the event loop for most of a minute
      [
        "strategic",
        "20000 ownerReferences and metadata.name renamed",
        () =>
          JSON.stringify({
            metadata: {
              name: "renamed",
              ownerReferences: Array.from({ length: 20_000 }, (_, i) => ({ apiVersion: "v1", kind: "ConfigMap", name: `o${i}`, uid: `u${i}` })),
            },
          }),
      ],
      ["apply", "YAML that does not parse", () => "metadata: [\n"],
      ["apply", "a YAML list", () => "- a\n- b\n"],
      ["apply", "without apiVersion and kind", (n) => `metadata:\n  name: ${n}\n`],
      ["apply", "kind of another type", (n) => `apiVersion: v1\nkind: Banana\nmetadata:\n  name: ${n}\n`],
      ["apply", "metadata.name renamed", () => `apiVersion: ${groupVersion(info)}\nkind: ${info.kind}\nmetadata:\n  name: renamed\n`],
      ["apply", "YAML alias bomb", () => yamlBomb()],
    ];
    for (const [type, label, body] of spread(patches, 16, ri)) {
      add({
        group: "patch",
        resource: r,
        label: `PATCH(${type}) ${r} ${label}`,
        build: (fx) => ({
          method: "PATCH",
          path: fixture(fx) + (type === "apply" ? "?fieldManager=hostile" : ""),
          headers: { "Content-Type": PATCH_CT[type] },
          body: body(fx.name(r)),
        }),
      });
    }
    for (const ct of ["application/json", "text/plain", "application/vnd.kubernetes.protobuf"]) {
      add({
        group: "patch",
        resource: r,
        label: `PATCH ${r} with Content-Type ${ct}`,
        build: (fx) => ({ method: "PATCH", path: fixture(fx), headers: { "Content-Type": ct }, body: '{"metadata":{"labels":{"hostile":"1"}}}' }),
      });
    }

    // ---- DELETE: malformed DeleteOptions in the body and the query
    const deleteBodies: [string, string][] = [
      ["body=[]", "[]"],
      ['body="x"', '"x"'],
      ["body=5", "5"],
      ["truncated JSON", '{"kind":"DeleteOptions","dryRun":'],
      ['dryRun={"a":1}', '{"dryRun":{"a":1}}'],
      ['dryRun="All" (a string, not a list)', '{"dryRun":"All"}'],
      ['dryRun=["Bogus"]', '{"dryRun":["Bogus"]}'],
      ['gracePeriodSeconds="x"', '{"gracePeriodSeconds":"x"}'],
      ["gracePeriodSeconds=1e999", '{"gracePeriodSeconds":1e999}'],
      ['propagationPolicy="Bogus"', '{"propagationPolicy":"Bogus"}'],
      ["orphanDependents with propagationPolicy", '{"orphanDependents":true,"propagationPolicy":"Foreground"}'],
      ['preconditions="x"', '{"preconditions":"x"}'],
      ["preconditions.uid=5", '{"preconditions":{"uid":5}}'],
    ];
    for (const [label, body] of spread(deleteBodies, 8, ri)) {
      add({ group: "delete", resource: r, label: `DELETE ${r} ${label}`, build: (fx) => ({ method: "DELETE", path: fixture(fx), headers: JSON_CT, body }) });
    }
    const deleteQueries: [string, string][] = [
      ["gracePeriodSeconds=abc", "gracePeriodSeconds=abc"],
      ["gracePeriodSeconds=99999999999999999999", "gracePeriodSeconds=99999999999999999999"],
      ["propagationPolicy=Bogus", "propagationPolicy=Bogus"],
      ["dryRun=Bogus", "dryRun=Bogus"],
      ["orphanDependents with propagationPolicy", "orphanDependents=true&propagationPolicy=Background"],
    ];
    for (const [label, q] of spread(deleteQueries, 3, ri)) {
      add({ group: "delete", resource: r, label: `DELETE ${r} ?${label}`, build: (fx) => ({ method: "DELETE", path: `${fixture(fx)}?${q}` }) });
    }
    // deletecollection: a bad selector must not delete everything
    for (const [label, q] of [
      ["labelSelector=!!!", "labelSelector=!!!"],
      ["fieldSelector on an unknown field", "fieldSelector=nonexistent.field%3Dx"],
      ["dryRun=Bogus", "dryRun=Bogus"],
    ] as const) {
      if (r === "namespaces") continue; // a wrongly accepted one would take the test's own namespace
      add({ group: "delete", resource: r, solo: true, label: `DELETE ${r} collection ?${label}`, build: () => ({ method: "DELETE", path: `${coll}?${q}` }) });
    }
  }

  // ---- subresources
  const pods = RESOURCES.find((x) => x.resource === "pods")!;
  const deployments = RESOURCES.find((x) => x.resource === "deployments")!;
  const namespaces = RESOURCES.find((x) => x.resource === "namespaces")!;
  const pod = (fx: Fixtures) => objectPath(pods, fx.name("pods"));
  const sub: [string, string, (fx: Fixtures) => string, Record<string, string> | undefined, (fx: Fixtures) => string | undefined][] = [
    [
      "PUT pods/status status.phase=5",
      "PUT",
      (fx) => `${pod(fx)}/status`,
      JSON_CT,
      (fx) => encode({ ...validObject(pods, fx.name("pods")), status: { phase: 5 } }),
    ],
    [
      'PUT pods/status status.conditions="x"',
      "PUT",
      (fx) => `${pod(fx)}/status`,
      JSON_CT,
      (fx) => encode({ ...validObject(pods, fx.name("pods")), status: { conditions: "x" } }),
    ],
    [
      "PUT pods/status status.startTime=not-a-time",
      "PUT",
      (fx) => `${pod(fx)}/status`,
      JSON_CT,
      (fx) => encode({ ...validObject(pods, fx.name("pods")), status: { startTime: "not-a-time" } }),
    ],
    ["PUT pods/status body=[]", "PUT", (fx) => `${pod(fx)}/status`, JSON_CT, () => "[]"],
    ['PATCH(merge) pods/status status="x"', "PATCH", (fx) => `${pod(fx)}/status`, { "Content-Type": PATCH_CT.merge }, () => '{"status":"x"}'],
    ["POST pods/binding body=[]", "POST", (fx) => `${pod(fx)}/binding`, JSON_CT, () => "[]"],
    [
      'POST pods/binding target="x"',
      "POST",
      (fx) => `${pod(fx)}/binding`,
      JSON_CT,
      (fx) => encode({ apiVersion: "v1", kind: "Binding", metadata: { name: fx.name("pods") }, target: "x" }),
    ],
    ["POST pods/binding truncated JSON", "POST", (fx) => `${pod(fx)}/binding`, JSON_CT, () => '{"apiVersion":"v1","kind":"Binding","target":{"kind":"Node"'],
    ['POST pods/log body="x"', "POST", (fx) => `${pod(fx)}/log`, JSON_CT, () => '"x"'],
    ["POST pods/log truncated JSON", "POST", (fx) => `${pod(fx)}/log`, JSON_CT, () => '{"lines":['],
    ["GET pods/log ?limitBytes=-1", "GET", (fx) => `${pod(fx)}/log?limitBytes=-1`, undefined, () => undefined],
    ["GET pods/log ?limitBytes=abc", "GET", (fx) => `${pod(fx)}/log?limitBytes=abc`, undefined, () => undefined],
    ["GET pods/log ?tailLines=-1", "GET", (fx) => `${pod(fx)}/log?tailLines=-1`, undefined, () => undefined],
    ["GET pods/log ?sinceSeconds=0", "GET", (fx) => `${pod(fx)}/log?sinceSeconds=0`, undefined, () => undefined],
    ["GET pods/log ?sinceTime=garbage", "GET", (fx) => `${pod(fx)}/log?sinceTime=garbage`, undefined, () => undefined],
    [
      "GET pods/log ?sinceSeconds=1&sinceTime=2024-01-01T00:00:00Z (both)",
      "GET",
      (fx) => `${pod(fx)}/log?sinceSeconds=1&sinceTime=2024-01-01T00:00:00Z`,
      undefined,
      () => undefined,
    ],
    [
      'PUT deployments/scale spec.replicas="x"',
      "PUT",
      (fx) => `${objectPath(deployments, fx.name("deployments"))}/scale`,
      JSON_CT,
      (fx) => encode({ apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: fx.name("deployments"), namespace: NS }, spec: { replicas: "x" } }),
    ],
    [
      "PUT deployments/scale spec.replicas=-1",
      "PUT",
      (fx) => `${objectPath(deployments, fx.name("deployments"))}/scale`,
      JSON_CT,
      (fx) => encode({ apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: fx.name("deployments"), namespace: NS }, spec: { replicas: -1 } }),
    ],
    [
      "PUT deployments/scale spec.replicas=1e999",
      "PUT",
      (fx) => `${objectPath(deployments, fx.name("deployments"))}/scale`,
      JSON_CT,
      (fx) => `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"${fx.name("deployments")}","namespace":"${NS}"},"spec":{"replicas":1e999}}`,
    ],
    ["PUT deployments/scale body=[]", "PUT", (fx) => `${objectPath(deployments, fx.name("deployments"))}/scale`, JSON_CT, () => "[]"],
    [
      "PATCH(merge) deployments/scale spec.replicas=1.5",
      "PATCH",
      (fx) => `${objectPath(deployments, fx.name("deployments"))}/scale`,
      { "Content-Type": PATCH_CT.merge },
      () => '{"spec":{"replicas":1.5}}',
    ],
    [
      "PUT namespaces/finalize spec.finalizers=5",
      "PUT",
      (fx) => `${objectPath(namespaces, fx.name("namespaces"))}/finalize`,
      JSON_CT,
      (fx) => encode({ apiVersion: "v1", kind: "Namespace", metadata: { name: fx.name("namespaces") }, spec: { finalizers: 5 } }),
    ],
    [
      "PUT namespaces/finalize spec.finalizers=[5]",
      "PUT",
      (fx) => `${objectPath(namespaces, fx.name("namespaces"))}/finalize`,
      JSON_CT,
      (fx) => encode({ apiVersion: "v1", kind: "Namespace", metadata: { name: fx.name("namespaces") }, spec: { finalizers: [5] } }),
    ],
    ['PUT namespaces/finalize body="x"', "PUT", (fx) => `${objectPath(namespaces, fx.name("namespaces"))}/finalize`, JSON_CT, () => '"x"'],
    [
      "PUT namespaces/status status.phase=5",
      "PUT",
      (fx) => `${objectPath(namespaces, fx.name("namespaces"))}/status`,
      JSON_CT,
      (fx) => encode({ apiVersion: "v1", kind: "Namespace", metadata: { name: fx.name("namespaces") }, status: { phase: 5 } }),
    ],
  ];
  for (const [label, method, path, headers, body] of sub) {
    add({
      group: "subresource",
      resource: label.includes("deployments") ? "deployments" : label.includes("namespaces") ? "namespaces" : "pods",
      label,
      build: (fx) => ({ method, path: path(fx), headers, body: body(fx) }),
    });
  }
  // integers of the right type but out of the range validation allows (negative counts, ports past 65535)
  const byName = (n: string) => RESOURCES.find((x) => x.resource === n)!;
  const outOfRange: [string, Step[], unknown][] = [
    ["pods", ["spec", "activeDeadlineSeconds"], -1],
    ["pods", ["spec", "containers", 0, "ports"], [{ containerPort: 70000 }]],
    ["pods", ["spec", "containers", 0, "ports"], [{ containerPort: -1 }]],
    ["services", ["spec", "ports", 0, "port"], 65536],
    ["services", ["spec", "ports", 0, "port"], -1],
    ["endpoints", ["subsets", 0, "ports", 0, "port"], -1],
    ["endpointslices", ["ports", 0, "port"], 65536],
    ["replicationcontrollers", ["spec", "replicas"], -1],
    ["replicationcontrollers", ["spec", "minReadySeconds"], -1],
    ["deployments", ["spec", "replicas"], -1],
    ["deployments", ["spec", "revisionHistoryLimit"], -1],
    ["deployments", ["spec", "minReadySeconds"], -1],
    ["replicasets", ["spec", "replicas"], -1],
    ["leases", ["spec", "leaseDurationSeconds"], -1],
    ["leases", ["spec", "leaseTransitions"], -1],
    ["leases", ["spec", "leaseDurationSeconds"], 0],
  ];
  for (const [res, path, v] of outOfRange) {
    const info = byName(res);
    add({
      group: "field-type",
      label: `POST ${res} ${showPath(path)}=${short(v)} (out of range)`,
      build: (_fx, id) => ({ method: "POST", path: collectionPath(info), headers: JSON_CT, body: encode(setPath(validObject(info, `h-${id}`), path, v)) }),
    });
    add({
      group: "field-type",
      resource: res,
      label: `PUT ${res} ${showPath(path)}=${short(v)} (out of range)`,
      build: (fx) => ({
        method: "PUT",
        path: objectPath(info, fx.name(res)),
        headers: JSON_CT,
        body: encode(setPath(validObject(info, fx.name(res)), path, v)),
      }),
    });
  }

  // a body over the 3 MiB limit: 413, as a Status, without reading the rest
  add({
    group: "body-shape",
    label: "POST configmaps body of 4 MiB (over the limit)",
    build: (_fx, id) => ({
      method: "POST",
      path: collectionPath(byName("configmaps")),
      headers: JSON_CT,
      body: encode({ ...validObject(byName("configmaps"), `h-${id}`), data: { a: "v".repeat(4 * 1024 * 1024) } }),
    }),
  });

  // the issue's two pod spellings of a broken container list, also inside a template
  for (const [label, res, body] of [
    ["POST pods spec.containers={}", pods, (n: string) => ({ ...validObject(pods, n), spec: { containers: {} } })],
    ["POST pods spec.containers=[null]", pods, (n: string) => ({ ...validObject(pods, n), spec: { containers: [null] } })],
    [
      "POST deployments spec.template.spec.containers={}",
      deployments,
      (n: string) => setPath(validObject(deployments, n), ["spec", "template", "spec", "containers"], {}),
    ],
    [
      "POST deployments spec.template.spec.containers=[null]",
      deployments,
      (n: string) => setPath(validObject(deployments, n), ["spec", "template", "spec", "containers"], [null]),
    ],
  ] as const) {
    add({ group: "field-type", label, build: (_fx, id) => ({ method: "POST", path: collectionPath(res), headers: JSON_CT, body: encode(body(`h-${id}`)) }) });
  }

  // ---- Kubeflare's own endpoints
  const tokens = "/apis/kubeflare.dev/v1/bootstraptokens";
  for (const [label, body] of [
    ["ttlSeconds=1e15", '{"ttlSeconds":1e15}'],
    ["ttlSeconds=1e999", '{"ttlSeconds":1e999}'],
    ['ttlSeconds="x"', '{"ttlSeconds":"x"}'],
    ["ttlSeconds=-1", '{"ttlSeconds":-1}'],
    ["ttlSeconds=1.5", '{"ttlSeconds":1.5}'],
    ["body=[]", "[]"],
    ['body="x"', '"x"'],
    ["truncated JSON", '{"ttlSeconds":'],
  ] as const) {
    add({ group: "kubeflare", solo: true, label: `POST bootstraptokens ${label}`, build: () => ({ method: "POST", path: tokens, headers: JSON_CT, body }) });
  }
  for (const [label, body] of [
    ["truncated JSON", '{"nodeName":'],
    ["nodeName=5", '{"nodeName":5}'],
    ["body=[]", "[]"],
  ] as const) {
    add({
      group: "kubeflare",
      label: `POST join with a bogus token, ${label}`,
      // credentials are checked before the body is read, so a bad body cannot tell anything
      status: 401,
      build: () => ({ method: "POST", path: "/apis/kubeflare.dev/v1/join", headers: { ...JSON_CT, Authorization: "Bearer abcdef.0123456789abcdef" }, body }),
    });
  }
  const servingCert = "/apis/kubeflare.dev/v1/nodes/hostile-node/servingcertificate";
  for (const [label, body] of [
    ["truncated JSON", '{"publicKey":'],
    ["publicKey=5", '{"publicKey":5}'],
    ["publicKey=not PEM", '{"publicKey":"x"}'],
    ["publicKey=garbage DER", '{"publicKey":"-----BEGIN PUBLIC KEY-----\\nMAA=\\n-----END PUBLIC KEY-----\\n"}'],
    ["clusterDomain=[]", '{"publicKey":"x","clusterDomain":[]}'],
    ["body=[]", "[]"],
  ] as const) {
    add({
      group: "kubeflare",
      solo: true,
      status: 400,
      label: `POST servingcertificate ${label}`,
      build: () => ({ method: "POST", path: servingCert, headers: JSON_CT, body }),
    });
  }
  return cases;
};

/** `text` with `bytes` put right after the first `after`. */
const splice = (text: string, after: string, bytes: Uint8Array) => {
  const i = text.indexOf(after) + after.length;
  return concat(text.slice(0, i), bytes, text.slice(i));
};

const bodyText = (b: string | Raw) => (b instanceof Raw ? b.text : b);
const rndBytes = (rnd: Prng, n: number) => rnd.bytes(n);

const utf16 = (s: string) => {
  const out = new Uint8Array(2 + s.length * 2);
  out[0] = 0xff;
  out[1] = 0xfe;
  for (let i = 0; i < s.length; i++) {
    out[2 + 2 * i] = s.charCodeAt(i) & 0xff;
    out[3 + 2 * i] = s.charCodeAt(i) >> 8;
  }
  return out;
};

/** "Billion laughs": ten levels of ten aliases each; a parser that expands them all builds 10^10 nodes. */
const yamlBomb = () => {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  let prev = "a";
  for (const x of "bcdefghij") {
    lines.push(`${x}: &${x} [${Array(10).fill(`*${prev}`).join(",")}]`);
    prev = x;
  }
  return lines.join("\n") + "\n";
};

/**
 * A patch of `type` that sets `path` to `value` on a copy of the valid object `obj`:
 * the whole top-level field for merge and strategic patches (so lists on the way keep
 * their other elements), an add of it for JSON patch, the whole object for apply.
 */
const patchSetting = (type: PatchType, obj: Record<string, any>, path: Step[], value: unknown): string => {
  const next = setPath(clone(obj), path, value);
  const top = path[0] as string;
  switch (type) {
    case "merge":
    case "strategic":
      return encode({ [top]: next[top] });
    case "json":
      return encode([{ op: "add", path: `/${top}`, value: next[top] }]);
    case "apply":
      return encode(next);
  }
};

/** The resources that store objects (not the create-only reviews: SelfSubjectAccessReview, ...). */
export const STORED_RESOURCES = RESOURCES.filter((r) => !r.verbs);
