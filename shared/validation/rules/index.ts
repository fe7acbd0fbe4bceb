/** The semantic rules of each kind, run after the type check. */
import { validateCRD } from "../../crd/validate";
import { Causes } from "../causes";
import { nameIsDNS1035Label, nameIsDNSLabel, nameIsDNSSubdomain, type NameValidator } from "../names";
import { validateEndpoints, validateEndpointSlice, validateEvent, validateLease, validateNamespace, validateNode } from "./cluster";
import { validateConfigMap, validateSecret } from "./data";
import { type Obj, obj } from "./json";
import { validateObjectMeta } from "./meta";
import { validatePodSpec } from "./pod";
import { nameIsPathSegment, validateClusterRole, validateClusterRoleBinding, validateRole, validateRoleBinding } from "./rbac";
import { validateServiceSpec } from "./service";
import { validateIngress, validateIngressClass, validateIngressCreate } from "./networking";
import { validateNetworkPolicy } from "./networkpolicy";
import { validatePersistentVolume, validatePersistentVolumeClaim, validateStorageClass } from "./storage";
import { validateHorizontalPodAutoscaler } from "../../hpa-validation";
import { validateLimitRange, validateResourceQuota } from "./quota";
import {
  validateControllerRevision,
  validateCronJob,
  validateDaemonSetSpec,
  validateDeploymentSpec,
  validateJob,
  validatePodDisruptionBudgetSpec,
  validateReplicaSetSpec,
  validateReplicationControllerSpec,
  validateScaleSpec,
  validateStatefulSetSpec,
} from "./workloads";

/** How object names of each kind are checked; kinds not listed use DNS subdomains. */
const NAME_RULES: Record<string, NameValidator> = {
  Namespace: nameIsDNSLabel,
  Service: nameIsDNS1035Label,
  Role: nameIsPathSegment,
  ClusterRole: nameIsPathSegment,
  RoleBinding: nameIsPathSegment,
  ClusterRoleBinding: nameIsPathSegment,
};

const RULES: Record<string, (o: Obj, c: Causes) => void> = {
  Pod: (o, c) => validatePodSpec(o.spec, "spec", c),
  Deployment: (o, c) => validateDeploymentSpec(o.spec, c),
  ReplicaSet: (o, c) => validateReplicaSetSpec(o.spec, c),
  ReplicationController: (o, c) => validateReplicationControllerSpec(o.spec, c),
  Scale: (o, c) => validateScaleSpec(o.spec, c),
  Job: validateJob,
  PodDisruptionBudget: (o, c) => validatePodDisruptionBudgetSpec(o.spec, c),
  DaemonSet: (o, c) => validateDaemonSetSpec(o.spec, c),
  CronJob: validateCronJob,
  Service: (o, c) => validateServiceSpec(o.spec, c),
  ConfigMap: validateConfigMap,
  Secret: validateSecret,
  Node: validateNode,
  Namespace: validateNamespace,
  Lease: validateLease,
  Event: validateEvent,
  Endpoints: validateEndpoints,
  EndpointSlice: validateEndpointSlice,
  ControllerRevision: validateControllerRevision,
  StatefulSet: (o, c) => validateStatefulSetSpec(o.spec, c),
  PersistentVolume: validatePersistentVolume,
  PersistentVolumeClaim: (o, c) => validatePersistentVolumeClaim(o, c),
  StorageClass: validateStorageClass,
  CustomResourceDefinition: (o, c) => c.list.push(...validateCRD(o)),
  HorizontalPodAutoscaler: validateHorizontalPodAutoscaler,
  Ingress: (o, c) => {
    validateIngress(o, c);
    c.list.push(...validateIngressCreate(o));
  },
  IngressClass: validateIngressClass,
  NetworkPolicy: validateNetworkPolicy,
  Role: validateRole,
  ClusterRole: validateClusterRole,
  RoleBinding: validateRoleBinding,
  ClusterRoleBinding: validateClusterRoleBinding,
  LimitRange: validateLimitRange,
  ResourceQuota: validateResourceQuota,
};

/** Everything the rules find wrong with an object of `kind` (empty when valid). */
export const semanticCauses = (kind: string, namespaced: boolean, object: unknown) => {
  const c = new Causes();
  const o = obj(object);
  validateObjectMeta(o.metadata, { namespaced, name: NAME_RULES[kind] ?? nameIsDNSSubdomain }, c);
  RULES[kind]?.(o, c);
  return c.list;
};
