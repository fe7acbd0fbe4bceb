/** Rules of the smaller kinds: Node, Namespace, Lease, Event, Endpoints, EndpointSlice. */
import { isQuantity, parseQuantity } from "../../quantity";
import { type Causes, child, index, key } from "../causes";
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidIP, isValidLabelValue, isValidPortNum } from "../names";
import { arr, isNum, isObj, type Obj, obj, str } from "./json";
import { validateFinalizerName } from "./meta";

const validateResourceList = (list: unknown, field: string, c: Causes) => {
  for (const [name, q] of Object.entries(obj(list))) {
    const f = key(field, name);
    c.invalidEach(f, name, isQualifiedName(name));
    if (isQuantity(q) && parseQuantity(q as string) < 0) c.invalid(f, String(q), "must be greater than or equal to 0");
  }
};

export const validateNode = (node: Obj, c: Causes) => {
  const status = obj(node.status);
  validateResourceList(status.capacity, "status.capacity", c);
  validateResourceList(status.allocatable, "status.allocatable", c);
  const unique = new Set<string>();
  arr(obj(node.spec).taints).forEach((t, i) => {
    if (!isObj(t)) return;
    const f = index("spec.taints", i);
    c.invalidEach(child(f, "key"), str(t.key), isQualifiedName(str(t.key)));
    const valueErrs = isValidLabelValue(str(t.value));
    if (valueErrs.length) c.invalid(child(f, "value"), str(t.value), valueErrs.join(";"));
    const effect = str(t.effect);
    if (!effect) c.required(child(f, "effect"));
    else if (!["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(effect))
      c.notSupported(child(f, "effect"), effect, ["NoSchedule", "PreferNoSchedule", "NoExecute"]);
    const k = `${effect}/${str(t.key)}`;
    if (unique.has(k)) c.duplicate(f, t, "taints must be unique by key and effect pair");
    unique.add(k);
  });
};

export const validateNamespace = (ns: Obj, c: Causes) => {
  for (const f of arr(obj(ns.spec).finalizers)) if (typeof f === "string") validateFinalizerName(f, "spec.finalizers", c);
};

export const validateLease = (lease: Obj, c: Causes) => {
  const spec = obj(lease.spec);
  if (isNum(spec.leaseDurationSeconds) && spec.leaseDurationSeconds <= 0)
    c.invalid("spec.leaseDurationSeconds", spec.leaseDurationSeconds, "must be greater than 0");
  if (isNum(spec.leaseTransitions) && spec.leaseTransitions < 0)
    c.invalid("spec.leaseTransitions", spec.leaseTransitions, "must be greater than or equal to 0");
  if (str(spec.preferredHolder) && !str(spec.strategy)) c.forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined");
};

export const validateEvent = (event: Obj, c: Causes) => {
  if (!isObj(event.involvedObject)) {
    c.required("involvedObject");
    return;
  }
  const involvedNamespace = str(event.involvedObject.namespace);
  const namespace = str(obj(event.metadata).namespace);
  if (involvedNamespace && namespace && involvedNamespace !== namespace)
    c.invalid("involvedObject.namespace", involvedNamespace, "does not match event.namespace");
};

const validateEndpointPorts = (ports: unknown[], field: string, c: Causes) => {
  ports.forEach((p, i) => {
    if (!isObj(p)) return;
    const f = index(field, i);
    const name = str(p.name);
    if (ports.length > 1 && !name) c.required(child(f, "name"));
    else if (name) c.invalidEach(child(f, "name"), name, isDNS1123Label(name));
    c.invalidEach(child(f, "port"), isNum(p.port) ? p.port : 0, isValidPortNum(isNum(p.port) ? p.port : 0));
  });
};

export const validateEndpoints = (ep: Obj, c: Causes) => {
  arr(ep.subsets).forEach((s, i) => {
    if (!isObj(s)) return;
    const f = index("subsets", i);
    const addresses = arr(s.addresses);
    const notReady = arr(s.notReadyAddresses);
    if (addresses.length === 0 && notReady.length === 0) c.required(f, "must specify `addresses` or `notReadyAddresses`");
    for (const [list, items] of [
      ["addresses", addresses],
      ["notReadyAddresses", notReady],
    ] as const) {
      items.forEach((a, j) => {
        if (!isObj(a)) return;
        const af = index(child(f, list), j);
        if (!isValidIP(str(a.ip))) c.invalid(child(af, "ip"), str(a.ip), "must be a valid IP address");
        if (str(a.hostname)) c.invalidEach(child(af, "hostname"), str(a.hostname), isDNS1123Label(str(a.hostname)));
        if (str(a.nodeName)) c.invalidEach(child(af, "nodeName"), str(a.nodeName), isDNS1123Subdomain(str(a.nodeName)));
      });
    }
    validateEndpointPorts(arr(s.ports), child(f, "ports"), c);
  });
};

export const validateEndpointSlice = (slice: Obj, c: Causes) => {
  const endpoints = arr(slice.endpoints);
  if (endpoints.length > 1000) c.tooMany("endpoints", endpoints.length, 1000);
  endpoints.forEach((e, i) => {
    if (!isObj(e)) return;
    const f = index("endpoints", i);
    const addresses = arr(e.addresses);
    if (addresses.length === 0) c.required(child(f, "addresses"), "must contain at least 1 address");
    if (slice.addressType === "IPv4" || slice.addressType === "IPv6") {
      addresses.forEach((a, j) => {
        if (typeof a === "string" && !isValidIP(a)) c.invalid(index(child(f, "addresses"), j), a, "must be a valid IP address");
      });
    }
  });
  const ports = arr(slice.ports);
  if (ports.length > 20000) c.tooMany("ports", ports.length, 20000);
  ports.forEach((p, i) => {
    if (isObj(p) && isNum(p.port)) c.invalidEach(child(index("ports", i), "port"), p.port, isValidPortNum(p.port));
  });
};
