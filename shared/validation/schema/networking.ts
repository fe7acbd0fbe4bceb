/**
 * networking.k8s.io/v1: Ingress (HTTP routing by host and path to Services, with TLS)
 * and IngressClass (which controller serves an Ingress). Every agent runs the
 * `kubeflare` class's controller, an L7 proxy on the node's ports 80 and 443.
 */
import { atomic, gvk, int32, listOf, object, oneOf, opt, req, string } from "./dsl";
import { IntOrString, LabelSelector, ObjectMeta } from "./meta";
import { PROTOCOLS } from "./pod";
import { TypedLocalObjectReference } from "./storage";

export const PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"] as const;

const meta = opt(ObjectMeta, "Standard object metadata: name, namespace, labels, annotations and the fields the server maintains.");

export const ServiceBackendPort = object("io.k8s.api.networking.v1.ServiceBackendPort", "The port of a Service backend: a name or a number.", {
  name: opt(string, "Name of the Service's port; cannot be set with number."),
  number: opt(int32, "Number of the Service's port; cannot be set with name."),
});

export const IngressServiceBackend = object("io.k8s.api.networking.v1.IngressServiceBackend", "A Service of the Ingress's namespace, and its port.", {
  name: req(string, "Name of the Service."),
  port: opt(ServiceBackendPort, "The Service's port to send traffic to."),
});

export const IngressBackend = object(
  "io.k8s.api.networking.v1.IngressBackend",
  "Where matching traffic goes: a Service (and port), or another resource; exactly one.",
  {
    service: opt(IngressServiceBackend, "A Service backend; cannot be set with resource."),
    resource: opt(
      TypedLocalObjectReference,
      "Another object of the Ingress's namespace as backend (not served by Kubeflare's proxy); cannot be set with service.",
    ),
  },
);

export const HTTPIngressPath = object("io.k8s.api.networking.v1.HTTPIngressPath", "A path and the backend its requests go to.", {
  path: opt(string, "The path matched against the request's path; must begin with '/' (except for ImplementationSpecific). Empty: every path."),
  pathType: req(
    oneOf(PATH_TYPES, { check: false }),
    "How the path matches: Exact (the whole path, case-sensitive), Prefix (element-wise by '/': /foo matches /foo and /foo/bar, not /foobar) or ImplementationSpecific (Kubeflare: as Prefix).",
  ),
  backend: req(IngressBackend, "Where matching requests go."),
});

export const HTTPIngressRuleValue = object("io.k8s.api.networking.v1.HTTPIngressRuleValue", "The paths of a rule; the longest matching path wins.", {
  paths: req(listOf(HTTPIngressPath), "The paths, each with its backend.", atomic),
});

export const IngressRule = object(
  "io.k8s.api.networking.v1.IngressRule",
  "The paths served for a host. Traffic for a host no rule names goes to the default backend.",
  {
    host: opt(
      string,
      "A DNS name (not an IP), matched against the request's Host header (or SNI); '*.example.com' matches exactly one label in front of example.com. Empty: every host.",
    ),
    http: opt(HTTPIngressRuleValue, "The paths and their backends."),
  },
);

export const IngressTLS = object("io.k8s.api.networking.v1.IngressTLS", "TLS for some hosts, with the certificate of a Secret.", {
  hosts: opt(listOf(string), "Hosts the certificate is for (chosen by SNI); empty: the certificate serves every host of the Ingress.", atomic),
  secretName: opt(string, "A kubernetes.io/tls Secret of the Ingress's namespace holding tls.crt and tls.key."),
});

export const IngressSpec = object("io.k8s.api.networking.v1.IngressSpec", "How an Ingress routes traffic.", {
  ingressClassName: opt(
    string,
    'The IngressClass whose controller serves this Ingress. Unset on create: the default class (the one annotated ingressclass.kubernetes.io/is-default-class: "true").',
  ),
  defaultBackend: opt(IngressBackend, "Where requests no rule matches go; without it the controller answers 404."),
  tls: opt(listOf(IngressTLS), "TLS termination: certificates and the hosts they serve.", atomic),
  rules: opt(listOf(IngressRule), "Host and path rules; a request goes to the backend of the longest matching path of its host.", atomic),
});

export const IngressPortStatus = object("io.k8s.api.networking.v1.IngressPortStatus", "The state of one port of an ingress point.", {
  port: req(int32, "The port."),
  protocol: req(oneOf(PROTOCOLS), "TCP, UDP or SCTP."),
  error: opt(string, "What is wrong with the port, if anything."),
});

export const IngressLoadBalancerIngress = object("io.k8s.api.networking.v1.IngressLoadBalancerIngress", "An address where the Ingress is served.", {
  ip: opt(string, "IP of the ingress point (a node's InternalIP)."),
  hostname: opt(string, "DNS name of the ingress point."),
  ports: opt(listOf(IngressPortStatus), "State of the ports at this point.", atomic),
});

export const IngressLoadBalancerStatus = object("io.k8s.api.networking.v1.IngressLoadBalancerStatus", "Where the Ingress is served.", {
  ingress: opt(listOf(IngressLoadBalancerIngress), "The ingress points: the nodes running the class's proxy.", atomic),
});

export const IngressStatus = object("io.k8s.api.networking.v1.IngressStatus", "The observed state of an Ingress.", {
  loadBalancer: opt(IngressLoadBalancerStatus, "Where the Ingress is served."),
});

export const Ingress = object(
  "io.k8s.api.networking.v1.Ingress",
  "HTTP(S) routing from outside the cluster to Services, by host and path, with TLS termination. Served by the controller of its IngressClass (Kubeflare: the agents' proxy on ports 80 and 443).",
  {
    apiVersion: opt(string, "API version of the object: networking.k8s.io/v1."),
    kind: opt(string, "Kind of the object: Ingress."),
    metadata: meta,
    spec: opt(IngressSpec, "How the Ingress routes traffic."),
    status: opt(IngressStatus, "The observed state of the Ingress."),
  },
  gvk("networking.k8s.io", "v1", "Ingress"),
);

export const IngressClassParametersReference = object(
  "io.k8s.api.networking.v1.IngressClassParametersReference",
  "An object holding the controller's configuration for the class.",
  {
    apiGroup: opt(string, "Group of the object; empty for the core group."),
    kind: req(string, "Kind of the object."),
    name: req(string, "Name of the object."),
    scope: opt(oneOf(["Cluster", "Namespace"], { check: false }), "Cluster (the default) or Namespace."),
    namespace: opt(string, "Namespace of the object; required when scope is Namespace, forbidden otherwise."),
  },
);

export const IngressClassSpec = object("io.k8s.api.networking.v1.IngressClassSpec", "The controller of a class.", {
  controller: opt(string, "The controller serving Ingresses of the class, a domain-prefixed path such as kubeflare.dev/ingress. Cannot change."),
  parameters: opt(IngressClassParametersReference, "Configuration for the controller."),
});

export const IngressClass = object(
  "io.k8s.api.networking.v1.IngressClass",
  'A class of Ingresses and the controller that serves them. The class annotated ingressclass.kubernetes.io/is-default-class: "true" is given to Ingresses that name none.',
  {
    apiVersion: opt(string, "API version of the object: networking.k8s.io/v1."),
    kind: opt(string, "Kind of the object: IngressClass."),
    metadata: meta,
    spec: opt(IngressClassSpec, "The class's controller and its parameters."),
  },
  gvk("networking.k8s.io", "v1", "IngressClass"),
);

// ---------------------------------------------------------------- NetworkPolicy

export const POLICY_TYPES = ["Ingress", "Egress"] as const;

export const IPBlock = object(
  "io.k8s.api.networking.v1.IPBlock",
  "A block of IP addresses (a CIDR) less some sub-blocks. Matched against a packet's address after the Service proxy's DNAT (pod IPs, not ClusterIPs).",
  {
    cidr: req(string, 'The block, such as "192.168.1.0/24" or "2001:db8::/64".'),
    except: opt(listOf(string), "Sub-blocks of cidr that are not part of it; each must be a strict subset of cidr.", atomic),
  },
);

export const NetworkPolicyPeer = object(
  "io.k8s.api.networking.v1.NetworkPolicyPeer",
  "Pods (by podSelector in the policy's namespace, by namespaceSelector, or both: those pods in those namespaces) or an ipBlock; ipBlock cannot be combined with the selectors.",
  {
    podSelector: opt(
      LabelSelector,
      "Pods of the policy's namespace (or, with namespaceSelector, of the selected namespaces); an empty selector selects every pod.",
    ),
    namespaceSelector: opt(
      LabelSelector,
      "Namespaces by their labels; every pod in them unless podSelector narrows it. An empty selector selects every namespace.",
    ),
    ipBlock: opt(IPBlock, "Addresses by CIDR; cannot be set with podSelector or namespaceSelector."),
  },
);

export const NetworkPolicyPort = object("io.k8s.api.networking.v1.NetworkPolicyPort", "A port (or a range of ports) and its protocol.", {
  protocol: opt(oneOf(PROTOCOLS, { check: false }), "TCP (the default), UDP or SCTP."),
  port: opt(
    IntOrString,
    "A port number, or a named port of the selected pod's containers (ingress) or of the peer pod (egress). Unset: every port of the protocol.",
  ),
  endPort: opt(int32, "With a numeric port: the last port of the range port..endPort (endPort ≥ port)."),
});

export const NetworkPolicyIngressRule = object(
  "io.k8s.api.networking.v1.NetworkPolicyIngressRule",
  "Traffic allowed into the selected pods: from any of the peers, to any of the ports.",
  {
    ports: opt(listOf(NetworkPolicyPort), "Ports the traffic may go to; empty or unset: every port.", atomic),
    from: opt(listOf(NetworkPolicyPeer), "Sources allowed; empty or unset: every source.", atomic),
  },
);

export const NetworkPolicyEgressRule = object(
  "io.k8s.api.networking.v1.NetworkPolicyEgressRule",
  "Traffic allowed out of the selected pods: to any of the peers, on any of the ports.",
  {
    ports: opt(listOf(NetworkPolicyPort), "Ports the traffic may go to; empty or unset: every port.", atomic),
    to: opt(listOf(NetworkPolicyPeer), "Destinations allowed; empty or unset: every destination.", atomic),
  },
);

export const NetworkPolicySpec = object("io.k8s.api.networking.v1.NetworkPolicySpec", "Which pods a policy isolates, and what traffic it allows them.", {
  podSelector: req(LabelSelector, "The pods of the policy's namespace the policy applies to; an empty selector selects every pod of the namespace."),
  ingress: opt(
    listOf(NetworkPolicyIngressRule),
    "Ingress rules: with policyType Ingress, a selected pod accepts new connections only as some rule of some policy selecting it allows. Empty: none (deny all ingress).",
    atomic,
  ),
  egress: opt(
    listOf(NetworkPolicyEgressRule),
    "Egress rules: with policyType Egress, a selected pod may open new connections only as some rule of some policy selecting it allows. Empty: none (deny all egress).",
    atomic,
  ),
  policyTypes: opt(
    listOf(oneOf(POLICY_TYPES, { check: false })),
    "Ingress, Egress or both: the directions in which the policy isolates the selected pods. Unset: Ingress, plus Egress when egress rules are given.",
    atomic,
  ),
});

export const NetworkPolicy = object(
  "io.k8s.api.networking.v1.NetworkPolicy",
  "What network traffic pods may receive and send. A pod selected by some policy of a type is isolated in that direction: only what the union of those policies allows gets through (replies to allowed connections always do). Enforced by each Kubeflare agent with nftables on its node.",
  {
    apiVersion: opt(string, "API version of the object: networking.k8s.io/v1."),
    kind: opt(string, "Kind of the object: NetworkPolicy."),
    metadata: meta,
    spec: opt(NetworkPolicySpec, "The policy."),
  },
  gvk("networking.k8s.io", "v1", "NetworkPolicy"),
);
