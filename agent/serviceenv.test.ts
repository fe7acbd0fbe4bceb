import { describe, expect, it } from "vitest";
import { ConfigError, containerEnv } from "./env";
import { serviceEnv } from "./serviceenv";

const svc = (ns: string, name: string, spec: any) => ({ metadata: { namespace: ns, name }, spec });
const SERVICES = [
  svc("default", "kubernetes", { clusterIP: "10.43.0.1", ports: [{ name: "https", port: 443, protocol: "TCP" }] }),
  svc("shop", "web-front", {
    clusterIP: "10.43.0.20",
    ports: [
      { name: "http", port: 80, protocol: "TCP" },
      { name: "metrics-udp", port: 9125, protocol: "UDP" },
    ],
  }),
  svc("shop", "db", { clusterIP: "None", ports: [{ port: 5432 }] }),
  svc("shop", "ext", { type: "ExternalName", externalName: "example.test" }),
  svc("other", "elsewhere", { clusterIP: "10.43.0.30", ports: [{ port: 1 }] }),
];

describe("service environment variables (kubelet's envvars.FromServices)", () => {
  it("Docker-links-style variables for every Service with a ClusterIP in the namespace, plus default/kubernetes", () => {
    const env = serviceEnv(SERVICES, "shop");
    expect(Object.fromEntries(env)).toEqual({
      KUBERNETES_SERVICE_HOST: "10.43.0.1",
      KUBERNETES_SERVICE_PORT: "443",
      KUBERNETES_SERVICE_PORT_HTTPS: "443",
      KUBERNETES_PORT: "tcp://10.43.0.1:443",
      KUBERNETES_PORT_443_TCP: "tcp://10.43.0.1:443",
      KUBERNETES_PORT_443_TCP_PROTO: "tcp",
      KUBERNETES_PORT_443_TCP_PORT: "443",
      KUBERNETES_PORT_443_TCP_ADDR: "10.43.0.1",
      WEB_FRONT_SERVICE_HOST: "10.43.0.20",
      WEB_FRONT_SERVICE_PORT: "80",
      WEB_FRONT_SERVICE_PORT_HTTP: "80",
      WEB_FRONT_SERVICE_PORT_METRICS_UDP: "9125",
      WEB_FRONT_PORT: "tcp://10.43.0.20:80",
      WEB_FRONT_PORT_80_TCP: "tcp://10.43.0.20:80",
      WEB_FRONT_PORT_80_TCP_PROTO: "tcp",
      WEB_FRONT_PORT_80_TCP_PORT: "80",
      WEB_FRONT_PORT_80_TCP_ADDR: "10.43.0.20",
      WEB_FRONT_PORT_9125_UDP: "udp://10.43.0.20:9125",
      WEB_FRONT_PORT_9125_UDP_PROTO: "udp",
      WEB_FRONT_PORT_9125_UDP_PORT: "9125",
      WEB_FRONT_PORT_9125_UDP_ADDR: "10.43.0.20",
    });
    // kubelet's order within a Service
    expect([...env.keys()].filter((k) => k.startsWith("WEB_FRONT")).slice(0, 5)).toEqual([
      "WEB_FRONT_SERVICE_HOST",
      "WEB_FRONT_SERVICE_PORT",
      "WEB_FRONT_SERVICE_PORT_HTTP",
      "WEB_FRONT_SERVICE_PORT_METRICS_UDP",
      "WEB_FRONT_PORT",
    ]);
  });

  it("enableServiceLinks: false keeps only the kubernetes Service; a local 'kubernetes' Service wins over default's", () => {
    expect([...serviceEnv(SERVICES, "shop", false).keys()].every((k) => k.startsWith("KUBERNETES_"))).toBe(true);
    const local = [...SERVICES, svc("shop", "kubernetes", { clusterIP: "10.43.0.99", ports: [{ port: 8443 }] })];
    expect(serviceEnv(local, "shop").get("KUBERNETES_SERVICE_HOST")).toBe("10.43.0.99");
    expect(serviceEnv(local.slice().reverse(), "shop").get("KUBERNETES_SERVICE_HOST")).toBe("10.43.0.99");
    expect(serviceEnv(local, "shop", false).get("KUBERNETES_SERVICE_HOST")).toBe("10.43.0.1");
  });

  it("containerEnv appends them after the container's own env, which overrides them", async () => {
    const api = { find: async () => null };
    const pod = { metadata: { name: "p", namespace: "shop" }, spec: { containers: [] } };
    const c = {
      name: "c",
      env: [
        { name: "WEB_FRONT_SERVICE_HOST", value: "mine" },
        { name: "A", value: "1" },
      ],
    };
    const env = await containerEnv(api, pod, c, "10.42.0.5", "192.0.2.1", SERVICES);
    expect(env.slice(0, 2)).toEqual(["WEB_FRONT_SERVICE_HOST=mine", "A=1"]);
    expect(env).toContain("KUBERNETES_SERVICE_HOST=10.43.0.1");
    expect(env).toContain("WEB_FRONT_PORT_80_TCP=tcp://10.43.0.20:80");
    expect(env.filter((l) => l.startsWith("WEB_FRONT_SERVICE_HOST="))).toEqual(["WEB_FRONT_SERVICE_HOST=mine"]);
    const noLinks = await containerEnv(api, { ...pod, spec: { enableServiceLinks: false } }, c, "", "", SERVICES);
    expect(noLinks.some((l) => l.startsWith("WEB_FRONT_PORT="))).toBe(false);
    // Services not listed yet: the container waits (CreateContainerConfigError), as in kubelet
    await expect(containerEnv(api, pod, c, "", "", null)).rejects.toBeInstanceOf(ConfigError);
  });
});
