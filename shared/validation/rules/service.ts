/** Service rules (core ValidateService). */
import { type Causes, child, index } from "../causes";
import { isDNS1123Label, isDNS1123Subdomain, isValidIP, isValidPortNum } from "../names";
import { arr, isNum, isObj, type Obj, obj, str } from "./json";
import { validateLabels } from "./meta";
import { validatePortNumOrName } from "./pod";

const KUBELET_PORT = 10250;
const NODE_PORT_RANGE = [30000, 32767] as const;

const validateServicePort = (p: Obj, requireName: boolean, names: Set<string>, f: string, c: Causes) => {
  const name = str(p.name);
  if (requireName && !name) c.required(child(f, "name"));
  else if (name) {
    c.invalidEach(child(f, "name"), name, isDNS1123Label(name));
    if (names.has(name)) c.duplicate(child(f, "name"), name);
    else names.add(name);
  }
  const port = isNum(p.port) ? p.port : 0;
  c.invalidEach(child(f, "port"), port, isValidPortNum(port));
  validatePortNumOrName(p.targetPort, child(f, "targetPort"), c);
};

export const validateServiceSpec = (specValue: unknown, c: Causes) => {
  const spec = obj(specValue);
  const type = str(spec.type);
  const headless = spec.clusterIP === "None";
  const ports = arr(spec.ports).filter(isObj);
  if (ports.length === 0 && !headless && type !== "ExternalName") c.required("spec.ports");

  switch (type) {
    case "LoadBalancer":
      if (headless) c.invalid("spec.clusterIPs[0]", "None", "may not be set to 'None' for LoadBalancer services");
      ports.forEach((p, i) => {
        if (p.port === KUBELET_PORT) c.invalid(index("spec.ports", i), p.port, `may not expose port ${KUBELET_PORT} externally since it is used by kubelet`);
      });
      break;
    case "NodePort":
      if (headless) c.invalid("spec.clusterIPs[0]", "None", "may not be set to 'None' for NodePort services");
      break;
    case "ExternalName": {
      if (arr(spec.clusterIPs).length > 0) c.forbidden("spec.clusterIPs", "may not be set for ExternalName services");
      if (arr(spec.ipFamilies).length > 0) c.forbidden("spec.ipFamilies", "may not be set for ExternalName services");
      if (spec.ipFamilyPolicy !== undefined) c.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services");
      const cname = str(spec.externalName).replace(/\.$/, "");
      if (cname) c.invalidEach("spec.externalName", cname, isDNS1123Subdomain(cname));
      else c.required("spec.externalName");
      break;
    }
  }

  const names = new Set<string>();
  ports.forEach((p, i) => validateServicePort(p, ports.length > 1, names, index("spec.ports", i), c));

  const clusterIP = str(spec.clusterIP);
  if (clusterIP && clusterIP !== "None" && !isValidIP(clusterIP))
    c.invalid("spec.clusterIPs[0]", clusterIP, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
  arr(spec.externalIPs).forEach((ip, i) => {
    if (typeof ip === "string" && !isValidIP(ip)) c.invalid(index("spec.externalIPs", i), ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
  });

  const external = type === "NodePort" || type === "LoadBalancer";
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    const f = index("spec.ports", i);
    if (!isNum(p.nodePort) || p.nodePort === 0) return;
    if (!external) {
      c.forbidden(child(f, "nodePort"), `may not be used when \`type\` is '${type}'`);
      return;
    }
    if (p.nodePort < NODE_PORT_RANGE[0] || p.nodePort > NODE_PORT_RANGE[1]) {
      c.invalid(
        child(f, "nodePort"),
        p.nodePort,
        `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE[0]}-${NODE_PORT_RANGE[1]}`,
      );
    }
    const k = `${str(p.protocol)}/${p.nodePort}`;
    if (nodePorts.has(k)) c.duplicate(child(f, "nodePort"), p.nodePort);
    nodePorts.add(k);
  });

  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const k = `${str(p.protocol)}/${isNum(p.port) ? p.port : 0}`;
    if (seen.has(k)) c.duplicate(index("spec.ports", i), { port: p.port, protocol: str(p.protocol) });
    seen.add(k);
  });

  validateLabels(spec.selector, "spec.selector", c);

  if (spec.sessionAffinity === "ClientIP") {
    const timeout = obj(obj(spec.sessionAffinityConfig).clientIP).timeoutSeconds;
    if (isNum(timeout) && (timeout <= 0 || timeout > 86400)) {
      c.invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout, "must be greater than 0 and less than 86400");
    }
  } else if (isObj(spec.sessionAffinityConfig) && spec.sessionAffinity === "None") {
    c.invalid("spec.sessionAffinityConfig", spec.sessionAffinityConfig, "must not be set when session affinity is None");
  }

  const externallyAccessible = external || (type === "ClusterIP" && arr(spec.externalIPs).length > 0);
  if (!externallyAccessible && str(spec.externalTrafficPolicy)) {
    c.invalid("spec.externalTrafficPolicy", spec.externalTrafficPolicy, "may only be set for externally-accessible services");
  }
  if (isNum(spec.healthCheckNodePort) && spec.healthCheckNodePort !== 0 && !(type === "LoadBalancer" && spec.externalTrafficPolicy === "Local")) {
    c.invalid("spec.healthCheckNodePort", spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'");
  }

  const families = arr(spec.ipFamilies);
  const seenFamilies = new Set<unknown>();
  families.forEach((fam, i) => {
    if (seenFamilies.has(fam)) c.duplicate(index("spec.ipFamilies", i), fam);
    seenFamilies.add(fam);
  });
  if (families.length > 2) c.invalid("spec.ipFamilies", families, "may specify no more than one IP for each IP family");
  if (spec.ipFamilyPolicy === "SingleStack" && families.length > 1)
    c.invalid("spec.ipFamilies", families, "when `ipFamilyPolicy` is 'SingleStack' must not have more than one IP family");
};
