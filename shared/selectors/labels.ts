/**
 * Label selectors with Kubernetes semantics: the string syntax of `?labelSelector=`
 * (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`), the LabelSelector
 * objects of workloads (matchLabels + matchExpressions), and the map selectors of
 * Services and ReplicationControllers.
 */
import { badRequest } from "../status";

export type LabelOp = "=" | "!=" | "in" | "notin" | "exists" | "!exists";

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a valid label key (qualified name), or null. */
export const labelKeyError = (key: string): string | null => {
  const slash = key.lastIndexOf("/");
  const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : ["", key];
  if (slash >= 0 && (!prefix || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  if (!name) return "name part must be non-empty";
  if (name.length > 63) return "name part must be no more than 63 characters";
  if (!NAME.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  }
  return null;
};

/** Why `value` is not a valid label value, or null. */
export const labelValueError = (value: string): string | null => {
  if (value === "") return null;
  if (value.length > 63) return "must be no more than 63 characters";
  if (!NAME.test(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  }
  return null;
};

const fail = (selector: string, why: string) => badRequest(`unable to parse requirement: ${why} (in label selector "${selector}")`);

// ---- lexer: identifiers, operators and punctuation, as labels.Parse tokenizes

type Tok = { t: "id" | "op" | "(" | ")" | "," | "!" | "end"; v: string };

const lex = (s: string): Tok[] => {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(" || c === ")" || c === ",") {
      out.push({ t: c, v: c });
      i++;
    } else if (s.startsWith("==", i) || s.startsWith("!=", i)) {
      out.push({ t: "op", v: s.slice(i, i + 2) });
      i += 2;
    } else if (c === "=") {
      out.push({ t: "op", v: "=" });
      i++;
    } else if (c === "!") {
      out.push({ t: "!", v: "!" });
      i++;
    } else {
      let j = i;
      while (j < s.length && !/[\s(),=!]/.test(s[j])) j++;
      out.push({ t: "id", v: s.slice(i, j) });
      i = j;
    }
  }
  out.push({ t: "end", v: "" });
  return out;
};

/** Parse a label selector string; throws 400 BadRequest on bad syntax or invalid keys/values. */
export const parseLabelSelector = (selector: string): LabelRequirement[] => {
  const toks = lex(selector);
  let p = 0;
  const reqs: LabelRequirement[] = [];
  const checkKey = (k: string) => {
    const e = labelKeyError(k);
    if (e) throw fail(selector, `invalid label key "${k}": ${e}`);
  };
  const checkValue = (v: string) => {
    const e = labelValueError(v);
    if (e) throw fail(selector, `invalid label value: "${v}": at key: ${reqs.length}: ${e}`);
  };
  if (toks[0].t === "end") return [];
  for (;;) {
    let tok = toks[p++];
    if (tok.t === "!") {
      const k = toks[p++];
      if (k.t !== "id") throw fail(selector, `found '${k.v}', expected: identifier`);
      checkKey(k.v);
      reqs.push({ key: k.v, op: "!exists", values: [] });
    } else if (tok.t === "id") {
      const key = tok.v;
      checkKey(key);
      const next = toks[p];
      if (next.t === "," || next.t === "end") {
        reqs.push({ key, op: "exists", values: [] });
      } else if (next.t === "op") {
        p++;
        const v = toks[p];
        let value = "";
        if (v.t === "id") {
          value = v.v;
          p++;
        } else if (v.t !== "," && v.t !== "end") throw fail(selector, `found '${v.v}', expected: identifier`);
        checkValue(value);
        reqs.push({ key, op: next.v === "!=" ? "!=" : "=", values: [value] });
      } else if (next.t === "id" && (next.v === "in" || next.v === "notin")) {
        p++;
        if (toks[p++].t !== "(") throw fail(selector, `found '${toks[p - 1].v}', expected: '('`);
        const values: string[] = [];
        let expectValue = true;
        let sawComma = false;
        for (;;) {
          const v = toks[p++];
          if (v.t === "id" && expectValue) {
            checkValue(v.v);
            values.push(v.v);
            expectValue = false;
          } else if (v.t === ",") {
            if (expectValue) values.push("");
            expectValue = true;
            sawComma = true;
          } else if (v.t === ")") {
            if (expectValue && sawComma) values.push("");
            break;
          } else throw fail(selector, `found '${v.v}', expected: ',', ')' or identifier`);
        }
        if (!values.length) throw fail(selector, "for 'in', 'notin' operators, values set can't be empty");
        reqs.push({ key, op: next.v as "in" | "notin", values: [...new Set(values)].sort() });
      } else {
        throw fail(selector, `found '${next.v}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    } else {
      throw fail(selector, `found '${tok.v}', expected: !, identifier, or 'end of string'`);
    }
    tok = toks[p++];
    if (tok.t === "end") break;
    if (tok.t !== ",") throw fail(selector, `found '${tok.v}', expected: ',' or 'end of string'`);
  }
  return reqs;
};

/** Do `labels` satisfy every requirement? (`!=` and `notin` also match a missing label.) */
export const matchLabels = (reqs: LabelRequirement[], labels: Record<string, string> | undefined): boolean => {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case "=":
        if (!has || v !== r.values[0]) return false;
        break;
      case "!=":
        if (has && v === r.values[0]) return false;
        break;
      case "in":
        if (!has || !r.values.includes(v)) return false;
        break;
      case "notin":
        if (has && r.values.includes(v)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!exists":
        if (has) return false;
        break;
    }
  }
  return true;
};

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/**
 * Requirements of a LabelSelector object: null for a nil selector (selects nothing),
 * [] for `{}` (selects everything).
 */
export const selectorFromLabelSelector = (sel: LabelSelectorObject | null | undefined): LabelRequirement[] | null => {
  if (sel === null || sel === undefined || typeof sel !== "object") return null;
  const reqs: LabelRequirement[] = [];
  for (const [key, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key, op: "=", values: [String(v)] });
  for (const e of sel.matchExpressions ?? []) {
    const values = [...new Set((e.values ?? []).map(String))].sort();
    switch (e.operator) {
      case "In":
        reqs.push({ key: e.key, op: "in", values });
        break;
      case "NotIn":
        reqs.push({ key: e.key, op: "notin", values });
        break;
      case "Exists":
        reqs.push({ key: e.key, op: "exists", values: [] });
        break;
      case "DoesNotExist":
        reqs.push({ key: e.key, op: "!exists", values: [] });
        break;
      default:
        throw badRequest(`"${e.operator}" is not a valid label selector operator`);
    }
  }
  return reqs;
};

/** Requirements of a map selector (Service, ReplicationController): null when empty (selects nothing). */
export const selectorFromMap = (m: Record<string, string> | null | undefined): LabelRequirement[] | null => {
  if (!m || typeof m !== "object" || Object.keys(m).length === 0) return null;
  return Object.entries(m).map(([key, v]) => ({ key, op: "=" as const, values: [String(v)] }));
};

const formatOne = (r: LabelRequirement): string => {
  switch (r.op) {
    case "=":
      return `${r.key}=${r.values[0]}`;
    case "!=":
      return `${r.key}!=${r.values[0]}`;
    case "in":
      return `${r.key} in (${r.values.join(",")})`;
    case "notin":
      return `${r.key} notin (${r.values.join(",")})`;
    case "exists":
      return r.key;
    case "!exists":
      return `!${r.key}`;
  }
};

/** The canonical string form (sorted by key), as Kubernetes prints selectors. */
export const formatLabelSelector = (reqs: LabelRequirement[]): string =>
  [...reqs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(formatOne).join(",");

/** A LabelSelector object as a `labelSelector` query string; null when it selects nothing. */
export const labelSelectorAsString = (sel: LabelSelectorObject | null | undefined): string | null => {
  const reqs = selectorFromLabelSelector(sel);
  return reqs === null ? null : formatLabelSelector(reqs);
};
