/**
 * zod schemas built from the type descriptions: closed objects (unknown fields are
 * reported as unrecognized keys), Kubernetes scalar types, enums, Quantity checks.
 * Optional fields take undefined; JSON null means "unset" and is dropped before
 * parsing (see withoutNulls).
 */
import { z } from "zod";
import { quantityError } from "../../quantity";
import { rfc3339Error } from "../../time";
import type { Field, NamedType, TypeRef } from "./dsl";

const cache = new Map<NamedType, z.ZodType>();

const scalar = (t: Extract<NamedType, { kind: "named-scalar" }>): z.ZodType => {
  switch (t.check) {
    case "quantity":
      return z.union([z.string(), z.number()]).superRefine((v, ctx) => {
        const e = quantityError(v);
        // a quantity too long to parse is reported as such (FieldValueTooLong), without echoing it
        if (e) ctx.addIssue({ code: "custom", message: e.message, params: e.tooLong ? { tooLong: true } : undefined });
      });
    case "int-or-string":
      return z.union([z.int32(), z.string()]);
    case "object":
      return z.record(z.string(), z.unknown());
    case "time":
      // metav1.Time and MicroTime decode RFC 3339 only; a long string is not echoed back
      return z.string().superRefine((v, ctx) => {
        if (v.length > MAX_TIME_LENGTH) ctx.addIssue({ code: "custom", message: "too long", params: { tooLong: true, max: MAX_TIME_LENGTH } });
        else {
          const e = rfc3339Error(v);
          if (e) ctx.addIssue({ code: "custom", message: e });
        }
      });
  }
};

/** Longer than any RFC 3339 time (with nanoseconds and an offset: 35 characters). */
const MAX_TIME_LENGTH = 64;

/** The zod schema of a named type (built once). */
export const zodOf = (t: NamedType): z.ZodType => {
  const cached = cache.get(t);
  if (cached) return cached;
  const schema =
    t.kind === "named-scalar"
      ? scalar(t).describe(t.description)
      : z.strictObject(Object.fromEntries(Object.entries(t.fields).map(([k, f]) => [k, fieldSchema(f)]))).describe(t.description);
  cache.set(t, schema);
  return schema;
};

const typeSchema = (t: TypeRef): z.ZodType => {
  switch (t.kind) {
    case "string":
      return z.string();
    case "boolean":
      return z.boolean();
    case "int32":
      return z.int32();
    case "int64":
      return z.int();
    case "number":
      return z.number();
    case "enum":
      if (!t.check) return z.string();
      return z.enum(t.allowEmpty ? ["", ...t.values] : [...t.values]);
    case "named":
      return zodOf(t.type);
    case "array":
      return z.array(typeSchema(t.items));
    case "map":
      return z.record(z.string(), typeSchema(t.values));
    case "json":
      return z.record(z.string(), z.unknown());
  }
};

const fieldSchema = (f: Field): z.ZodType => {
  const s = typeSchema(f.type).describe(f.description);
  return f.required ? s : s.optional();
};
