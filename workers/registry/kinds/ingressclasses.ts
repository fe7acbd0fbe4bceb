/** IngressClasses (networking.k8s.io/v1): the controller serving a class of Ingresses; `kubectl get ingressclass` columns. */
import { validateIngressClassUpdate } from "../../../shared/validation/rules/networking";
import type { KObject } from "../../../shared/types";
import { defineKind } from "./kind";
import { AGE, age, col, NAME } from "./printing";

export const IS_DEFAULT_INGRESS_CLASS = "ingressclass.kubernetes.io/is-default-class";

/** The controller name of the class every Kubeflare agent serves. */
export const KUBEFLARE_INGRESS_CONTROLLER = "kubeflare.dev/ingress";

export const isDefaultIngressClass = (ic: KObject): boolean => ic.metadata.annotations?.[IS_DEFAULT_INGRESS_CLASS] === "true";

/**
 * The default IngressClass as kube's DefaultIngressClass admission picks it: of the
 * classes annotated as default, the newest (then by name); null when there is none.
 */
export const defaultIngressClass = (classes: KObject[]): KObject | null => {
  const defaults = classes.filter((ic) => !ic.metadata.deletionTimestamp && isDefaultIngressClass(ic));
  defaults.sort(
    (a, b) =>
      String(b.metadata.creationTimestamp ?? "").localeCompare(String(a.metadata.creationTimestamp ?? "")) ||
      String(a.metadata.name).localeCompare(String(b.metadata.name)),
  );
  return defaults[0] ?? null;
};

/** kubectl's PARAMETERS cell: Kind[.apiGroup]/name, or <none>. */
const parametersCell = (p: any): string => {
  if (!p || typeof p !== "object") return "<none>";
  return `${p.kind ?? ""}${typeof p.apiGroup === "string" ? `.${p.apiGroup}` : ""}/${p.name ?? ""}`;
};

export const ingressclasses = defineKind({
  info: {
    resource: "ingressclasses",
    singular: "ingressclass",
    kind: "IngressClass",
    group: "networking.k8s.io",
    version: "v1",
    namespaced: false,
  },
  printer: {
    columns: [
      NAME,
      col("Controller", "Controller that is responsible for handling this class"),
      col("Parameters", "A reference to a resource with additional parameters"),
      AGE,
    ],
    cells: (o, now) => [o.metadata.name, o.spec?.controller ?? "", parametersCell(o.spec?.parameters), age(o, now)],
  },
  strategy: {
    tracksGeneration: true,
    validateUpdate: validateIngressClassUpdate,
  },
});
