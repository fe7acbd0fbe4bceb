import { describe, expect, it } from "vitest";
import type { KObject } from "../../shared/types";
import { buildRoutes, normalizeHost, ourClasses, route, secretForHost, servedBy } from "./routes";

let n = 0;
const ing = (spec: any, meta: Record<string, any> = {}): KObject => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: { name: `i${n++}`, namespace: "default", creationTimestamp: `2026-01-01T00:00:${String(n).padStart(2, "0")}Z`, ...meta },
  spec,
});
const be = (name: string) => ({ service: { name, port: { number: 80 } } });
const paths = (...ps: [string, string, string][]) => ({ paths: ps.map(([path, pathType, svc]) => ({ path, pathType, backend: be(svc) })) });
const to = (t: ReturnType<typeof buildRoutes>, host: string, path: string) => route(t, host, path)?.service ?? null;

describe("path matching (the Ingress docs' examples table)", () => {
  const one = (pathType: string, path: string) => buildRoutes([ing({ rules: [{ http: paths([path, pathType, "s"]) }] })]);
  it.each([
    ["Prefix", "/", "/aaa/bbb", true],
    ["Prefix", "/", "/", true],
    ["Exact", "/foo", "/foo", true],
    ["Exact", "/foo", "/bar", false],
    ["Exact", "/foo", "/foo/", false],
    ["Exact", "/foo/", "/foo", false],
    ["Prefix", "/foo", "/foo", true],
    ["Prefix", "/foo", "/foo/", true],
    ["Prefix", "/foo/", "/foo", true],
    ["Prefix", "/foo/", "/foo/", true],
    ["Prefix", "/aaa/bb", "/aaa/bbb", false],
    ["Prefix", "/aaa/bbb", "/aaa/bbb", true],
    ["Prefix", "/aaa/bbb/", "/aaa/bbb", true],
    ["Prefix", "/aaa/bbb", "/aaa/bbb/", true],
    ["Prefix", "/aaa/bbb", "/aaa/bbb/ccc", true],
    ["Prefix", "/aaa/bbb", "/aaa/bbbxyz", false],
    ["Prefix", "/foo", "/foobar", false],
    ["Prefix", "/foo", "/foo/bar?x=1", true],
    ["ImplementationSpecific", "/foo", "/foo/bar", true],
    ["ImplementationSpecific", "/foo", "/foobar", false],
  ])("%s %s, request %s: %s", (pathType, path, req, matches) => {
    expect(to(one(pathType, path), "any.host", req)).toBe(matches ? "s" : null);
  });

  it("the longest match wins; Exact over Prefix of the same path; / catches the rest", () => {
    const t = buildRoutes([
      ing({ rules: [{ http: paths(["/", "Prefix", "root"], ["/aaa", "Prefix", "a"], ["/aaa/bbb", "Prefix", "ab"], ["/aaa", "Exact", "exact"]) }] }),
    ]);
    expect(to(t, "h", "/aaa/bbb/c")).toBe("ab");
    expect(to(t, "h", "/aaa/bb")).toBe("a");
    expect(to(t, "h", "/aaa")).toBe("exact");
    expect(to(t, "h", "/aaa/")).toBe("a");
    expect(to(t, "h", "/zzz")).toBe("root");
  });
});

describe("host matching and the default backend", () => {
  const t = buildRoutes([
    ing({
      defaultBackend: be("fallback"),
      rules: [
        { host: "kubia.example.com", http: paths(["/kubia", "Prefix", "kubia"], ["/foo", "Prefix", "bar"]) },
        { host: "*.example.com", http: paths(["/", "Prefix", "wild"]) },
        { http: paths(["/any", "Prefix", "anyhost"]) },
      ],
    }),
    ing({ defaultBackend: be("younger") }),
  ]);
  it("exact host, then a wildcard of exactly one label, then host-less rules, then the default backend", () => {
    expect(to(t, "kubia.example.com", "/kubia/x")).toBe("kubia");
    expect(to(t, "KUBIA.example.com:8080", "/foo")).toBe("bar");
    expect(to(t, "kubia.example.com", "/other")).toBe("wild"); // no path of the exact host matched: the wildcard's
    expect(to(t, "a.example.com", "/x")).toBe("wild");
    expect(to(t, "a.b.example.com", "/x")).toBe("fallback");
    expect(to(t, "example.com", "/x")).toBe("fallback");
    expect(to(t, "other.org", "/any/thing")).toBe("anyhost");
    expect(to(t, "other.org", "/")).toBe("fallback"); // the oldest Ingress's default backend
    expect(route(buildRoutes([ing({ rules: [{ host: "a.b", http: paths(["/", "Prefix", "x"]) }] })]), "c.d", "/")).toBeNull();
  });
  it("Host header forms", () => {
    expect(normalizeHost("Example.COM.:443")).toBe("example.com");
    expect(normalizeHost("[::1]:80")).toBe("[::1]");
  });
});

describe("classes and TLS", () => {
  const classes = [
    { metadata: { name: "kubeflare", annotations: { "ingressclass.kubernetes.io/is-default-class": "true" } }, spec: { controller: "kubeflare.dev/ingress" } },
    { metadata: { name: "nginx" }, spec: { controller: "k8s.io/ingress-nginx" } },
  ] as KObject[];
  it("serves its classes and, as the default, Ingresses naming none", () => {
    const ours = ourClasses(classes);
    expect(servedBy(ing({}, { name: "a" }), ours)).toBe(true);
    expect(servedBy(ing({ ingressClassName: "kubeflare" }), ours)).toBe(true);
    expect(servedBy(ing({ ingressClassName: "nginx" }), ours)).toBe(false);
    expect(servedBy(ing({}, { annotations: { "kubernetes.io/ingress.class": "nginx" } }), ours)).toBe(false);
    expect(servedBy(ing({}), ourClasses([classes[1]]))).toBe(false);
  });
  it("picks the Secret by SNI: exact host, wildcard, then an entry without hosts", () => {
    const t = buildRoutes([
      ing({
        tls: [
          { hosts: ["kubia.example.com"], secretName: "kubia" },
          { hosts: ["*.example.com"], secretName: "wild" },
        ],
      }),
      ing({ tls: [{ secretName: "catchall" }] }, { namespace: "other" }),
    ]);
    expect(secretForHost(t, "kubia.example.com")).toBe("default/kubia");
    expect(secretForHost(t, "x.example.com")).toBe("default/wild");
    expect(secretForHost(t, "elsewhere.org")).toBe("other/catchall");
  });
});
