/**
 * The protobuf field tables of the kinds kubectl sends as protobuf (wire numbers from
 * k8s.io/api core/v1 and apps/v1, and apimachinery meta/v1, runtime, intstr,
 * resource): declarative data for the interpreter in protobuf.ts.
 */

/**
 * Field tables. Each message is a list of `number:jsonName[=type][flags]`:
 *   type   string (default) | int32 | int64 | bool | time | quantity | intstr
 *          | bytes (a Uint8Array: only the envelope's raw field; byte maps become base64)
 *          | map:string | map:bytes | map:quantity | a message name; `[]` = repeated
 *   flags  `?` omitempty (a zero scalar is dropped), `*` pointer (kept whatever its
 *          value), `^` an embedded Go struct inlined into the parent's JSON;
 *          a scalar with neither flag is always present in the JSON form, so it is kept.
 */
export const SCHEMA: Record<string, string> = {
  // runtime, meta/v1
  Unknown: "1:typeMeta=TypeMeta 2:raw=bytes 3:contentEncoding? 4:contentType?",
  TypeMeta: "1:apiVersion? 2:kind?",
  ObjectMeta:
    "1:name? 2:generateName? 3:namespace? 4:selfLink? 5:uid? 6:resourceVersion? 7:generation=int64? 8:creationTimestamp=time " +
    "9:deletionTimestamp=time 10:deletionGracePeriodSeconds=int64* 11:labels=map:string 12:annotations=map:string " +
    "13:ownerReferences=OwnerReference[] 14:finalizers[]",
  OwnerReference: "5:apiVersion 1:kind 3:name 4:uid 6:controller=bool* 7:blockOwnerDeletion=bool*",
  LabelSelector: "1:matchLabels=map:string 2:matchExpressions=LabelSelectorRequirement[]",
  LabelSelectorRequirement: "1:key 2:operator 3:values[]",
  DeleteOptions:
    "1:gracePeriodSeconds=int64* 2:preconditions=Preconditions 3:orphanDependents=bool* 4:propagationPolicy* 5:dryRun[] 6:ignoreStoreReadErrorWithClusterBreakingPotential=bool*",
  Preconditions: "1:uid* 2:resourceVersion*",

  // core/v1: objects
  Namespace: "1:metadata=ObjectMeta 2:spec=NamespaceSpec",
  NamespaceSpec: "1:finalizers[]",
  ConfigMap: "1:metadata=ObjectMeta 4:immutable=bool* 2:data=map:string 3:binaryData=map:bytes",
  Secret: "1:metadata=ObjectMeta 5:immutable=bool* 2:data=map:bytes 4:stringData=map:string 3:type?",
  Job: "1:metadata=ObjectMeta 2:spec=JobSpec 3:status=JobStatus",
  JobSpec:
    "1:parallelism=int32* 2:completions=int32* 3:activeDeadlineSeconds=int64* 7:backoffLimit=int32* 4:selector=LabelSelector " +
    "5:manualSelector=bool* 6:template=PodTemplateSpec 8:ttlSecondsAfterFinished=int32* 9:completionMode* 10:suspend=bool*",
  JobStatus:
    "1:conditions=JobCondition[] 2:startTime=time 3:completionTime=time 4:active=int32? 9:ready=int32* 5:succeeded=int32? 6:failed=int32? " +
    "7:completedIndexes? 8:uncountedTerminatedPods=UncountedTerminatedPods",
  JobCondition: "1:type 2:status 3:lastProbeTime=time 4:lastTransitionTime=time 5:reason? 6:message?",
  UncountedTerminatedPods: "1:succeeded[] 2:failed[]",
  Eviction: "1:metadata=ObjectMeta 2:deleteOptions=DeleteOptions",
  CronJob: "1:metadata=ObjectMeta 2:spec=CronJobSpec 3:status=CronJobStatus",
  CronJobSpec:
    "1:schedule 8:timeZone* 2:startingDeadlineSeconds=int64* 3:concurrencyPolicy? 4:suspend=bool* 5:jobTemplate=JobTemplateSpec " +
    "6:successfulJobsHistoryLimit=int32* 7:failedJobsHistoryLimit=int32*",
  JobTemplateSpec: "1:metadata=ObjectMeta 2:spec=JobSpec",
  CronJobStatus: "1:active=ObjectReference[] 4:lastScheduleTime=time 5:lastSuccessfulTime=time",
  ServiceAccount: "1:metadata=ObjectMeta 2:secrets=ObjectReference[] 3:imagePullSecrets=LocalObjectReference[] 4:automountServiceAccountToken=bool*",
  Service: "1:metadata=ObjectMeta 2:spec=ServiceSpec",
  Endpoints: "1:metadata=ObjectMeta 2:subsets=EndpointSubset[]",
  Pod: "1:metadata=ObjectMeta 2:spec=PodSpec",
  ReplicationController: "1:metadata=ObjectMeta 2:spec=ReplicationControllerSpec",
  Binding: "1:metadata=ObjectMeta 2:target=ObjectReference",

  // core/v1: services and endpoints
  ServiceSpec:
    "1:ports=ServicePort[] 2:selector=map:string 3:clusterIP? 18:clusterIPs[] 4:type? 5:externalIPs[] 7:sessionAffinity? " +
    "8:loadBalancerIP? 9:loadBalancerSourceRanges[] 10:externalName? 11:externalTrafficPolicy? 12:healthCheckNodePort=int32? " +
    "13:publishNotReadyAddresses=bool? 14:sessionAffinityConfig=SessionAffinityConfig 19:ipFamilies[] 17:ipFamilyPolicy* " +
    "20:allocateLoadBalancerNodePorts=bool* 21:loadBalancerClass* 22:internalTrafficPolicy* 23:trafficDistribution*",
  ServicePort: "1:name? 2:protocol? 6:appProtocol* 3:port=int32 4:targetPort=intstr? 5:nodePort=int32?",
  SessionAffinityConfig: "1:clientIP=ClientIPConfig",
  ClientIPConfig: "1:timeoutSeconds=int32*",
  EndpointSubset: "1:addresses=EndpointAddress[] 2:notReadyAddresses=EndpointAddress[] 3:ports=EndpointPort[]",
  EndpointAddress: "1:ip 3:hostname? 4:nodeName* 2:targetRef=ObjectReference",
  EndpointPort: "1:name? 2:port=int32 3:protocol? 4:appProtocol*",
  ObjectReference: "1:kind? 2:namespace? 3:name? 4:uid? 5:apiVersion? 6:resourceVersion? 7:fieldPath?",

  // core/v1: workloads
  ReplicationControllerSpec: "1:replicas=int32* 4:minReadySeconds=int32? 2:selector=map:string 3:template=PodTemplateSpec",
  PodTemplateSpec: "1:metadata=ObjectMeta 2:spec=PodSpec",
  PodSpec:
    "1:volumes=Volume[] 20:initContainers=Container[] 2:containers=Container[] 34:ephemeralContainers=EphemeralContainer[] " +
    "3:restartPolicy? 4:terminationGracePeriodSeconds=int64* 5:activeDeadlineSeconds=int64* 6:dnsPolicy? 7:nodeSelector=map:string " +
    "8:serviceAccountName? 9:serviceAccount? 21:automountServiceAccountToken=bool* 10:nodeName? 11:hostNetwork=bool? " +
    "12:hostPID=bool? 13:hostIPC=bool? 27:shareProcessNamespace=bool* 14:securityContext=PodSecurityContext " +
    "15:imagePullSecrets=LocalObjectReference[] 16:hostname? 17:subdomain? 18:affinity=Affinity 19:schedulerName? " +
    "22:tolerations=Toleration[] 23:hostAliases=HostAlias[] 24:priorityClassName? 25:priority=int32* 26:dnsConfig=PodDNSConfig " +
    "28:readinessGates=PodReadinessGate[] 29:runtimeClassName* 30:enableServiceLinks=bool* 31:preemptionPolicy* " +
    "32:overhead=map:quantity 33:topologySpreadConstraints=TopologySpreadConstraint[] 35:setHostnameAsFQDN=bool* 36:os=PodOS " +
    "37:hostUsers=bool* 38:schedulingGates=PodSchedulingGate[] 39:resourceClaims=PodResourceClaim[] 40:resources=ResourceRequirements " +
    "41:hostnameOverride*",
  PodSecurityContext:
    "1:seLinuxOptions=SELinuxOptions 8:windowsOptions=WindowsSecurityContextOptions 2:runAsUser=int64* 6:runAsGroup=int64* " +
    "3:runAsNonRoot=bool* 4:supplementalGroups=int64[] 12:supplementalGroupsPolicy* 5:fsGroup=int64* 7:sysctls=Sysctl[] " +
    "9:fsGroupChangePolicy* 10:seccompProfile=SeccompProfile 11:appArmorProfile=AppArmorProfile 13:seLinuxChangePolicy*",
  SecurityContext:
    "1:capabilities=Capabilities 2:privileged=bool* 3:seLinuxOptions=SELinuxOptions 10:windowsOptions=WindowsSecurityContextOptions " +
    "4:runAsUser=int64* 8:runAsGroup=int64* 5:runAsNonRoot=bool* 6:readOnlyRootFilesystem=bool* 7:allowPrivilegeEscalation=bool* " +
    "9:procMount* 11:seccompProfile=SeccompProfile 12:appArmorProfile=AppArmorProfile",
  SELinuxOptions: "1:user? 2:role? 3:type? 4:level?",
  WindowsSecurityContextOptions: "1:gmsaCredentialSpecName* 2:gmsaCredentialSpec* 3:runAsUserName* 4:hostProcess=bool*",
  SeccompProfile: "1:type 2:localhostProfile*",
  AppArmorProfile: "1:type 2:localhostProfile*",
  Capabilities: "1:add[] 2:drop[]",
  Sysctl: "1:name 2:value",
  PodResourceClaim: "1:name 3:resourceClaimName* 4:resourceClaimTemplateName*",
  Container:
    "1:name 2:image? 3:command[] 4:args[] 5:workingDir? 6:ports=ContainerPort[] 19:envFrom=EnvFromSource[] 7:env=EnvVar[] " +
    "8:resources=ResourceRequirements 23:resizePolicy=ContainerResizePolicy[] 24:restartPolicy* 9:volumeMounts=VolumeMount[] " +
    "21:volumeDevices=VolumeDevice[] 10:livenessProbe=Probe 11:readinessProbe=Probe 22:startupProbe=Probe 12:lifecycle=Lifecycle " +
    "13:terminationMessagePath? 20:terminationMessagePolicy? 14:imagePullPolicy? 15:securityContext=SecurityContext " +
    "16:stdin=bool? 17:stdinOnce=bool? 18:tty=bool?",
  // EphemeralContainerCommon has Container's field numbers
  EphemeralContainer: "1:ephemeralContainerCommon=Container^ 2:targetContainerName?",
  ContainerPort: "1:name? 2:hostPort=int32? 3:containerPort=int32 4:protocol? 5:hostIP?",
  ContainerResizePolicy: "1:resourceName 2:restartPolicy",
  EnvVar: "1:name 2:value? 3:valueFrom=EnvVarSource",
  EnvVarSource: "1:fieldRef=ObjectFieldSelector 2:resourceFieldRef=ResourceFieldSelector 3:configMapKeyRef=KeySelector 4:secretKeyRef=KeySelector",
  ObjectFieldSelector: "1:apiVersion? 2:fieldPath",
  ResourceFieldSelector: "1:containerName? 2:resource 3:divisor=quantity",
  // ConfigMapKeySelector and SecretKeySelector
  KeySelector: "1:localObjectReference=LocalObjectReference^ 2:key 3:optional=bool*",
  EnvFromSource: "1:prefix? 2:configMapRef=EnvSource 3:secretRef=EnvSource",
  // ConfigMapEnvSource and SecretEnvSource
  EnvSource: "1:localObjectReference=LocalObjectReference^ 2:optional=bool*",
  LocalObjectReference: "1:name?",
  ResourceRequirements: "1:limits=map:quantity 2:requests=map:quantity 3:claims=ResourceClaim[]",
  ResourceClaim: "1:name 2:request?",
  VolumeMount: "1:name 2:readOnly=bool? 7:recursiveReadOnly* 3:mountPath 4:subPath? 5:mountPropagation* 6:subPathExpr?",
  VolumeDevice: "1:name 2:devicePath",
  Volume: "1:name 2:volumeSource=VolumeSource^",
  VolumeSource:
    "1:hostPath=HostPathVolumeSource 2:emptyDir=EmptyDirVolumeSource 6:secret=SecretVolumeSource 7:nfs=NFSVolumeSource " +
    "10:persistentVolumeClaim=PersistentVolumeClaimVolumeSource 16:downwardAPI=DownwardAPIVolumeSource " +
    "19:configMap=ConfigMapVolumeSource 26:projected=ProjectedVolumeSource",
  HostPathVolumeSource: "1:path 2:type*",
  EmptyDirVolumeSource: "1:medium? 2:sizeLimit=quantity",
  SecretVolumeSource: "1:secretName? 2:items=KeyToPath[] 3:defaultMode=int32* 4:optional=bool*",
  ConfigMapVolumeSource: "1:localObjectReference=LocalObjectReference^ 2:items=KeyToPath[] 3:defaultMode=int32* 4:optional=bool*",
  KeyToPath: "1:key 2:path 3:mode=int32*",
  NFSVolumeSource: "1:server 2:path 3:readOnly=bool?",
  PersistentVolumeClaimVolumeSource: "1:claimName 2:readOnly=bool?",
  DownwardAPIVolumeSource: "1:items=DownwardAPIVolumeFile[] 2:defaultMode=int32*",
  DownwardAPIVolumeFile: "1:path 2:fieldRef=ObjectFieldSelector 3:resourceFieldRef=ResourceFieldSelector 4:mode=int32*",
  ProjectedVolumeSource: "1:sources=VolumeProjection[] 2:defaultMode=int32*",
  VolumeProjection:
    "1:secret=ProjectionSource 2:downwardAPI=DownwardAPIProjection 3:configMap=ProjectionSource 4:serviceAccountToken=ServiceAccountTokenProjection",
  // SecretProjection and ConfigMapProjection
  ProjectionSource: "1:localObjectReference=LocalObjectReference^ 2:items=KeyToPath[] 4:optional=bool*",
  DownwardAPIProjection: "1:items=DownwardAPIVolumeFile[]",
  ServiceAccountTokenProjection: "1:audience? 2:expirationSeconds=int64* 3:path",
  Probe:
    "1:handler=ProbeHandler^ 2:initialDelaySeconds=int32? 3:timeoutSeconds=int32? 4:periodSeconds=int32? " +
    "5:successThreshold=int32? 6:failureThreshold=int32? 7:terminationGracePeriodSeconds=int64*",
  ProbeHandler: "1:exec=ExecAction 2:httpGet=HTTPGetAction 3:tcpSocket=TCPSocketAction 4:grpc=GRPCAction",
  Lifecycle: "1:postStart=LifecycleHandler 2:preStop=LifecycleHandler 3:stopSignal*",
  LifecycleHandler: "1:exec=ExecAction 2:httpGet=HTTPGetAction 3:tcpSocket=TCPSocketAction 4:sleep=SleepAction",
  ExecAction: "1:command[]",
  HTTPGetAction: "1:path? 2:port=intstr 3:host? 4:scheme? 5:httpHeaders=HTTPHeader[]",
  HTTPHeader: "1:name 2:value",
  TCPSocketAction: "1:port=intstr 2:host?",
  GRPCAction: "1:port=int32 2:service*",
  SleepAction: "1:seconds=int64",
  Toleration: "1:key? 2:operator? 3:value? 4:effect? 5:tolerationSeconds=int64*",
  Affinity: "1:nodeAffinity=NodeAffinity 2:podAffinity=PodAffinity 3:podAntiAffinity=PodAffinity",
  NodeAffinity: "1:requiredDuringSchedulingIgnoredDuringExecution=NodeSelector 2:preferredDuringSchedulingIgnoredDuringExecution=PreferredSchedulingTerm[]",
  NodeSelector: "1:nodeSelectorTerms=NodeSelectorTerm[]",
  NodeSelectorTerm: "1:matchExpressions=NodeSelectorRequirement[] 2:matchFields=NodeSelectorRequirement[]",
  NodeSelectorRequirement: "1:key 2:operator 3:values[]",
  PreferredSchedulingTerm: "1:weight=int32 2:preference=NodeSelectorTerm",
  // PodAffinity and PodAntiAffinity
  PodAffinity: "1:requiredDuringSchedulingIgnoredDuringExecution=PodAffinityTerm[] 2:preferredDuringSchedulingIgnoredDuringExecution=WeightedPodAffinityTerm[]",
  WeightedPodAffinityTerm: "1:weight=int32 2:podAffinityTerm=PodAffinityTerm",
  PodAffinityTerm: "1:labelSelector=LabelSelector 2:namespaces[] 3:topologyKey 4:namespaceSelector=LabelSelector 5:matchLabelKeys[] 6:mismatchLabelKeys[]",
  HostAlias: "1:ip 2:hostnames[]",
  PodDNSConfig: "1:nameservers[] 2:searches[] 3:options=PodDNSConfigOption[]",
  PodDNSConfigOption: "1:name? 2:value*",
  PodReadinessGate: "1:conditionType",
  TopologySpreadConstraint:
    "1:maxSkew=int32 2:topologyKey 3:whenUnsatisfiable 4:labelSelector=LabelSelector 5:minDomains=int32* " +
    "6:nodeAffinityPolicy* 7:nodeTaintsPolicy* 8:matchLabelKeys[]",
  PodOS: "1:name",
  PodSchedulingGate: "1:name",

  // apps/v1
  Deployment: "1:metadata=ObjectMeta 2:spec=DeploymentSpec",
  DeploymentSpec:
    "1:replicas=int32* 2:selector=LabelSelector 3:template=PodTemplateSpec 4:strategy=DeploymentStrategy 5:minReadySeconds=int32? " +
    "6:revisionHistoryLimit=int32* 7:paused=bool? 9:progressDeadlineSeconds=int32*",
  DeploymentStrategy: "1:type? 2:rollingUpdate=RollingUpdateDeployment",
  RollingUpdateDeployment: "1:maxUnavailable=intstr* 2:maxSurge=intstr*",
  ReplicaSet: "1:metadata=ObjectMeta 2:spec=ReplicaSetSpec",
  ReplicaSetSpec: "1:replicas=int32* 4:minReadySeconds=int32? 2:selector=LabelSelector 3:template=PodTemplateSpec",

  // autoscaling/v1 (the scale subresource). ScaleSpec.replicas is `int32,omitempty` in Go, but
  // a typed client always writes it and 0 is meaningful here (scale to zero), so it is kept.
  Scale: "1:metadata=ObjectMeta 2:spec=ScaleSpec",
  ScaleSpec: "1:replicas=int32*",

  // autoscaling/v1 HorizontalPodAutoscaler (kubectl autoscale)
  HorizontalPodAutoscaler: "1:metadata=ObjectMeta 2:spec=HorizontalPodAutoscalerSpec 3:status=HorizontalPodAutoscalerStatus",
  HorizontalPodAutoscalerSpec: "1:scaleTargetRef=CrossVersionObjectReference 2:minReplicas=int32* 3:maxReplicas=int32 4:targetCPUUtilizationPercentage=int32*",
  CrossVersionObjectReference: "1:kind 2:name 3:apiVersion?",
  HorizontalPodAutoscalerStatus:
    "1:observedGeneration=int64* 2:lastScaleTime=time 3:currentReplicas=int32 4:desiredReplicas=int32 5:currentCPUUtilizationPercentage=int32*",
  // rbac.authorization.k8s.io/v1
  Role: "1:metadata=ObjectMeta 2:rules=PolicyRule[]",
  ClusterRole: "1:metadata=ObjectMeta 2:rules=PolicyRule[] 3:aggregationRule=AggregationRule",
  PolicyRule: "1:verbs[] 2:apiGroups[] 3:resources[] 4:resourceNames[] 5:nonResourceURLs[]",
  AggregationRule: "1:clusterRoleSelectors=LabelSelector[]",
  RoleBinding: "1:metadata=ObjectMeta 2:subjects=Subject[] 3:roleRef=RoleRef",
  ClusterRoleBinding: "1:metadata=ObjectMeta 2:subjects=Subject[] 3:roleRef=RoleRef",
  Subject: "1:kind 2:apiGroup? 3:name 4:namespace?",
  RoleRef: "1:apiGroup 2:kind 3:name",

  // authentication.k8s.io/v1 and authorization.k8s.io/v1 requests (their status is the server's answer)
  TokenRequest: "1:metadata=ObjectMeta 2:spec=TokenRequestSpec",
  TokenRequestSpec: "1:audiences[] 4:expirationSeconds=int64* 3:boundObjectRef=BoundObjectReference",
  BoundObjectReference: "1:kind? 2:apiVersion? 3:name? 4:uid?",
  TokenReview: "1:metadata=ObjectMeta 2:spec=TokenReviewSpec",
  TokenReviewSpec: "1:token? 2:audiences[]",
  SelfSubjectReview: "1:metadata=ObjectMeta",
  SelfSubjectAccessReview: "1:metadata=ObjectMeta 2:spec=SelfSubjectAccessReviewSpec",
  SelfSubjectAccessReviewSpec: "1:resourceAttributes=ResourceAttributes 2:nonResourceAttributes=NonResourceAttributes",
  SubjectAccessReview: "1:metadata=ObjectMeta 2:spec=SubjectAccessReviewSpec",
  SubjectAccessReviewSpec: "1:resourceAttributes=ResourceAttributes 2:nonResourceAttributes=NonResourceAttributes 3:user? 4:groups[] 6:uid?",
  ResourceAttributes: "1:namespace? 2:verb? 3:group? 4:version? 5:resource? 6:subresource? 7:name?",
  NonResourceAttributes: "1:path? 2:verb?",
  SelfSubjectRulesReview: "1:metadata=ObjectMeta 2:spec=SelfSubjectRulesReviewSpec",
  SelfSubjectRulesReviewSpec: "1:namespace?",

  // core/v1 ResourceQuota (kubectl create quota)
  ResourceQuota: "1:metadata=ObjectMeta 2:spec=ResourceQuotaSpec",
  ResourceQuotaSpec: "1:hard=map:quantity 2:scopes[] 3:scopeSelector=ScopeSelector",
  ScopeSelector: "1:matchExpressions=ScopedResourceSelectorRequirement[]",
  ScopedResourceSelectorRequirement: "1:scopeName 2:operator 3:values[]",

  // networking.k8s.io/v1 Ingress (kubectl create ingress)
  Ingress: "1:metadata=ObjectMeta 2:spec=IngressSpec",
  IngressSpec: "4:ingressClassName* 1:defaultBackend=IngressBackend 2:tls=IngressTLS[] 3:rules=IngressRule[]",
  IngressBackend: "4:service=IngressServiceBackend 3:resource=TypedLocalObjectReference",
  IngressServiceBackend: "1:name 2:port=ServiceBackendPort",
  ServiceBackendPort: "1:name? 2:number=int32?",
  TypedLocalObjectReference: "1:apiGroup* 2:kind 3:name",
  IngressTLS: "1:hosts[] 2:secretName?",
  IngressRule: "1:host? 2:ingressRuleValue=IngressRuleValue^",
  IngressRuleValue: "1:http=HTTPIngressRuleValue",
  HTTPIngressRuleValue: "1:paths=HTTPIngressPath[]",
  HTTPIngressPath: "1:path? 3:pathType* 2:backend=IngressBackend",
};

/** The top-level objects we decode: "apiVersion/kind" → message (DeleteOptions under any apiVersion). */
export const KINDS: Record<string, string> = {
  "v1/Namespace": "Namespace",
  "v1/ConfigMap": "ConfigMap",
  "v1/Secret": "Secret",
  "v1/ServiceAccount": "ServiceAccount",
  "batch/v1/Job": "Job",
  "batch/v1/CronJob": "CronJob",
  "policy/v1/Eviction": "Eviction",
  "v1/Service": "Service",
  "v1/Endpoints": "Endpoints",
  "v1/Pod": "Pod",
  "v1/ReplicationController": "ReplicationController",
  "v1/Binding": "Binding",
  "apps/v1/Deployment": "Deployment",
  "apps/v1/ReplicaSet": "ReplicaSet",
  "autoscaling/v1/Scale": "Scale",
  "autoscaling/v1/HorizontalPodAutoscaler": "HorizontalPodAutoscaler",
  "rbac.authorization.k8s.io/v1/Role": "Role",
  "rbac.authorization.k8s.io/v1/ClusterRole": "ClusterRole",
  "rbac.authorization.k8s.io/v1/RoleBinding": "RoleBinding",
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": "ClusterRoleBinding",
  "authentication.k8s.io/v1/TokenRequest": "TokenRequest",
  "authentication.k8s.io/v1/TokenReview": "TokenReview",
  "authentication.k8s.io/v1/SelfSubjectReview": "SelfSubjectReview",
  "authorization.k8s.io/v1/SelfSubjectAccessReview": "SelfSubjectAccessReview",
  "authorization.k8s.io/v1/SubjectAccessReview": "SubjectAccessReview",
  "authorization.k8s.io/v1/LocalSubjectAccessReview": "SubjectAccessReview",
  "authorization.k8s.io/v1/SelfSubjectRulesReview": "SelfSubjectRulesReview",
  "v1/ResourceQuota": "ResourceQuota",
  "networking.k8s.io/v1/Ingress": "Ingress",
};
