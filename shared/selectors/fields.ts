/**
 * Field selectors (`?fieldSelector=`): `a=b`, `a==b`, `a!=b`, comma-separated, with
 * backslash escapes for `,` `=` `!` and `\` in values, as Kubernetes parses them.
 */
import { badRequest } from "../status";

export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

/** Split on unescaped commas. */
const splitTerms = (s: string): string[] => {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && i + 1 < s.length) {
      cur += s[i] + s[i + 1];
      i++;
    } else if (s[i] === ",") {
      out.push(cur);
      cur = "";
    } else cur += s[i];
  }
  out.push(cur);
  return out;
};

const unescape = (v: string, selector: string): string => {
  let out = "";
  for (let i = 0; i < v.length; i++) {
    if (v[i] === "\\") {
      const n = v[i + 1];
      if (n === undefined || !"\\,=!".includes(n)) throw badRequest(`invalid field selector: invalid escape sequence in "${selector}"`);
      out += n;
      i++;
    } else if (v[i] === "," || v[i] === "=") {
      throw badRequest(`invalid field selector: unescaped "${v[i]}" in value of "${selector}"`);
    } else out += v[i];
  }
  return out;
};

export const parseFieldSelector = (selector: string): FieldRequirement[] => {
  if (selector.trim() === "") return [];
  return splitTerms(selector).map((term) => {
    const m = /^([^=!]+?)\s*(==|!=|=)(.*)$/s.exec(term.trim());
    if (!m || !m[1].trim()) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    return { field: m[1].trim(), op: m[2] === "!=" ? "!=" : "=", value: unescape(m[3], selector) };
  });
};

/** A field's value as the string field selectors compare against ("" when missing). */
export const fieldValue = (obj: unknown, field: string): string => {
  let cur: any = obj;
  for (const part of field.split(".")) {
    if (cur === null || typeof cur !== "object") return "";
    cur = cur[part];
  }
  if (cur === undefined || cur === null) return "";
  if (typeof cur === "object") return JSON.stringify(cur);
  return String(cur);
};

export const matchFields = (reqs: FieldRequirement[], obj: unknown): boolean =>
  reqs.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === "="));
