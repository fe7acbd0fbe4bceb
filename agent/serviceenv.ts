/**
 * The service environment variables a container starts with, as kubelet makes them
 * (getServiceEnvVarMap and pkg/kubelet/envvars.FromServices): for every Service with a
 * ClusterIP in the pod's namespace (only with `enableServiceLinks`, default true) and
 * always for the `kubernetes` Service in `default`:
 *
 *   <NAME>_SERVICE_HOST=<clusterIP>            <NAME>_SERVICE_PORT=<first port>
 *   <NAME>_SERVICE_PORT_<PORTNAME>=<port>      (each named port)
 *   <NAME>_PORT=<proto>://<clusterIP>:<first port>
 *   <NAME>_PORT_<port>_<PROTO>=<proto>://<clusterIP>:<port>, and _PROTO, _PORT, _ADDR
 *
 * NAME is the Service name upper-cased with dashes as underscores. Headless and
 * ExternalName Services (no ClusterIP) give none. A Service of the pod's own namespace
 * wins over `default/kubernetes` for the name KUBERNETES.
 */
import type { KObject } from "../shared/types";

/** kubelet's masterServices: always projected from `default`. */
const MASTER_SERVICES = new Set(["kubernetes"]);

const envName = (s: string) => s.replaceAll("-", "_").toUpperCase();
const hostPort = (ip: string, port: number) => (ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`);
const ipSet = (svc: KObject) => !!svc.spec?.clusterIP && svc.spec.clusterIP !== "None";

/** envvars.FromServices for one Service, in kubelet's order. */
export const serviceVars = (svc: KObject): [string, string][] => {
  if (!ipSet(svc) || !svc.spec?.ports?.length) return [];
  const ip: string = svc.spec.clusterIP;
  const prefix = envName(svc.metadata.name!);
  const ports: any[] = svc.spec.ports;
  const out: [string, string][] = [
    [`${prefix}_SERVICE_HOST`, ip],
    [`${prefix}_SERVICE_PORT`, String(ports[0].port)],
  ];
  for (const p of ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port)]);
  ports.forEach((p, i) => {
    const proto = String(p.protocol || "TCP");
    const url = `${proto.toLowerCase()}://${hostPort(ip, p.port)}`;
    if (i === 0) out.push([`${prefix}_PORT`, url]);
    const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
    out.push([pp, url], [`${pp}_PROTO`, proto.toLowerCase()], [`${pp}_PORT`, String(p.port)], [`${pp}_ADDR`, ip]);
  });
  return out;
};

/**
 * kubelet's getServiceEnvVarMap: the variables of the Services the pod sees, as
 * NAME → value (Services in name order, so the result does not depend on list order).
 */
export const serviceEnv = (services: Iterable<KObject>, namespace: string, enableServiceLinks = true): Map<string, string> => {
  const chosen = new Map<string, KObject>();
  const local = new Set<string>();
  for (const s of services) {
    if (!ipSet(s)) continue;
    const name = s.metadata.name!;
    if (s.metadata.namespace === namespace && enableServiceLinks) {
      chosen.set(name, s);
      local.add(name);
    } else if (s.metadata.namespace === "default" && MASTER_SERVICES.has(name) && !local.has(name)) chosen.set(name, s);
  }
  const out = new Map<string, string>();
  for (const name of [...chosen.keys()].sort()) for (const [k, v] of serviceVars(chosen.get(name)!)) out.set(k, v);
  return out;
};
