/**
 * NetworkPolicy rules, as kube-apiserver's ValidateNetworkPolicy
 * (pkg/apis/networking/validation) words them: policy types, ports (protocol, a number
 * or a name, endPort only after a numeric port and not below it), peers (selectors, or
 * an ipBlock alone whose excepts are strict subsets of its cidr).
 */
import { parseIPNet, strictSubnet } from "../../net/ipnet";
import { type Causes, child, index } from "../causes";
import { isValidPortNum } from "../names";
import { arr, isObj, type Obj, obj, str } from "./json";
import { validateLabelSelector } from "./meta";
import { validatePortNumOrName } from "./pod";

const PROTOCOLS = ["TCP", "UDP", "SCTP"];
const POLICY_TYPES = ["Ingress", "Egress"];
const CIDR_MESSAGE = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

/** ValidateNetworkPolicyPort */
export const validateNetworkPolicyPort = (p: Obj, f: string, c: Causes) => {
  if (p.protocol !== undefined && p.protocol !== null && !PROTOCOLS.includes(p.protocol)) c.notSupported(child(f, "protocol"), p.protocol, PROTOCOLS);
  const hasEnd = p.endPort !== undefined && p.endPort !== null;
  if (p.port === undefined || p.port === null) {
    if (hasEnd) c.invalid(child(f, "endPort"), p.endPort, "may not be specified when `port` is not specified");
    return;
  }
  const numeric = typeof p.port === "number";
  if (hasEnd && !numeric) c.invalid(child(f, "endPort"), p.endPort, "may not be specified when `port` is non-numeric");
  // a number or a name (the type check has refused anything else)
  validatePortNumOrName(p.port, child(f, "port"), c);
  if (hasEnd && numeric) {
    if (p.endPort < p.port) c.invalid(child(f, "endPort"), p.endPort, "must be greater than or equal to `port`");
    c.invalidEach(child(f, "endPort"), p.endPort, isValidPortNum(p.endPort));
  }
};

/** ValidateIPBlock: a CIDR (either family), and excepts that are strict subsets of it. */
export const validateIPBlock = (b: Obj, f: string, c: Causes) => {
  const cidr = str(b.cidr);
  if (!cidr) {
    c.required(child(f, "cidr"));
    return;
  }
  const net = parseIPNet(cidr);
  if (!net) {
    c.invalid(child(f, "cidr"), cidr, CIDR_MESSAGE);
    return;
  }
  arr(b.except).forEach((e, i) => {
    const ef = index(child(f, "except"), i);
    const ex = parseIPNet(str(e));
    if (!ex) c.invalid(ef, e, CIDR_MESSAGE);
    else if (!strictSubnet(net, ex)) c.invalid(ef, e, "must be a strict subset of `cidr`");
  });
};

/** ValidateNetworkPolicyPeer: at least one of the three, and ipBlock alone. */
export const validateNetworkPolicyPeer = (p: Obj, f: string, c: Causes) => {
  let n = 0;
  if (isObj(p.podSelector)) {
    n++;
    validateLabelSelector(p.podSelector, child(f, "podSelector"), c);
  }
  if (isObj(p.namespaceSelector)) {
    n++;
    validateLabelSelector(p.namespaceSelector, child(f, "namespaceSelector"), c);
  }
  if (isObj(p.ipBlock)) {
    n++;
    validateIPBlock(p.ipBlock, child(f, "ipBlock"), c);
  }
  if (n === 0) c.required(f, "must specify a peer");
  else if (n > 1 && isObj(p.ipBlock)) c.forbidden(f, "may not specify both ipBlock and another peer");
};

/** ValidateNetworkPolicySpec */
export const validateNetworkPolicy = (o: Obj, c: Causes) => {
  const spec = obj(o.spec);
  validateLabelSelector(spec.podSelector, "spec.podSelector", c);
  for (const [dir, peers] of [
    ["ingress", "from"],
    ["egress", "to"],
  ] as const) {
    arr(spec[dir]).forEach((r, i) => {
      const rf = index(child("spec", dir), i);
      const rule = obj(r);
      arr(rule.ports).forEach((p, j) => validateNetworkPolicyPort(obj(p), index(child(rf, "ports"), j), c));
      arr(rule[peers]).forEach((p, j) => validateNetworkPolicyPeer(obj(p), index(child(rf, peers), j), c));
    });
  }
  const types = arr(spec.policyTypes);
  if (types.length > POLICY_TYPES.length) {
    c.invalid("spec.policyTypes", types, "may not specify more than two policyTypes");
    return;
  }
  types.forEach((t, i) => {
    if (!POLICY_TYPES.includes(t as string)) c.notSupported(index("spec.policyTypes", i), t, POLICY_TYPES);
  });
};
