/**
 * Ingress and IngressClass rules, as kube-apiserver's networking validation
 * (pkg/apis/networking/validation) words them.
 */
import type { StatusCause } from "../../status";
import { Causes, child, index } from "../causes";
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isValidIP, isValidPortName, isValidPortNum, maxLenError } from "../names";
import { arr, isObj, type Obj, obj, str } from "./json";

const WILDCARD_FMT = "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const WILDCARD = new RegExp(`^${WILDCARD_FMT}$`);
const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const HTTP_PATH = new RegExp(`^${HTTP_PATH_FMT}$`);

/** validation.IsWildcardDNS1123Subdomain: `*.` and a DNS subdomain. */
export const isWildcardDNS1123Subdomain = (value: string): string[] => {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLenError(253));
  if (!WILDCARD.test(value))
    errs.push(
      `a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '${WILDCARD_FMT}')`,
    );
  return errs;
};

/** A host of a rule or a TLS entry: a wildcard (`*.` first) or a plain DNS subdomain. */
const validateHost = (host: string, f: string, c: Causes) => {
  c.invalidEach(f, host, host.includes("*") ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host));
};

/** path.IsValidPathSegmentName */
const pathSegmentErrors = (name: string): string[] => {
  if (name === "." || name === "..") return [`may not be '${name}'`];
  return ["/", "%"].filter((s) => name.includes(s)).map((s) => `may not contain '${s}'`);
};

const validateTypedReference = (ref: Obj, f: string, c: Causes) => {
  if (typeof ref.apiGroup === "string") c.invalidEach(child(f, "apiGroup"), ref.apiGroup, isDNS1123Subdomain(ref.apiGroup));
  const kind = str(ref.kind);
  if (!kind) c.required(child(f, "kind"), "kind is required");
  else c.invalidEach(child(f, "kind"), kind, pathSegmentErrors(kind));
  const name = str(ref.name);
  if (!name) c.required(child(f, "name"), "name is required");
  else c.invalidEach(child(f, "name"), name, pathSegmentErrors(name));
};

/** validateIngressBackend: a Service (with a port name or number) or a resource, exactly one. */
export const validateIngressBackend = (b: unknown, f: string, c: Causes) => {
  const backend = obj(b);
  const hasService = isObj(backend.service);
  const hasResource = isObj(backend.resource);
  if (hasService && hasResource) {
    c.invalid(f, "", "cannot set both resource and service backends");
    return;
  }
  if (hasResource) {
    validateTypedReference(backend.resource, child(f, "resource"), c);
    return;
  }
  if (!hasService) {
    c.invalid(f, "", "resource or service backend is required");
    return;
  }
  const sf = child(f, "service");
  const name = str(backend.service.name);
  if (!name) c.required(child(sf, "name"));
  else c.invalidEach(child(sf, "name"), name, isDNS1035Label(name));
  const port = obj(backend.service.port);
  const pf = child(sf, "port");
  const hasName = str(port.name).length > 0;
  const hasNumber = typeof port.number === "number" && port.number !== 0;
  if (hasName && hasNumber) c.invalid(pf, "", "cannot set both port name & port number");
  else if (hasName) c.invalidEach(child(pf, "name"), port.name, isValidPortName(port.name));
  else if (hasNumber) c.invalidEach(child(pf, "number"), port.number, isValidPortNum(port.number));
  else c.required(pf, "port name or number is required");
};

const INVALID_SEQUENCES = ["//", "/./", "/../", "%2f", "%2F"];
const INVALID_SUFFIXES = ["/..", "/."];
export const SUPPORTED_PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"];

const validateHTTPIngressPath = (p: Obj, f: string, c: Causes) => {
  const path = str(p.path);
  const pf = child(f, "path");
  if (p.pathType === undefined || p.pathType === null) {
    c.required(child(f, "pathType"), "pathType must be specified");
    return;
  }
  switch (p.pathType) {
    case "Exact":
    case "Prefix":
      if (!path.startsWith("/")) c.invalid(pf, path, "must be an absolute path");
      if (path.length > 0) {
        for (const s of INVALID_SEQUENCES) if (path.includes(s)) c.invalid(pf, path, `must not contain '${s}'`);
        for (const s of INVALID_SUFFIXES) if (path.endsWith(s)) c.invalid(pf, path, `cannot end with '${s}'`);
      }
      break;
    case "ImplementationSpecific":
      if (path.length > 0 && !path.startsWith("/")) c.invalid(pf, path, "must be an absolute path");
      break;
    default:
      c.notSupported(child(f, "pathType"), p.pathType, SUPPORTED_PATH_TYPES);
  }
  validateIngressBackend(p.backend, child(f, "backend"), c);
};

/** ValidateIngressSpec (and the class annotation check of ValidateIngressCreate). */
export const validateIngress = (o: Obj, c: Causes) => {
  const spec = obj(o.spec);
  const f = "spec";
  const rules = arr(spec.rules);
  if (rules.length === 0 && !isObj(spec.defaultBackend)) c.invalid(f, spec.rules ?? null, "either `defaultBackend` or `rules` must be specified");
  if (isObj(spec.defaultBackend)) validateIngressBackend(spec.defaultBackend, child(f, "defaultBackend"), c);
  rules.forEach((r, i) => {
    const rule = obj(r);
    const rf = index(child(f, "rules"), i);
    const host = str(rule.host);
    if (host) {
      if (isValidIP(host)) c.invalid(child(rf, "host"), host, "must be a DNS name, not an IP address");
      validateHost(host, child(rf, "host"), c);
    }
    if (isObj(rule.http)) {
      const hf = child(rf, "http");
      const paths = arr(rule.http.paths);
      if (paths.length === 0) c.required(child(hf, "paths"));
      paths.forEach((p, j) => validateHTTPIngressPath(obj(p), index(child(hf, "paths"), j), c));
    }
  });
  arr(spec.tls).forEach((t, i) => {
    const tls = obj(t);
    const tf = index(child(f, "tls"), i);
    arr(tls.hosts).forEach((h, j) => validateHost(str(h), index(child(tf, "hosts"), j), c));
    const secret = str(tls.secretName);
    if (secret) c.invalidEach(child(tf, "secretName"), secret, isDNS1123Subdomain(secret));
  });
  if (typeof spec.ingressClassName === "string") c.invalidEach(child(f, "ingressClassName"), spec.ingressClassName, isDNS1123Subdomain(spec.ingressClassName));
};

/** ValidateIngressCreate's extra rule: the deprecated class annotation must agree with ingressClassName. */
export const validateIngressCreate = (o: Obj): StatusCause[] => {
  const c = new Causes();
  const annotation = obj(obj(o.metadata).annotations)[INGRESS_CLASS_ANNOTATION];
  const cls = obj(o.spec).ingressClassName;
  if (typeof annotation === "string" && typeof cls === "string" && annotation !== cls)
    c.invalid(`metadata.annotations[${INGRESS_CLASS_ANNOTATION}]`, annotation, "must match `ingressClassName` when both are specified");
  return c.list;
};

export const INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class";

/** validation.IsDomainPrefixedPath */
const validateDomainPrefixedPath = (v: string, f: string, c: Causes) => {
  if (!v) {
    c.required(f);
    return;
  }
  const slash = v.indexOf("/");
  const host = slash < 0 ? v : v.slice(0, slash);
  const path = slash < 0 ? "" : v.slice(slash + 1);
  if (slash < 0 || !host || !path) {
    c.invalid(f, v, 'must be a domain-prefixed path (such as "acme.io/foo")');
    return;
  }
  c.invalidEach(f, host, isDNS1123Subdomain(host));
  if (!HTTP_PATH.test(path)) c.invalid(f, path, `Invalid path (regex used for validation is '${HTTP_PATH_FMT}')`);
};

/** ValidateIngressClass: the controller (a domain-prefixed path, at most 250 characters) and the parameters reference. */
export const validateIngressClass = (o: Obj, c: Causes) => {
  const spec = obj(o.spec);
  const controller = str(spec.controller);
  if (controller.length > 250) c.tooLong("spec.controller", 250);
  validateDomainPrefixedPath(controller, "spec.controller", c);
  if (!isObj(spec.parameters)) return;
  const pf = "spec.parameters";
  const params = spec.parameters;
  validateTypedReference(params, pf, c);
  if (params.scope === undefined || params.scope === null) {
    c.required(child(pf, "scope"));
    return;
  }
  if (params.scope !== "Cluster" && params.scope !== "Namespace") c.notSupported(child(pf, "scope"), params.scope, ["Cluster", "Namespace"]);
  else if (params.scope === "Namespace") {
    if (typeof params.namespace !== "string") c.required(child(pf, "namespace"), "`parameters.scope` is set to 'Namespace'");
    else c.invalidEach(child(pf, "namespace"), params.namespace, isDNS1123Label(params.namespace));
  } else if (params.namespace !== undefined && params.namespace !== null) c.forbidden(child(pf, "namespace"), "`parameters.scope` is set to 'Cluster'");
};

/** ValidateIngressClassUpdate: the controller cannot change. */
export const validateIngressClassUpdate = (o: Obj, old: Obj): StatusCause[] => {
  const c = new Causes();
  const now = obj(o.spec).controller;
  if (now !== obj(old.spec).controller) c.invalid("spec.controller", now ?? "", "field is immutable");
  return c.list;
};
