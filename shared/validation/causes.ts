/**
 * Field errors as kube-apiserver words them (k8s.io/apimachinery/pkg/util/validation/field):
 * each becomes a Status cause `{reason: "FieldValue<Type>", field, message}` whose
 * message is the error body, e.g. `Invalid value: "Bad_Name": a lowercase RFC 1123 ...`.
 */
import type { StatusCause } from "../status";

/** A value printed as Go's field errors print it: %q strings, plain numbers, %#v maps and slices. */
export const goValue = (v: unknown): string => {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === "string")) return `[]string{${v.map((x) => JSON.stringify(x)).join(", ")}}`;
    return JSON.stringify(v);
  }
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.every(([, x]) => typeof x === "string")) {
      const body = entries
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, x]) => `${JSON.stringify(k)}:${JSON.stringify(x)}`)
        .join(", ");
      return `map[string]string{${body}}`;
    }
    return JSON.stringify(v);
  }
  return String(v);
};

/** A marker for values that must not be echoed (secret data). */
export const OMIT = Symbol("omit");

const body = (type: string, value: unknown, detail: string) => {
  const head = value === OMIT ? type : `${type}: ${goValue(value)}`;
  return detail ? `${head}: ${detail}` : head;
};

/** Collects causes in the order they are found. */
export class Causes {
  readonly list: StatusCause[] = [];

  private add(reason: string, field: string, message: string) {
    this.list.push({ reason, message, field });
  }

  required(field: string, detail = "") {
    this.add("FieldValueRequired", field, detail ? `Required value: ${detail}` : "Required value");
  }
  invalid(field: string, value: unknown, detail: string) {
    this.add("FieldValueInvalid", field, body("Invalid value", value, detail));
  }
  typeInvalid(field: string, value: unknown, detail: string) {
    this.add("FieldValueTypeInvalid", field, body("Invalid value", value, detail));
  }
  notSupported(field: string, value: unknown, supported: readonly string[]) {
    const detail = supported.length ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}` : "";
    this.add("FieldValueNotSupported", field, body("Unsupported value", value, detail));
  }
  duplicate(field: string, value: unknown, detail = "") {
    this.add("FieldValueDuplicate", field, body("Duplicate value", value, detail));
  }
  notFound(field: string, value: unknown) {
    this.add("FieldValueNotFound", field, body("Not found", value, ""));
  }
  forbidden(field: string, detail: string) {
    this.add("FieldValueForbidden", field, detail ? `Forbidden: ${detail}` : "Forbidden");
  }
  tooLong(field: string, max: number) {
    this.add("FieldValueTooLong", field, `Too long: may not be more than ${max} ${max === 1 ? "byte" : "bytes"}`);
  }
  tooMany(field: string, actual: number, max: number) {
    this.add("FieldValueTooMany", field, `Too many: ${actual}: must have at most ${max} items`);
  }
  /** One Invalid cause per message, as kube-apiserver reports validators' error lists. */
  invalidEach(field: string, value: unknown, messages: string[]) {
    for (const m of messages) this.invalid(field, value, m);
  }
}

/** `base.child` / `base[0]` / `base[key]`, as field.Path prints them. */
export const child = (base: string, name: string) => (base ? `${base}.${name}` : name);
export const index = (base: string, i: number) => `${base}[${i}]`;
export const key = (base: string, k: string) => `${base}[${k}]`;
