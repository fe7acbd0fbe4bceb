/**
 * Field selectors (`?fieldSelector=`), parsed as apimachinery's `fields.ParseSelector`:
 * comma-separated `field=value`, `field==value` or `field!=value` terms; in values a
 * backslash escapes `\`, `,` and `=` (and nothing else); empty terms are skipped;
 * nothing is trimmed. Requirements come back sorted by their raw term text.
 */
import { badRequest } from "../status";

export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

/** Split on commas that are not escaped; escapes stay in the terms. */
const splitTerms = (s: string): string[] => {
  const out: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < s.length; i++) {
    if (escaped) escaped = false;
    else if (s[i] === "\\") escaped = true;
    else if (s[i] === ",") {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
};

/** The first operator in the term: at each position `!=`, then `==`, then `=`. */
const splitTerm = (term: string): { lhs: string; op: "=" | "!="; rhs: string } | null => {
  for (let i = 0; i < term.length; i++) {
    for (const op of ["!=", "==", "="] as const) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op: op === "!=" ? "!=" : "=", rhs: term.slice(i + op.length) };
    }
  }
  return null;
};

/** Undo the escaping of a value; unescaped `,`/`=` and unknown escapes are errors. */
export const unescapeFieldValue = (v: string): string => {
  let out = "";
  let escaped = false;
  for (const c of v) {
    if (escaped) {
      if (c !== "\\" && c !== "," && c !== "=") throw badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      escaped = false;
    } else if (c === "\\") escaped = true;
    else if (c === "," || c === "=") throw badRequest(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    else out += c;
  }
  if (escaped) throw badRequest("invalid field selector: invalid escape sequence: \\");
  return out;
};

/** Escape a literal value for use in a field selector. */
export const escapeFieldValue = (v: string): string => v.replace(/[\\,=]/g, (c) => `\\${c}`);

/** Parse a field selector; throws 400 BadRequest on terms it cannot split or bad escapes. */
export const parseFieldSelector = (selector: string): FieldRequirement[] => {
  if (selector === "") return [];
  const terms = splitTerms(selector).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: FieldRequirement[] = [];
  for (const term of terms) {
    if (term === "") continue;
    const t = splitTerm(term);
    if (!t || t.lhs === "") throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    out.push({ field: t.lhs, op: t.op, value: unescapeFieldValue(t.rhs) });
  }
  return out;
};

/** The canonical string of requirements (values escaped), in the given order. */
export const formatFieldSelector = (reqs: FieldRequirement[]): string => reqs.map((r) => `${r.field}${r.op}${escapeFieldValue(r.value)}`).join(",");

const own = (o: object, k: string) => Object.hasOwn(o, k);

/**
 * A field's value as the string field selectors compare against: "" when missing or
 * null, "true"/"false" for booleans, numbers stringified, objects as JSON text. The
 * path is dotted object keys (no array indices), as the store's SQL reads it.
 */
export const fieldValue = (obj: unknown, field: string): string => {
  let cur: unknown = obj;
  for (const part of field.split(".")) {
    if (cur === null || typeof cur !== "object" || Array.isArray(cur) || !own(cur, part)) return "";
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return "";
  if (typeof cur === "string") return cur;
  if (typeof cur === "boolean") return cur ? "true" : "false";
  if (typeof cur === "number" || typeof cur === "bigint") return String(cur);
  return JSON.stringify(cur);
};

/** Does `obj` satisfy every requirement? */
export const matchFields = (reqs: FieldRequirement[], obj: unknown): boolean => reqs.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === "="));
