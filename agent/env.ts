/**
 * A container's environment, as kubelet's makeEnvironmentVariables builds it: `envFrom`
 * (ConfigMaps and Secrets, with a prefix) first, then `env` in order, each either a
 * value or a reference (a pod field, a ConfigMap or Secret key, a resource of the
 * container); a later definition of a name replaces an earlier one. A `value` has its
 * `$(NAME)` references expanded (expansion.ts) against what is defined so far (envFrom
 * and the earlier `env` entries), then the service environment; values from references
 * are taken as they are. A missing required ConfigMap, Secret or key is a ConfigError:
 * the container waits with CreateContainerConfigError. The service environment
 * (serviceenv.ts: KUBERNETES_SERVICE_HOST, the Docker-links-style variables) follows,
 * less the names the container sets itself.
 */
import { milliValue, value } from "../shared/quantity";
import type { KObject } from "../shared/types";
import type { ApiClient } from "./api";
import { expand, mappingFor } from "./expansion";
import { serviceEnv } from "./serviceenv";

/** The container's configuration can't be made yet (kubelet's CreateContainerConfigError). */
export class ConfigError extends Error {}

/**
 * `NAME=value` lines for the container `c` of `pod`, running with `podIP` on `hostIP`.
 * `services`: the cluster's Services for the service environment (null: not listed yet,
 * a ConfigError as in kubelet; undefined: no service environment).
 */
export const containerEnv = async (
  api: Pick<ApiClient, "find">,
  pod: KObject,
  c: any,
  podIP: string,
  hostIP: string,
  services?: Iterable<KObject> | null,
): Promise<string[]> => {
  const ns = pod.metadata.namespace!;
  if (services === null) throw new ConfigError("services have not yet been read at least once, cannot construct envvars");
  // kubelet's tmpEnv: a name defined again keeps its place and takes the new value
  const vars = new Map<string, string>();
  const svcEnv = new Map(services ? serviceEnv(services, ns, pod.spec?.enableServiceLinks ?? true) : []);
  const cache = new Map<string, KObject | null>();
  const fetchObj = async (kind: "configmaps" | "secrets", name: string) => {
    const k = `${kind}/${name}`;
    if (!cache.has(k)) cache.set(k, await api.find(`/api/v1/namespaces/${ns}/${kind}/${name}`));
    return cache.get(k)!;
  };
  const decode = (kind: string, v: string) => (kind === "secrets" ? Buffer.from(v, "base64").toString("utf8") : v);
  for (const src of c.envFrom ?? []) {
    const kind = src.configMapRef ? "configmaps" : "secrets";
    const ref = src.configMapRef ?? src.secretRef;
    const obj = await fetchObj(kind, ref.name);
    if (!obj) {
      if (ref.optional) continue;
      throw new ConfigError(`${kind === "configmaps" ? "configmap" : "secret"} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) vars.set(`${src.prefix ?? ""}${k}`, decode(kind, v));
  }
  // what is defined so far, then the service environment
  const mapping = mappingFor(vars, svcEnv);
  for (const e of c.env ?? []) {
    if (typeof e.value === "string" && e.value !== "") {
      vars.set(e.name, expand(e.value, mapping));
      continue;
    }
    const f = e.valueFrom;
    if (!f) {
      vars.set(e.name, "");
    } else if (f.fieldRef) {
      vars.set(e.name, fieldRef(pod, f.fieldRef.fieldPath, podIP, hostIP));
    } else if (f.configMapKeyRef || f.secretKeyRef) {
      const kind = f.configMapKeyRef ? "configmaps" : "secrets";
      const ref = f.configMapKeyRef ?? f.secretKeyRef;
      const obj = await fetchObj(kind, ref.name);
      const v = obj?.data?.[ref.key];
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ConfigError(
          obj
            ? `couldn't find key ${ref.key} in ${kind === "configmaps" ? "ConfigMap" : "Secret"} ${ns}/${ref.name}`
            : `${kind === "configmaps" ? "configmap" : "secret"} "${ref.name}" not found`,
        );
      }
      vars.set(e.name, decode(kind, v));
    } else if (f.resourceFieldRef) {
      const [kind, res] = String(f.resourceFieldRef.resource).split(".");
      const q = c.resources?.[kind]?.[res];
      vars.set(e.name, q === undefined ? "" : String(res === "cpu" ? Math.ceil(milliValue(q) / 1000) : value(q)));
    }
  }
  const out = [...vars].map(([k, v]) => `${k}=${v}`);
  for (const [k, v] of svcEnv) if (!vars.has(k)) out.push(`${k}=${v}`);
  return out;
};

/** A downward-API field of the pod (`fieldRef.fieldPath`); unknown paths read as "". */
const fieldRef = (pod: KObject, path: string, podIP: string, hostIP: string): string => {
  const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (label) return (pod.metadata as any)[label[1]]?.[label[2]] ?? "";
  switch (path) {
    case "metadata.name":
      return pod.metadata.name ?? "";
    case "metadata.namespace":
      return pod.metadata.namespace ?? "";
    case "metadata.uid":
      return pod.metadata.uid ?? "";
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.podIP":
      return podIP;
    case "status.hostIP":
      return hostIP;
    default:
      return "";
  }
};
