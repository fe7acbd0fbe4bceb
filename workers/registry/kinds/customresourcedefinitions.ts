/**
 * CustomResourceDefinitions (apiextensions.k8s.io/v1), as apiextensions-apiserver's
 * strategy and its naming controller: status (acceptedNames, the NamesAccepted and
 * Established conditions, storedVersions) is set when the CRD is written, so a CRD is
 * served as soon as its create returns; a DELETE sets the Terminating condition and the
 * customresourcecleanup finalizer, and the CRD controller (workers/controllers/crd.ts)
 * deletes the instances and then the finalizer. The served kinds themselves are
 * workers/registry/crd's.
 */
import type { StatusCause } from "../../../shared/status";
import type { KObject } from "../../../shared/types";
import { Causes } from "../../../shared/validation/causes";
import { isStaticResource } from "../crd/catalog";
import { CLEANUP_FINALIZER, CRD_RESOURCE } from "../crd/kind";
import { timestamp } from "../meta";
import { type AdmissionContext, defineKind } from "./kind";
import { col, NAME } from "./printing";

type Obj = Record<string, any>;

const setCondition = (crd: KObject, type: string, status: string, reason: string, message: string, now = new Date()) => {
  crd.status ??= {};
  const conds: Obj[] = Array.isArray(crd.status.conditions) ? crd.status.conditions : [];
  const cur = conds.find((c) => c?.type === type);
  if (cur && cur.status === status && cur.reason === reason && cur.message === message) return;
  const next = { type, status, lastTransitionTime: cur && cur.status === status ? cur.lastTransitionTime : timestamp(now), reason, message };
  crd.status.conditions = cur ? conds.map((c) => (c === cur ? next : c)) : [...conds, next];
};

/** The names of a CRD that another CRD (or a built-in resource) already uses, as kube's naming controller words them. */
const nameConflict = (crd: KObject, others: KObject[]): { reason: string; message: string } | null => {
  const n: Obj = crd.spec?.names ?? {};
  const group = crd.spec?.group;
  if (isStaticResource(n.plural)) return { reason: "PluralConflict", message: `"${n.plural}" is already in use` };
  for (const o of others) {
    const a: Obj = o.status?.acceptedNames ?? {};
    if (!a.plural) continue;
    // one plural per cluster here (custom objects are stored under their plural), kube: per group
    if (a.plural === n.plural) return { reason: "PluralConflict", message: `"${n.plural}" is already in use` };
    if (o.spec?.group !== group) continue;
    if (a.kind === n.kind) return { reason: "KindConflict", message: `"${n.kind}" is already in use` };
    if (n.singular && a.singular === n.singular) return { reason: "SingularConflict", message: `"${n.singular}" is already in use` };
    const listKind = n.listKind || `${n.kind}List`;
    if (a.listKind === listKind) return { reason: "ListKindConflict", message: `"${listKind}" is already in use` };
    for (const s of n.shortNames ?? []) {
      if ((a.shortNames ?? []).includes(s)) return { reason: "ShortNamesConflict", message: `"${s}" is already in use` };
    }
  }
  return null;
};

/** acceptedNames, NamesAccepted, Established and storedVersions of a CRD about to be written. */
const admitNames = async (crd: KObject, ctx: AdmissionContext) => {
  const others = (await ctx.list(CRD_RESOURCE)).filter((o) => o.metadata.name !== crd.metadata.name);
  const spec: Obj = crd.spec ?? {};
  crd.status ??= {};
  const conflict = nameConflict(crd, others);
  if (conflict) {
    setCondition(crd, "NamesAccepted", "False", conflict.reason, conflict.message);
    if (!crd.status.conditions.some((c: Obj) => c.type === "Established" && c.status === "True")) {
      setCondition(crd, "Established", "False", "NotAccepted", "not all names are accepted");
    }
  } else {
    const n: Obj = spec.names;
    crd.status.acceptedNames = {
      plural: n.plural,
      singular: n.singular || String(n.kind).toLowerCase(),
      ...(n.shortNames?.length ? { shortNames: n.shortNames } : {}),
      kind: n.kind,
      listKind: n.listKind || `${n.kind}List`,
      ...(n.categories?.length ? { categories: n.categories } : {}),
    };
    setCondition(crd, "NamesAccepted", "True", "NoConflicts", "no conflicts found");
    setCondition(crd, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted");
  }
  const storage = (spec.versions ?? []).find((v: Obj) => v?.storage)?.name;
  const stored: string[] = Array.isArray(crd.status.storedVersions) ? crd.status.storedVersions : [];
  if (storage && !stored.includes(storage)) crd.status.storedVersions = [...stored, storage];
};

const immutable = (field: string, a: unknown, b: unknown): StatusCause[] => {
  if (a === b) return [];
  const c = new Causes();
  c.invalid(field, a, "field is immutable");
  return c.list;
};

export const customresourcedefinitions = defineKind({
  info: {
    resource: CRD_RESOURCE,
    singular: "customresourcedefinition",
    kind: "CustomResourceDefinition",
    group: "apiextensions.k8s.io",
    version: "v1",
    namespaced: false,
    shortNames: ["crd", "crds"],
    categories: ["api-extensions"],
    subresources: ["status"],
    hasStatus: true,
  },
  strategy: {
    tracksGeneration: true,
    prepareForCreate(obj) {
      obj.status = { storedVersions: [] };
    },
    admit: (obj, ctx) => admitNames(obj, ctx),
    admitUpdate: (obj, _old, ctx) => admitNames(obj, ctx),
    validateUpdate: (obj, old) => [...immutable("spec.scope", obj.spec?.scope, old.spec?.scope), ...immutable("spec.group", obj.spec?.group, old.spec?.group)],
    prepareForDelete(obj, ctx) {
      if (obj.metadata.deletionTimestamp) return (obj.metadata.finalizers ?? []).includes(CLEANUP_FINALIZER);
      obj.metadata.finalizers = [...new Set([...(obj.metadata.finalizers ?? []), CLEANUP_FINALIZER])];
      setCondition(obj, "Terminating", "True", "InstanceDeletionInProgress", "CustomResource deletion is in progress", ctx.now);
      return true;
    },
  },
  printer: {
    columns: [NAME, col("Created At", "Time when the object was created.", { type: "date" })],
    cells: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? ""],
  },
});
