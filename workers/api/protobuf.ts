/**
 * Decoding of `application/vnd.kubernetes.protobuf` request bodies into the JSON objects
 * the API accepts. kubectl 1.32+ sends these from its typed client (`create namespace`,
 * `create deployment`, `create configmap`, `create secret`, `create service`, `debug`...).
 *
 * The body is the 4-byte magic "k8s\0" and a runtime.Unknown envelope
 * {1: TypeMeta{1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding, 4: contentType}
 * whose `raw` is the object in the layout of Kubernetes' generated.proto files.
 *
 * protobufjs' Reader does the wire format; the field tables below (wire numbers from
 * k8s.io/api core/v1 and apps/v1, and apimachinery meta/v1, runtime, intstr, resource)
 * drive a small interpreter, so nothing is compiled from strings at runtime (workerd
 * forbids eval/new Function).
 *
 * Go's marshaller always writes non-pointer fields, zero or not, while the JSON form
 * omits zero `omitempty` fields; pointer fields are written only when set. So zero
 * values of omitempty scalars are dropped, and pointer fields are kept as sent
 * (`replicas: 0`, `terminationGracePeriodSeconds: 0`). Status is not decoded (the
 * server owns it); unknown field numbers are skipped.
 */
import { Reader } from "protobufjs/minimal.js";
import { rfc3339 } from "../../shared/time";
import { KINDS, SCHEMA } from "./protobuf-tables";

// ---- the tables, compiled once

const SCALARS = ["string", "int32", "int64", "bool", "bytes", "time", "quantity", "intstr"] as const;
type Scalar = (typeof SCALARS)[number];
type MapValue = "string" | "bytes" | "quantity";

interface Field {
  name: string;
  /** a scalar, `map:<value>`, or a message name */
  type: Scalar | `map:${MapValue}` | string;
  repeated: boolean;
  /** drop the zero value (omitempty non-pointer scalar) */
  omitZero: boolean;
  /** an embedded struct: its fields go into the parent */
  inline: boolean;
}

const compile = (schema: Record<string, string>): Map<string, Map<number, Field>> => {
  const out = new Map<string, Map<number, Field>>();
  for (const [message, spec] of Object.entries(schema)) {
    const fields = new Map<number, Field>();
    for (const token of spec.trim().split(/\s+/)) {
      const m = token.match(/^(\d+):(\w+)(?:=([\w:]+))?(\[\])?([?*^])?$/);
      if (!m) throw new Error(`protobuf schema ${message}: bad field "${token}"`);
      const [, num, name, type = "string", repeated, flag] = m;
      fields.set(Number(num), { name, type, repeated: !!repeated, omitZero: flag === "?", inline: flag === "^" });
    }
    out.set(message, fields);
  }
  for (const [message, fields] of out) {
    for (const f of fields.values()) {
      const known = (SCALARS as readonly string[]).includes(f.type) || /^map:(string|bytes|quantity)$/.test(f.type) || out.has(f.type);
      if (!known) throw new Error(`protobuf schema ${message}.${f.name}: unknown type ${f.type}`);
    }
  }
  return out;
};

const TABLES = compile(SCHEMA);

// ---- wire helpers

const VARINT = 0;
const LEN = 2;

const WIRE: Record<string, number> = { int32: VARINT, int64: VARINT, bool: VARINT };
const wireOf = (type: string) => WIRE[type] ?? LEN;

/** Long (when the `long` package is loaded) or number → number. */
const toNumber = (v: unknown): number =>
  typeof v === "number" ? v : typeof v === "object" && v !== null && "toNumber" in v ? (v as { toNumber(): number }).toNumber() : Number(v);

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 with padding, as Go's encoding/json writes []byte. */
export const base64 = (b: Uint8Array): string => {
  let s = "";
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    s += BASE64[n >> 18] + BASE64[(n >> 12) & 63] + BASE64[(n >> 6) & 63] + BASE64[n & 63];
  }
  if (i < b.length) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8);
    s += BASE64[n >> 18] + BASE64[(n >> 12) & 63] + (i + 1 < b.length ? BASE64[(n >> 6) & 63] : "=") + "=";
  }
  return s;
};

/** Set an own property, even for keys like "__proto__" (as JSON.parse does). */
const setOwn = (o: Record<string, unknown>, key: string, value: unknown) => {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
};

/** Run `f` with the reader bounded to the length-delimited field at its position. */
const within = <T>(r: Reader, f: (end: number) => T): T => {
  const len = r.uint32();
  const end = r.pos + len;
  if (end > r.len) throw new Error(`truncated message (a field of ${len} bytes at offset ${r.pos} runs past the end)`);
  const outer = r.len;
  r.len = end;
  try {
    const value = f(end);
    if (r.pos !== end) throw new Error(`malformed message ending at offset ${end}`);
    return value;
  } finally {
    r.len = outer;
  }
};

const readTag = (r: Reader): [number, number] => {
  const tag = r.uint32();
  const num = tag >>> 3;
  if (num === 0) throw new Error(`illegal field number 0 at offset ${r.pos}`);
  return [num, tag & 7];
};

/** meta/v1 Time {1: seconds, 2: nanos} → RFC 3339 in UTC, seconds precision (as metav1.Time marshals). An empty message is the zero time. */
const readTime = (r: Reader): string | undefined =>
  within(r, (end) => {
    if (r.pos === end) return undefined;
    let seconds = 0;
    while (r.pos < end) {
      const [num, wire] = readTag(r);
      if (num === 1 && wire === VARINT) seconds = toNumber(r.int64());
      else r.skipType(wire); // nanos: metav1.Time's JSON form has whole seconds
    }
    const d = new Date(seconds * 1000);
    if (Number.isNaN(d.getTime())) throw new Error(`time out of range: ${seconds} seconds`);
    return rfc3339(d);
  });

/** resource.Quantity {1: string}. */
const readQuantity = (r: Reader): string =>
  within(r, (end) => {
    let s = "";
    while (r.pos < end) {
      const [num, wire] = readTag(r);
      if (num === 1 && wire === LEN) s = r.string();
      else r.skipType(wire);
    }
    return s;
  });

/** intstr.IntOrString {1: type (0 int, 1 string), 2: intVal, 3: strVal} → number or string. */
const readIntOrString = (r: Reader): number | string =>
  within(r, (end) => {
    let type = 0;
    let int = 0;
    let str = "";
    while (r.pos < end) {
      const [num, wire] = readTag(r);
      if (num === 1 && wire === VARINT) type = toNumber(r.int64());
      else if (num === 2 && wire === VARINT) int = r.int32();
      else if (num === 3 && wire === LEN) str = r.string();
      else r.skipType(wire);
    }
    return type === 1 ? str : int;
  });

const readScalar = (r: Reader, type: string): unknown => {
  switch (type) {
    case "string":
      return r.string();
    case "int32":
      return r.int32();
    case "int64":
      return toNumber(r.int64());
    case "bool":
      return r.bool();
    case "bytes":
      return r.bytes();
    case "time":
      return readTime(r);
    case "quantity":
      return readQuantity(r);
    case "intstr":
      return readIntOrString(r);
    default:
      return readMessage(r, type);
  }
};

/** A map entry {1: key, 2: value}. */
const readMapEntry = (r: Reader, value: MapValue): [string, unknown] =>
  within(r, (end) => {
    let k = "";
    let v: unknown = value === "string" || value === "bytes" ? "" : "0";
    while (r.pos < end) {
      const [num, wire] = readTag(r);
      if (num === 1 && wire === LEN) k = r.string();
      else if (num === 2 && wire === LEN) v = value === "string" ? r.string() : value === "bytes" ? base64(r.bytes()) : readQuantity(r);
      else r.skipType(wire);
    }
    return [k, v];
  });

const isZero = (v: unknown) => v === undefined || v === "" || v === 0 || v === false;

const readMessage = (r: Reader, type: string): Record<string, unknown> => within(r, (end) => readFields(r, type, end));

const readFields = (r: Reader, type: string, end: number): Record<string, unknown> => {
  const table = TABLES.get(type)!;
  const out: Record<string, unknown> = {};
  while (r.pos < end) {
    const [num, wire] = readTag(r);
    const f = table.get(num);
    if (!f) {
      r.skipType(wire);
      continue;
    }
    if (f.type.startsWith("map:")) {
      if (wire !== LEN) throw new Error(`${type}.${f.name}: wire type ${wire}, expected ${LEN}`);
      const [k, v] = readMapEntry(r, f.type.slice(4) as MapValue);
      if (!Object.hasOwn(out, f.name)) setOwn(out, f.name, {});
      setOwn(out[f.name] as Record<string, unknown>, k, v);
      continue;
    }
    const expected = wireOf(f.type);
    if (f.repeated) {
      if (!Object.hasOwn(out, f.name)) setOwn(out, f.name, []);
      const list = out[f.name] as unknown[];
      if (expected === VARINT && wire === LEN) {
        // packed
        within(r, (e) => {
          while (r.pos < e) list.push(readScalar(r, f.type));
        });
      } else if (wire === expected) list.push(readScalar(r, f.type));
      else throw new Error(`${type}.${f.name}: wire type ${wire}, expected ${expected}`);
      continue;
    }
    if (wire !== expected) throw new Error(`${type}.${f.name}: wire type ${wire}, expected ${expected}`);
    const value = readScalar(r, f.type);
    if (f.inline) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) setOwn(out, k, v);
    } else if (value === undefined || (f.omitZero && isZero(value))) {
      delete out[f.name];
    } else if (TABLES.has(f.type) && Object.hasOwn(out, f.name)) {
      // a repeated occurrence of a message field merges into the first (proto semantics)
      Object.assign(out[f.name] as object, value);
    } else {
      setOwn(out, f.name, value);
    }
  }
  return out;
};

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"

/** The message that decodes an object of this apiVersion and kind, if we know it. */
export const protobufMessageFor = (apiVersion: string, kind: string): string | undefined =>
  kind === "DeleteOptions" ? "DeleteOptions" : KINDS[`${apiVersion}/${kind}`];

/**
 * Decode a Kubernetes protobuf body (`application/vnd.kubernetes.protobuf`) into the
 * JSON object the API accepts, with apiVersion and kind from the envelope. Throws an
 * Error on a missing "k8s\0" prefix, a kind we don't know, or malformed bytes.
 */
export const decodeKubernetesProtobuf = (bytes: Uint8Array): unknown => {
  if (bytes.length < 4 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error('missing the "k8s\\0" prefix of a Kubernetes protobuf message');
  const r = new Reader(bytes.subarray(4));
  const envelope = readFields(r, "Unknown", r.len) as {
    typeMeta?: { apiVersion?: string; kind?: string };
    raw?: Uint8Array;
    contentEncoding?: string;
    contentType?: string;
  };
  if (envelope.contentEncoding) throw new Error(`content encoding "${envelope.contentEncoding}" is not supported`);
  if (envelope.contentType && envelope.contentType !== "application/vnd.kubernetes.protobuf")
    throw new Error(`content type "${envelope.contentType}" inside a protobuf envelope is not supported`);
  const { apiVersion = "", kind = "" } = envelope.typeMeta ?? {};
  if (!kind) throw new Error("the protobuf envelope names no kind");
  const message = protobufMessageFor(apiVersion, kind);
  if (!message) throw new Error(`protobuf bodies of ${apiVersion || "(no apiVersion)"} ${kind} are not supported; send JSON or YAML`);
  const raw = envelope.raw ?? new Uint8Array();
  const inner = new Reader(raw);
  return { apiVersion, kind, ...readFields(inner, message, inner.len) };
};
