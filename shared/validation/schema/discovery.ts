/** discovery.k8s.io/v1: EndpointSlice. */
import { atomic, boolean, gvk, int32, listOf, object, oneOf, opt, req, string, stringMap } from "./dsl";
import { ObjectMeta } from "./meta";
import { ObjectReference } from "./core";
import { PROTOCOLS } from "./pod";

export const ADDRESS_TYPES = ["IPv4", "IPv6", "FQDN"] as const;

export const EndpointConditions = object("io.k8s.api.discovery.v1.EndpointConditions", "The state of one endpoint.", {
  ready: opt(boolean, "Ready to receive traffic: serving and not terminating."),
  serving: opt(boolean, "Able to serve traffic, even while terminating."),
  terminating: opt(boolean, "Shutting down."),
});

export const ForZone = object("io.k8s.api.discovery.v1.ForZone", "A zone that should use an endpoint.", { name: req(string, "Name of the zone.") });
export const ForNode = object("io.k8s.api.discovery.v1.ForNode", "A node that should use an endpoint.", { name: req(string, "Name of the node.") });

export const EndpointHints = object("io.k8s.api.discovery.v1.EndpointHints", "Hints for topology-aware routing.", {
  forZones: opt(listOf(ForZone), "Zones that should use this endpoint.", atomic),
  forNodes: opt(listOf(ForNode), "Nodes that should use this endpoint.", atomic),
});

export const Endpoint = object("io.k8s.api.discovery.v1.Endpoint", "One backend of a Service.", {
  addresses: req(listOf(string), "Addresses of the backend, of the slice's address type (in practice one).", { "x-kubernetes-list-type": "set" }),
  conditions: opt(EndpointConditions, "State of the backend."),
  hostname: opt(string, "Host name of the backend."),
  targetRef: opt(ObjectReference, "The pod behind the backend."),
  deprecatedTopology: opt(stringMap, "Deprecated; topology labels."),
  nodeName: opt(string, "Node the backend runs on."),
  zone: opt(string, "Zone the backend runs in."),
  hints: opt(EndpointHints, "Hints for topology-aware routing."),
});

export const DiscoveryEndpointPort = object(
  "io.k8s.api.discovery.v1.EndpointPort",
  "A port every endpoint of a slice serves.",
  {
    name: opt(string, "Name of the port, matching the Service port's."),
    protocol: opt(oneOf(PROTOCOLS), "TCP (the default), UDP or SCTP."),
    port: opt(int32, "Port number; empty means every port."),
    appProtocol: opt(string, "Application protocol of the port."),
  },
  { "x-kubernetes-map-type": "atomic" },
);

export const EndpointSlice = object(
  "io.k8s.api.discovery.v1.EndpointSlice",
  "A slice of a Service's backends. The label kubernetes.io/service-name names the Service; the endpoint slice controller keeps them for Services with a selector.",
  {
    apiVersion: opt(string, "API version of the object: discovery.k8s.io/v1."),
    kind: opt(string, "Kind of the object: EndpointSlice."),
    metadata: opt(ObjectMeta, "Standard object metadata."),
    addressType: req(oneOf(ADDRESS_TYPES), "Kind of the addresses in the slice: IPv4, IPv6 or FQDN. Cannot change."),
    endpoints: req(listOf(Endpoint), "The backends, at most 1000.", atomic),
    ports: opt(listOf(DiscoveryEndpointPort), "Ports every backend of the slice serves.", atomic),
  },
  gvk("discovery.k8s.io", "v1", "EndpointSlice"),
);
