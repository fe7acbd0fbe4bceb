/**
 * Which Ingresses Kubeflare's ingress controller serves (networking.k8s.io/v1): those
 * whose class (spec.ingressClassName, else the deprecated kubernetes.io/ingress.class
 * annotation) is an IngressClass of controller `kubeflare.dev/ingress`, and those naming
 * none while every default class (ingressclass.kubernetes.io/is-default-class) is one of
 * ours. The ingress-status controller and the Node authorizer's TLS Secret rule use it.
 */
import type { KObject } from "./types";

export const KUBEFLARE_INGRESS_CONTROLLER = "kubeflare.dev/ingress";
export const IS_DEFAULT_INGRESS_CLASS = "ingressclass.kubernetes.io/is-default-class";
export const INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class";

/** Is the Ingress served by `controller` (default Kubeflare's), given every IngressClass? */
export const ingressServedBy = (ing: KObject, classes: KObject[], controller = KUBEFLARE_INGRESS_CONTROLLER): boolean => {
  const live = classes.filter((c) => !c.metadata.deletionTimestamp);
  const named = typeof ing.spec?.ingressClassName === "string" ? ing.spec.ingressClassName : ing.metadata.annotations?.[INGRESS_CLASS_ANNOTATION];
  if (typeof named === "string" && named !== "") return live.some((c) => c.metadata.name === named && c.spec?.controller === controller);
  const defaults = live.filter((c) => c.metadata.annotations?.[IS_DEFAULT_INGRESS_CLASS] === "true");
  return defaults.length > 0 && defaults.every((c) => c.spec?.controller === controller);
};
