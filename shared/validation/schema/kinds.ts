/** The top-level kinds and their types. */
import { ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet } from "./apps";
import { CustomResourceDefinition } from "./apiextensions";
import { HorizontalPodAutoscaler, Scale } from "./autoscaling";
import { CronJob, Job } from "./batch";
import { Lease } from "./coordination";
import { ConfigMap, Endpoints, Event, Namespace, Node, ReplicationController, Secret, Service, ServiceAccount } from "./core";
import { EndpointSlice } from "./discovery";
import type { ObjectType } from "./dsl";
import { Pod } from "./pod";
import { PodDisruptionBudget } from "./policy";
import { PersistentVolume, PersistentVolumeClaim, StorageClass } from "./storage";
import { Ingress, IngressClass, NetworkPolicy } from "./networking";
import {
  ClusterRole,
  ClusterRoleBinding,
  LocalSubjectAccessReview,
  Role,
  RoleBinding,
  SelfSubjectAccessReview,
  SelfSubjectReview,
  SelfSubjectRulesReview,
  SubjectAccessReview,
  TokenRequest,
  TokenReview,
} from "./rbac";
import { LimitRange, ResourceQuota } from "./quota";

export const KINDS: Record<string, ObjectType> = {
  Namespace,
  Pod,
  Node,
  Service,
  Endpoints,
  Event,
  ConfigMap,
  Secret,
  ReplicationController,
  Deployment,
  ReplicaSet,
  DaemonSet,
  EndpointSlice,
  Lease,
  ServiceAccount,
  Job,
  CronJob,
  PodDisruptionBudget,
  Scale,
  ControllerRevision,
  StatefulSet,
  PersistentVolume,
  PersistentVolumeClaim,
  StorageClass,
  CustomResourceDefinition,
  HorizontalPodAutoscaler,
  Ingress,
  IngressClass,
  NetworkPolicy,
  Role,
  ClusterRole,
  RoleBinding,
  ClusterRoleBinding,
  SelfSubjectAccessReview,
  SelfSubjectRulesReview,
  SubjectAccessReview,
  LocalSubjectAccessReview,
  SelfSubjectReview,
  TokenReview,
  TokenRequest,
  LimitRange,
  ResourceQuota,
};
