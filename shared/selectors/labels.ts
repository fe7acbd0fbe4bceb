/**
 * Label selectors with Kubernetes semantics:
 *
 * - the string syntax of `?labelSelector=` (`a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 *   `a notin (x)`, `a`, `!a`, comma-separated), parsed the way apimachinery's
 *   `labels.Parse` tokenizes and reports errors;
 * - the LabelSelector objects of workloads (matchLabels + matchExpressions);
 * - the map selectors of Services and ReplicationControllers.
 *
 * Requirements come back sorted by key, as `labels.Parse` returns them.
 */
import { badRequest } from "../status";

export type LabelOp = "=" | "!=" | "in" | "notin" | "exists" | "!exists";

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  /** one value for `=`/`!=`; a sorted, de-duplicated set for `in`/`notin`; none for `exists`/`!exists` */
  values: string[];
}

// ---- Kubernetes label key and value rules (validation.IsQualifiedName, IsValidLabelValue)

const NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/** Every reason `key` is not a qualified name (`[prefix/]name`), as Kubernetes words them. */
export const labelKeyErrors = (key: string): string[] => {
  const parts = key.split("/");
  let name: string;
  const errs: string[] = [];
  if (parts.length === 1) {
    name = parts[0];
  } else if (parts.length === 2) {
    const prefix = parts[0];
    name = parts[1];
    if (prefix.length === 0) errs.push("prefix part must be non-empty");
    else {
      if (prefix.length > 253) errs.push("prefix part must be no more than 253 characters");
      if (!DNS1123_SUBDOMAIN_RE.test(prefix)) errs.push(`prefix part ${DNS1123_SUBDOMAIN_MSG}`);
    }
  } else {
    return [`a qualified name ${QUALIFIED_NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errs.push("name part must be non-empty");
  else {
    if (name.length > 63) errs.push("name part must be no more than 63 characters");
    if (!NAME_RE.test(name)) errs.push(`name part ${QUALIFIED_NAME_MSG}`);
  }
  return errs;
};

/** Every reason `value` is not a valid label value. */
export const labelValueErrors = (value: string): string[] => {
  const errs: string[] = [];
  if (value.length > 63) errs.push("must be no more than 63 characters");
  if (value !== "" && !NAME_RE.test(value)) errs.push(LABEL_VALUE_MSG);
  return errs;
};

/** Why `key` is not a valid label key (qualified name), or null. */
export const labelKeyError = (key: string): string | null => {
  const errs = labelKeyErrors(key);
  return errs.length ? errs.join("; ") : null;
};

/** Why `value` is not a valid label value, or null. */
export const labelValueError = (value: string): string | null => {
  const errs = labelValueErrors(value);
  return errs.length ? errs.join("; ") : null;
};

// ---- errors worded as apimachinery's field errors

const quoteGo = (s: string) => JSON.stringify(s);

const invalidKey = (key: string) => `<nil>: Invalid value: ${quoteGo(key)}: ${labelKeyErrors(key).join("; ")}`;

/** The field errors of a requirement's values, or null when they are all valid. */
const valuesError = (key: string, values: string[]): string | null => {
  const errs: string[] = [];
  values.forEach((v, i) => {
    const e = labelValueErrors(v);
    if (e.length) errs.push(`values[${i}][${key}]: Invalid value: ${quoteGo(v)}: ${e.join("; ")}`);
  });
  if (errs.length === 0) return null;
  return errs.length === 1 ? errs[0] : `[${errs.join(", ")}]`;
};

const EMPTY_SET_ERROR = "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty";

// ---- lexer: the tokens of labels.Lexer

type TokKind = "id" | "in" | "notin" | "=" | "==" | "!=" | "!" | "(" | ")" | "," | ">" | "<" | "end";
interface Tok {
  kind: TokKind;
  lit: string;
}

const SPECIAL = new Set(["=", "!", "(", ")", ",", ">", "<"]);
const isSpace = (c: string) => c === " " || c === "\t" || c === "\r" || c === "\n";

const lex = (s: string): Tok[] => {
  const out: Tok[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && isSpace(s[i])) i++;
    if (i >= s.length) {
      out.push({ kind: "end", lit: "" });
      return out;
    }
    if (SPECIAL.has(s[i])) {
      // the longest operator: "==" and "!=" are the only two-character ones
      const two = s.slice(i, i + 2);
      if (two === "==" || two === "!=") {
        out.push({ kind: two, lit: two });
        i += 2;
      } else {
        out.push({ kind: s[i] as TokKind, lit: s[i] });
        i++;
      }
      continue;
    }
    let j = i;
    while (j < s.length && !SPECIAL.has(s[j]) && !isSpace(s[j])) j++;
    const word = s.slice(i, j);
    out.push({ kind: word === "in" ? "in" : word === "notin" ? "notin" : "id", lit: word });
    i = j;
  }
};

class SelectorParser {
  private pos = 0;
  private readonly toks: Tok[];

  constructor(selector: string) {
    this.toks = lex(selector);
  }

  /** Where values are expected, the keywords `in`/`notin` are plain identifiers. */
  private peek(values: boolean): Tok {
    const t = this.toks[this.pos];
    return values && (t.kind === "in" || t.kind === "notin") ? { kind: "id", lit: t.lit } : t;
  }

  private next(values: boolean): Tok {
    const t = this.peek(values);
    this.pos++;
    return t;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const t = this.peek(true);
      if (t.kind === "end") return reqs;
      if (t.kind !== "id" && t.kind !== "!") throw badRequest(`found '${t.lit}', expected: !, identifier, or 'end of string'`);
      reqs.push(this.requirement());
      const after = this.next(true);
      if (after.kind === "end") return reqs;
      if (after.kind !== ",") throw badRequest(`found '${after.lit}', expected: ',' or 'end of string'`);
      const t2 = this.peek(true);
      if (t2.kind !== "id" && t2.kind !== "!") throw badRequest(`found '${t2.lit}', expected: identifier after ','`);
    }
  }

  private requirement(): LabelRequirement {
    try {
      return this.requirementInner();
    } catch (e) {
      if (e instanceof RequirementError) throw badRequest(`unable to parse requirement: ${e.message}`);
      throw e;
    }
  }

  private requirementInner(): LabelRequirement {
    let t = this.next(true);
    const negated = t.kind === "!";
    if (negated) t = this.next(true);
    if (t.kind !== "id") throw new RequirementError(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    if (labelKeyErrors(key).length) throw new RequirementError(invalidKey(key));
    const la = this.peek(true);
    if (negated) return { key, op: "!exists", values: [] };
    if (la.kind === "end" || la.kind === ",") return { key, op: "exists", values: [] };

    const opTok = this.next(false);
    let op: LabelOp;
    switch (opTok.kind) {
      case "=":
      case "==":
        op = "=";
        break;
      case "!=":
        op = "!=";
        break;
      case "in":
      case "notin":
        op = opTok.kind;
        break;
      default:
        // `>` and `<` (Gt/Lt) are not among the operators this server's selectors support
        throw new RequirementError(`found '${opTok.lit}', expected: in, notin, =, ==, !=`);
    }
    const values = op === "in" || op === "notin" ? this.setValues() : [this.exactValue()];
    const err = valuesError(key, values);
    if (err) throw new RequirementError(err);
    return { key, op, values };
  }

  private exactValue(): string {
    const la = this.peek(true);
    if (la.kind === "end" || la.kind === ",") return "";
    const t = this.next(true);
    if (t.kind !== "id") throw new RequirementError(`found '${t.lit}', expected: identifier`);
    return t.lit;
  }

  /** `( v1, v2, ... )`; empty members (`(a,,b)`, `(,a)`, `(a,)`) are the empty value. */
  private setValues(): string[] {
    const open = this.next(true);
    if (open.kind !== "(") throw new RequirementError(`found '${open.lit}' expected: '('`);
    const first = this.peek(true);
    if (first.kind === ")") throw new RequirementError(EMPTY_SET_ERROR);
    if (first.kind !== "id" && first.kind !== ",") throw new RequirementError(`found '${first.lit}', expected: ',', ')' or identifier`);
    const set = new Set<string>();
    for (;;) {
      const t = this.next(true);
      if (t.kind === "id") {
        set.add(t.lit);
        const la = this.peek(true);
        if (la.kind === ",") continue;
        if (la.kind === ")") break;
        throw new RequirementError(`found '${la.lit}', expected: ',' or ')'`);
      } else if (t.kind === ",") {
        if (set.size === 0) set.add("");
        const la = this.peek(true);
        if (la.kind === ")") {
          set.add("");
          break;
        }
        if (la.kind === ",") {
          this.next(true);
          set.add("");
        }
      } else {
        throw new RequirementError(`found '${t.lit}', expected: ',', or identifier`);
      }
    }
    const close = this.next(true);
    if (close.kind !== ")") throw new RequirementError(`found '${close.lit}', expected: ')'`);
    return [...set].sort(compareStrings);
  }
}

class RequirementError extends Error {}

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byKey = (a: LabelRequirement, b: LabelRequirement) => compareStrings(a.key, b.key);

/**
 * Parse a label selector string (`?labelSelector=`). Throws a 400 BadRequest worded as
 * kube-apiserver words it on bad syntax or invalid keys/values. `a in ()` is rejected
 * (an empty value set). Requirements are returned sorted by key.
 */
export const parseLabelSelector = (selector: string): LabelRequirement[] => new SelectorParser(selector).parse().sort(byKey);

/** Do `labels` satisfy every requirement? (`!=` and `notin` also match a missing label.) */
export const matchLabels = (reqs: LabelRequirement[], labels: Record<string, string> | undefined | null): boolean => {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.hasOwn(l, r.key);
    const v = has ? l[r.key] : undefined;
    switch (r.op) {
      case "=":
      case "in":
        if (!has || !r.values.includes(v as string)) return false;
        break;
      case "!=":
      case "notin":
        if (has && r.values.includes(v as string)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!exists":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
};

export interface LabelSelectorRequirementObject {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | string;
  values?: string[];
}

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirementObject[];
}

/**
 * The requirements of a LabelSelector object (metav1.LabelSelectorAsSelector): null for
 * a nil selector (selects nothing), [] for `{}` (selects everything). Throws 400 on an
 * unknown operator. Keys and values are not checked here (object validation does that
 * when the selector is written), so controllers reading stored objects never trip on
 * them: an `In` with no values simply matches nothing.
 */
export const selectorFromLabelSelector = (sel: LabelSelectorObject | null | undefined): LabelRequirement[] | null => {
  if (sel === null || sel === undefined || typeof sel !== "object") return null;
  const reqs: LabelRequirement[] = [];
  for (const [key, v] of Object.entries(sel.matchLabels ?? {})) {
    reqs.push({ key, op: "=", values: [String(v)] });
  }
  for (const e of sel.matchExpressions ?? []) {
    const values = [...new Set((e.values ?? []).map(String))].sort(compareStrings);
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
        throw badRequest(`${quoteGo(String(e.operator))} is not a valid label selector operator`);
    }
  }
  return reqs.sort(byKey);
};

/**
 * The requirements of a map selector (Service, ReplicationController). A nil or empty
 * map selects nothing here (a Service without a selector gets no endpoints): null.
 */
export const selectorFromMap = (m: Record<string, string> | null | undefined): LabelRequirement[] | null => {
  if (!m || typeof m !== "object" || Object.keys(m).length === 0) return null;
  return Object.entries(m)
    .map(([key, v]) => ({ key, op: "=" as const, values: [String(v)] }))
    .sort(byKey);
};

const formatOne = (r: LabelRequirement): string => {
  const values = [...r.values].sort(compareStrings).join(",");
  switch (r.op) {
    case "=":
      return `${r.key}=${r.values[0] ?? ""}`;
    case "!=":
      return `${r.key}!=${r.values[0] ?? ""}`;
    case "in":
      return `${r.key} in (${values})`;
    case "notin":
      return `${r.key} notin (${values})`;
    case "exists":
      return r.key;
    case "!exists":
      return `!${r.key}`;
    default:
      throw new Error(`unknown label operator ${(r as LabelRequirement).op}`);
  }
};

/** The canonical string form, as labels.Selector.String() prints it: sorted by key, set values sorted. */
export const formatLabelSelector = (reqs: LabelRequirement[]): string => [...reqs].sort(byKey).map(formatOne).join(",");

/** A LabelSelector object as a `labelSelector` query string; null when it selects nothing. */
export const labelSelectorAsString = (sel: LabelSelectorObject | null | undefined): string | null => {
  const reqs = selectorFromLabelSelector(sel);
  return reqs === null ? null : formatLabelSelector(reqs);
};
