/**
 * The query parameters (and DeleteOptions bodies) of REST calls, decoded and checked
 * the way kube-apiserver's handlers do it:
 *
 * - decoding (a parameter that is not an integer, a boolean or a time) fails with 400
 *   BadRequest, as the parameter codec does;
 * - the options are then validated as k8s.io/apimachinery's ValidateCreateOptions,
 *   ValidateUpdateOptions, ValidatePatchOptions, ValidateDeleteOptions and (internal
 *   version) ValidateListOptions do, and refused with 422 Invalid naming the options
 *   kind: `PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be
 *   specified for non-apply patch`.
 *
 * Pure apart from the ApiErrors it throws; the HTTP layer hands it the URL's query.
 */
import { badRequest, invalid } from "../../shared/status";
import { Causes } from "../../shared/validation/causes";
import type { DeleteOptions, FieldValidation, ListQuery, PatchType } from "../registry/registry";

/** The query of a request (URLSearchParams fits). */
export interface Query {
  get(name: string): string | null;
  getAll(name: string): string[];
  has(name: string): boolean;
}

const META_GROUP = "meta.k8s.io";

const refuse = (kind: string, c: Causes) => {
  if (c.list.length) throw invalid(kind, META_GROUP, "", c.list);
};

// ---------------------------------------------------------------- decoding single parameters (400)

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** An integer query parameter: an int64, as kube-apiserver's parameter decoding wants (400 otherwise). */
export const intParam = (v: string | null | undefined, name: string): number | undefined => {
  if (v === undefined || v === null || v === "") return undefined;
  if (!/^[-+]?\d+$/.test(v)) throw badRequest(`invalid value for ${name}: "${v}": must be an integer`);
  if (v.length > 25 || BigInt(v) < INT64_MIN || BigInt(v) > INT64_MAX)
    throw badRequest(`invalid value for ${name}: "${v}": value out of range (must be a 64-bit integer)`);
  return Number(v);
};

/**
 * A boolean query parameter, as kube-apiserver's parameter codec converts it
 * (runtime.Convert_Slice_string_To_bool): absent, "0" and "false" in any case are false,
 * anything else is true, the empty value (`?watch`) and Python's `True` included. It
 * never refuses a value.
 */
export const boolParam = (v: string | null | undefined, _name: string): boolean => {
  if (v === undefined || v === null) return false;
  return !(v === "0" || v.toLowerCase() === "false");
};

/** RFC 3339 date-time, as metav1.Time parses it. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** A time query parameter (RFC 3339), in the UTC form stored times compare with (400 otherwise). */
export const timeParam = (v: string | null | undefined, name: string): string | undefined => {
  if (v === undefined || v === null || v === "") return undefined;
  const ms = RFC3339.test(v) ? Date.parse(v.toUpperCase()) : Number.NaN;
  if (!Number.isFinite(ms))
    throw badRequest(`invalid value for ${name}: parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00": not an RFC 3339 time`);
  return new Date(ms).toISOString();
};

const UINT64_MAX = 2n ** 64n - 1n;

/**
 * A resourceVersion as the storage parses it (strconv.ParseUint): "" and "0" mean "any";
 * anything else that is not a decimal uint64 is a 400, worded as kube-apiserver's.
 */
export const checkResourceVersion = (rv: string | undefined): void => {
  if (rv === undefined || rv === "" || rv === "0") return;
  const why = !/^\d+$/.test(rv) ? "invalid syntax" : rv.length > 20 || BigInt(rv) > UINT64_MAX ? "value out of range" : "";
  if (why) {
    const shown = rv.length > 64 ? `${rv.slice(0, 64)}...` : rv;
    throw badRequest(
      `invalid resource version: resourceVersion: Invalid value: ${JSON.stringify(shown)}: strconv.ParseUint: parsing ${JSON.stringify(shown)}: ${why}`,
    );
  }
};

// ---------------------------------------------------------------- the options every write takes

/** dryRun: only "All" (ValidateDryRun). */
const checkDryRun = (c: Causes, values: readonly string[]) => {
  if (values.some((v) => v !== "All")) c.notSupported("dryRun", [...values], ["All"]);
};

/** The longest fieldManager kube-apiserver takes (FieldManagerMaxLength). */
export const FIELD_MANAGER_MAX_LENGTH = 128;

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** U+0001, as Go's %#U prints a character that is not printable. */
const codePoint = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;

/** fieldManager: at most 128 bytes, printable characters only (ValidateFieldManager). */
const checkFieldManager = (c: Causes, v: string) => {
  const bytes = new TextEncoder().encode(v).byteLength;
  if (bytes > FIELD_MANAGER_MAX_LENGTH) c.tooLong("fieldManager", FIELD_MANAGER_MAX_LENGTH);
  let pos = 0;
  for (const ch of v) {
    if (!PRINTABLE.test(ch)) {
      // the value is not echoed when it is long: the error names the character and where it is
      const shown = bytes > FIELD_MANAGER_MAX_LENGTH ? `${v.slice(0, FIELD_MANAGER_MAX_LENGTH)}...` : v;
      c.invalid("fieldManager", shown, `invalid character ${codePoint(ch)} (at position ${pos})`);
    }
    pos += new TextEncoder().encode(ch).byteLength;
  }
};

const FIELD_VALIDATION: readonly FieldValidation[] = ["Ignore", "Strict", "Warn"];

/** fieldValidation: "", Ignore, Warn or Strict (ValidateFieldValidation). */
const checkFieldValidation = (c: Causes, v: string): FieldValidation | undefined => {
  if (v === "") return undefined;
  if ((FIELD_VALIDATION as readonly string[]).includes(v)) return v as FieldValidation;
  c.notSupported("fieldValidation", v, ["", ...FIELD_VALIDATION]);
  return undefined;
};

export interface WriteParams {
  dryRun: boolean;
  fieldValidation?: FieldValidation;
  fieldManager?: string;
  /** server-side apply only */
  force?: boolean;
}

/**
 * The options of a create (POST), update (PUT) or patch (PATCH of `patchType`):
 * CreateOptions, UpdateOptions or PatchOptions, validated as kube-apiserver does
 * (422 naming the options kind). Server-side apply needs a fieldManager; force is for
 * apply only.
 */
export const writeOptions = (q: Query, verb: "create" | "update" | "patch", patchType?: PatchType): WriteParams => {
  const kind = verb === "create" ? "CreateOptions" : verb === "update" ? "UpdateOptions" : "PatchOptions";
  const forceSet = verb === "patch" && q.has("force");
  // decoding first (400), as the parameter codec does before validation
  const force = forceSet ? boolParam(q.get("force"), "force") : undefined;
  const c = new Causes();
  const fieldManager = q.get("fieldManager") ?? "";
  if (verb === "patch") {
    if (patchType === "apply") {
      // kubectl sends fieldManager=kubectl; controllers must name themselves
      if (fieldManager === "") c.required("fieldManager", "is required for apply patch");
    } else if (forceSet) c.forbidden("force", "may not be specified for non-apply patch");
  }
  checkFieldManager(c, fieldManager);
  const dryRun = q.getAll("dryRun");
  checkDryRun(c, dryRun);
  const fieldValidation = checkFieldValidation(c, q.get("fieldValidation") ?? "");
  refuse(kind, c);
  return { dryRun: dryRun.length > 0, fieldValidation, fieldManager: fieldManager || undefined, force: patchType === "apply" ? !!force : undefined };
};

// ---------------------------------------------------------------- list and watch

export interface ReadParams {
  watch: boolean;
  query: ListQuery;
  allowWatchBookmarks: boolean;
  timeoutSeconds?: number;
}

/**
 * ListOptions of a list, watch or deletecollection: decoded (400), then validated as
 * ValidateListOptions does (422 ListOptions). This server has no WatchList feature:
 * sendInitialEvents is refused on a watch as on a list.
 */
export const listOptions = (q: Query, opts: { collectionDelete?: boolean } = {}): ReadParams => {
  const watch = !opts.collectionDelete && boolParam(q.get("watch"), "watch");
  const limit = intParam(q.get("limit"), "limit");
  const timeoutSeconds = intParam(q.get("timeoutSeconds"), "timeoutSeconds");
  const allowWatchBookmarks = boolParam(q.get("allowWatchBookmarks"), "allowWatchBookmarks");
  const sendInitialEvents = q.has("sendInitialEvents") ? boolParam(q.get("sendInitialEvents"), "sendInitialEvents") : undefined;
  const resourceVersion = q.get("resourceVersion") ?? undefined;
  const match = q.get("resourceVersionMatch") ?? "";
  const cont = q.get("continue") ?? "";
  const c = new Causes();
  if (watch) {
    if (sendInitialEvents !== undefined) {
      if (match !== "NotOlderThan") c.forbidden("resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
      c.forbidden("sendInitialEvents", "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled");
    }
    if (match) {
      if (sendInitialEvents === undefined)
        c.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided");
      if (match !== "NotOlderThan") c.notSupported("resourceVersionMatch", match, ["NotOlderThan"]);
      if (cont) c.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided");
    }
  } else {
    if (match) {
      if (!resourceVersion) c.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided");
      if (cont) c.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided");
      if (match !== "Exact" && match !== "NotOlderThan") c.notSupported("resourceVersionMatch", match, ["Exact", "NotOlderThan", ""]);
      if (match === "Exact" && resourceVersion === "0")
        c.forbidden("resourceVersionMatch", 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
    }
    if (sendInitialEvents !== undefined) c.forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list");
  }
  refuse("ListOptions", c);
  // then the storage's own check of the version (400)
  checkResourceVersion(resourceVersion);
  return {
    watch,
    allowWatchBookmarks,
    timeoutSeconds,
    query: {
      labelSelector: q.get("labelSelector") ?? undefined,
      fieldSelector: q.get("fieldSelector") ?? undefined,
      limit,
      continue: cont || undefined,
      resourceVersion,
      resourceVersionMatch: match || undefined,
    },
  };
};

// ---------------------------------------------------------------- DeleteOptions

type Json = Record<string, unknown>;

const jsonTypeOf = (v: unknown) => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v === "object" ? "object" : typeof v);

/** The JSON types of DeleteOptions fields (Go's decoder refuses others: 400). */
const checkDeleteOptionsTypes = (body: Json) => {
  const wrong = (field: string, type: string, v: unknown) =>
    badRequest(`unable to decode DeleteOptions: json: cannot unmarshal ${jsonTypeOf(v)} into field DeleteOptions.${field} of type ${type}`);
  const { apiVersion, kind, dryRun, gracePeriodSeconds, propagationPolicy, orphanDependents, preconditions } = body;
  if (apiVersion != null && typeof apiVersion !== "string") throw wrong("apiVersion", "string", apiVersion);
  if (kind != null && typeof kind !== "string") throw wrong("kind", "string", kind);
  if (kind != null && kind !== "" && kind !== "DeleteOptions") throw badRequest(`the kind of the request body (${String(kind)}) must be DeleteOptions`);
  if (dryRun != null && !(Array.isArray(dryRun) && dryRun.every((d) => typeof d === "string"))) throw wrong("dryRun", "[]string", dryRun);
  if (gracePeriodSeconds != null && !Number.isInteger(gracePeriodSeconds)) throw wrong("gracePeriodSeconds", "int64", gracePeriodSeconds);
  if (propagationPolicy != null && typeof propagationPolicy !== "string") throw wrong("propagationPolicy", "string", propagationPolicy);
  if (orphanDependents != null && typeof orphanDependents !== "boolean") throw wrong("orphanDependents", "bool", orphanDependents);
  if (preconditions != null) {
    if (typeof preconditions !== "object" || Array.isArray(preconditions)) throw wrong("preconditions", "v1.Preconditions", preconditions);
    const p = preconditions as Json;
    if (p.uid != null && typeof p.uid !== "string") throw wrong("preconditions.uid", "types.UID", p.uid);
    if (p.resourceVersion != null && typeof p.resourceVersion !== "string") throw wrong("preconditions.resourceVersion", "string", p.resourceVersion);
  }
};

const POLICIES = ["Foreground", "Background", "Orphan"] as const;

/**
 * DeleteOptions from the body (kubectl) and/or the query string (curl): each decoded
 * (400 for a body that is not an object or has fields of the wrong types, or a query
 * parameter that does not parse), then validated as ValidateDeleteOptions does (422):
 * dryRun only "All", a known propagationPolicy, not orphanDependents with it.
 * `body` is the decoded body, undefined when there was none.
 */
export const deleteOptions = (q: Query, body: unknown): DeleteOptions => {
  let b: Json = {};
  if (body !== undefined) {
    if (!body || typeof body !== "object" || Array.isArray(body))
      throw badRequest(`unable to decode DeleteOptions: json: cannot unmarshal ${jsonTypeOf(body)} into Go value of type v1.DeleteOptions`);
    b = body as Json;
    checkDeleteOptionsTypes(b);
  }
  const queryGrace = intParam(q.get("gracePeriodSeconds"), "gracePeriodSeconds");
  const queryOrphan = q.has("orphanDependents") ? boolParam(q.get("orphanDependents"), "orphanDependents") : undefined;
  const policy = (q.get("propagationPolicy") ?? (b.propagationPolicy as string | undefined)) || undefined;
  const orphan = queryOrphan ?? (b.orphanDependents as boolean | undefined);
  const grace = queryGrace ?? (b.gracePeriodSeconds as number | undefined);
  const dryRun = [...q.getAll("dryRun"), ...((b.dryRun as string[] | undefined) ?? [])];
  const c = new Causes();
  if (orphan !== undefined && policy !== undefined) c.invalid("propagationPolicy", policy, "orphanDependents and deletionPropagation cannot be both set");
  if (policy !== undefined && !(POLICIES as readonly string[]).includes(policy)) c.notSupported("propagationPolicy", policy, [...POLICIES, "nil"]);
  checkDryRun(c, dryRun);
  refuse("DeleteOptions", c);
  if (grace !== undefined && grace < 0) throw badRequest("gracePeriodSeconds must be a non-negative integer");
  return {
    propagationPolicy: policy as DeleteOptions["propagationPolicy"],
    gracePeriodSeconds: grace,
    preconditions: b.preconditions as DeleteOptions["preconditions"],
    dryRun: dryRun.length > 0,
    orphanDependents: orphan === true,
  };
};
