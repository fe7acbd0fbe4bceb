import { describe, expect, it } from "vitest";
import { semanticCauses } from "./index";

const ing = (spec: Record<string, unknown>, annotations?: Record<string, string>) => ({
  metadata: { name: "i", namespace: "default", ...(annotations ? { annotations } : {}) },
  spec,
});
const svc = (name = "web", port: Record<string, unknown> = { number: 80 }) => ({ service: { name, port } });
const fields = (kind: string, o: unknown) => semanticCauses(kind, kind === "Ingress", o).map((c) => `${c.field}: ${c.message}`);

describe("Ingress validation (kube's networking rules)", () => {
  it("hosts: DNS names, wildcard only as a leading '*.', never an IP", () => {
    const rule = (host: string) => ({ host, http: { paths: [{ path: "/", pathType: "Prefix", backend: svc() }] } });
    expect(fields("Ingress", ing({ rules: [rule("a.example.com"), rule("*.example.com")] }))).toEqual([]);
    expect(fields("Ingress", ing({ rules: [rule("a.*.com")] }))[0]).toMatch(/^spec.rules\[0\].host: Invalid value: "a.\*.com": a wildcard DNS-1123 subdomain/);
    expect(fields("Ingress", ing({ rules: [rule("*")] }))).toHaveLength(1);
    expect(fields("Ingress", ing({ rules: [rule("10.0.0.1")] }))).toContain(
      'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
    );
  });

  it("paths: pathType required and supported, absolute clean paths for Exact and Prefix", () => {
    const p = (path: string | undefined, pathType?: string) => ing({ rules: [{ http: { paths: [{ path, pathType, backend: svc() }] } }] });
    expect(fields("Ingress", p("/a", undefined))).toEqual(["spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"]);
    expect(fields("Ingress", p("/a", "Regex"))).toEqual([
      'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
    ]);
    expect(fields("Ingress", p("a", "Exact"))).toEqual(['spec.rules[0].http.paths[0].path: Invalid value: "a": must be an absolute path']);
    expect(fields("Ingress", p("/a/..", "Prefix"))).toEqual(["spec.rules[0].http.paths[0].path: Invalid value: \"/a/..\": cannot end with '/..'"]);
    expect(fields("Ingress", p("/a%2Fb", "Prefix"))).toEqual(["spec.rules[0].http.paths[0].path: Invalid value: \"/a%2Fb\": must not contain '%2F'"]);
    expect(fields("Ingress", p(undefined, "ImplementationSpecific"))).toEqual([]);
    expect(fields("Ingress", ing({ rules: [{ host: "a.b", http: { paths: [] } }] }))).toEqual(["spec.rules[0].http.paths: Required value"]);
  });

  it("backends: a service with a port name or number, or a resource; exactly one", () => {
    expect(fields("Ingress", ing({ defaultBackend: svc("web", { name: "http", number: 80 }) }))).toEqual([
      'spec.defaultBackend.service.port: Invalid value: "": cannot set both port name & port number',
    ]);
    expect(fields("Ingress", ing({ defaultBackend: svc("Web") }))[0]).toMatch(/^spec.defaultBackend.service.name: Invalid value: "Web": a DNS-1035 label/);
    expect(fields("Ingress", ing({ defaultBackend: { ...svc(), resource: { kind: "K", name: "n" } } }))).toEqual([
      'spec.defaultBackend: Invalid value: "": cannot set both resource and service backends',
    ]);
    expect(fields("Ingress", ing({ defaultBackend: {} }))).toEqual(['spec.defaultBackend: Invalid value: "": resource or service backend is required']);
    expect(fields("Ingress", ing({ defaultBackend: svc("web", { number: 70000 }) }))[0]).toMatch(
      /^spec.defaultBackend.service.port.number: Invalid value: 70000/,
    );
    expect(fields("Ingress", ing({}))).toEqual(["spec: Invalid value: null: either `defaultBackend` or `rules` must be specified"]);
  });

  it("tls, the class name, and the deprecated class annotation", () => {
    expect(fields("Ingress", ing({ defaultBackend: svc(), tls: [{ hosts: ["*.a.com", "b_c"], secretName: "Bad" }] })).map((f) => f.split(":")[0])).toEqual([
      "spec.tls[0].hosts[1]",
      "spec.tls[0].secretName",
    ]);
    expect(fields("Ingress", ing({ defaultBackend: svc(), ingressClassName: "x" }, { "kubernetes.io/ingress.class": "y" }))).toEqual([
      'metadata.annotations[kubernetes.io/ingress.class]: Invalid value: "y": must match `ingressClassName` when both are specified',
    ]);
  });
});

describe("IngressClass validation", () => {
  const ic = (spec: Record<string, unknown>) => ({ metadata: { name: "c" }, spec });
  it("controller: a domain-prefixed path; parameters' scope and namespace agree", () => {
    expect(fields("IngressClass", ic({ controller: "kubeflare.dev/ingress" }))).toEqual([]);
    expect(fields("IngressClass", ic({}))).toEqual(["spec.controller: Required value"]);
    expect(fields("IngressClass", ic({ controller: "nginx" }))).toEqual([
      'spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")',
    ]);
    const params = (p: Record<string, unknown>) => ic({ controller: "a.io/b", parameters: { kind: "K", name: "n", ...p } });
    expect(fields("IngressClass", params({ scope: "Namespace" }))).toEqual([
      "spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'",
    ]);
    expect(fields("IngressClass", params({ scope: "Cluster", namespace: "x" }))).toEqual([
      "spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'",
    ]);
    expect(fields("IngressClass", params({ scope: "World" }))[0]).toMatch(/Unsupported value: "World"/);
  });
});
