import { describe, expect, it } from "vitest";
import { applyDefaults } from "../../defaults";
import { resourceByName } from "../../../workers/registry/kinds";
import type { KObject } from "../../types";
import { validateObject } from "../index";

const check = (spec: Record<string, unknown>, name = "svc") => {
  const info = resourceByName("services");
  const obj: KObject = { metadata: { name, namespace: "default" }, spec: structuredClone(spec) };
  applyDefaults(info, obj);
  return validateObject(info, obj);
};
const fields = (spec: Record<string, unknown>, name?: string) => check(spec, name).map((c) => `${c.field} ${c.reason}`);

describe("Service", () => {
  it("accepts the usual shapes", () => {
    expect(fields({ selector: { app: "a" }, ports: [{ port: 80 }] })).toEqual([]);
    expect(fields({ type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] })).toEqual([]);
    expect(
      fields({
        type: "LoadBalancer",
        ports: [
          { name: "a", port: 80 },
          { name: "b", port: 80, protocol: "UDP" },
        ],
      }),
    ).toEqual([]);
    expect(fields({ clusterIP: "None" })).toEqual([]);
    expect(fields({ clusterIP: "10.96.0.10", ports: [{ port: 53, protocol: "UDP", targetPort: "dns" }] })).toEqual([]);
    expect(fields({ type: "ExternalName", externalName: "db.example.com" })).toEqual([]);
  });

  it("names Services with DNS-1035 labels", () => {
    expect(check({ ports: [{ port: 80 }] }, "1web")[0]).toMatchObject({ field: "metadata.name", reason: "FieldValueInvalid" });
    expect(fields({ ports: [{ port: 80 }] }, "web.example")).toEqual(["metadata.name FieldValueInvalid"]);
  });

  it("requires ports unless headless or ExternalName", () => {
    expect(fields({ selector: { app: "a" } })).toEqual(["spec.ports FieldValueRequired"]);
  });

  it("checks port names, numbers and protocols", () => {
    expect(fields({ ports: [{ name: "a", port: 80 }, { port: 81 }] })).toEqual(["spec.ports[1].name FieldValueRequired"]);
    expect(
      fields({
        ports: [
          { name: "a", port: 80 },
          { name: "a", port: 81 },
        ],
      }),
    ).toEqual(["spec.ports[1].name FieldValueDuplicate"]);
    expect(fields({ ports: [{ name: "Web_1", port: 80 }] })).toEqual(["spec.ports[0].name FieldValueInvalid"]);
    // targetPort defaults to port, so it is out of range too
    expect(check({ ports: [{ port: 0 }] })).toEqual([
      { reason: "FieldValueInvalid", field: "spec.ports[0].port", message: "Invalid value: 0: must be between 1 and 65535, inclusive" },
      { reason: "FieldValueInvalid", field: "spec.ports[0].targetPort", message: "Invalid value: 0: must be between 1 and 65535, inclusive" },
    ]);
    expect(fields({ ports: [{ port: 70000 }] })).toEqual(["spec.ports[0].port FieldValueInvalid", "spec.ports[0].targetPort FieldValueInvalid"]);
    expect(fields({ ports: [{ port: 80, protocol: "HTTP" }] })).toEqual(["spec.ports[0].protocol FieldValueNotSupported"]);
    expect(fields({ ports: [{ port: 80, targetPort: "8080" }] })).toEqual(["spec.ports[0].targetPort FieldValueInvalid"]);
    expect(
      fields({
        ports: [
          { name: "a", port: 80 },
          { name: "b", port: 80 },
        ],
      }),
    ).toEqual(["spec.ports[1] FieldValueDuplicate"]);
  });

  it("checks the type and its fields", () => {
    expect(check({ type: "Internal", ports: [{ port: 80 }] })[0]).toEqual({
      reason: "FieldValueNotSupported",
      field: "spec.type",
      message: 'Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    });
    expect(fields({ type: "ExternalName" })).toEqual(["spec.externalName FieldValueRequired"]);
    expect(fields({ type: "ExternalName", externalName: "not a name" })).toEqual(["spec.externalName FieldValueInvalid"]);
    expect(fields({ type: "ExternalName", externalName: "a.example", ipFamilies: ["IPv4"] })).toEqual(["spec.ipFamilies FieldValueForbidden"]);
    expect(fields({ type: "NodePort", clusterIP: "None" })).toEqual(["spec.clusterIPs[0] FieldValueInvalid"]);
    expect(fields({ type: "LoadBalancer", ports: [{ port: 10250 }] })).toEqual(["spec.ports[0] FieldValueInvalid"]);
    expect(fields({ clusterIP: "10.96.0.300", ports: [{ port: 80 }] })).toEqual(["spec.clusterIPs[0] FieldValueInvalid"]);
  });

  it("checks node ports", () => {
    expect(check({ ports: [{ port: 80, nodePort: 30080 }] })).toEqual([
      { reason: "FieldValueForbidden", field: "spec.ports[0].nodePort", message: "Forbidden: may not be used when `type` is 'ClusterIP'" },
    ]);
    expect(fields({ type: "NodePort", ports: [{ port: 80, nodePort: 80 }] })).toEqual(["spec.ports[0].nodePort FieldValueInvalid"]);
    expect(
      fields({
        type: "NodePort",
        ports: [
          { name: "a", port: 80, nodePort: 30080 },
          { name: "b", port: 81, nodePort: 30080 },
        ],
      }),
    ).toEqual(["spec.ports[1].nodePort FieldValueDuplicate"]);
  });

  it("checks the selector, affinity and traffic policies", () => {
    expect(fields({ selector: { app: "-x-" }, ports: [{ port: 80 }] })).toEqual(["spec.selector FieldValueInvalid"]);
    expect(fields({ sessionAffinity: "Sticky", ports: [{ port: 80 }] })).toEqual(["spec.sessionAffinity FieldValueNotSupported"]);
    expect(fields({ sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } }, ports: [{ port: 80 }] })).toEqual([
      "spec.sessionAffinityConfig.clientIP.timeoutSeconds FieldValueInvalid",
    ]);
    expect(fields({ externalTrafficPolicy: "Local", ports: [{ port: 80 }] })).toEqual(["spec.externalTrafficPolicy FieldValueInvalid"]);
    expect(fields({ type: "NodePort", externalTrafficPolicy: "Nearest", ports: [{ port: 80 }] })).toEqual([
      "spec.externalTrafficPolicy FieldValueNotSupported",
    ]);
    expect(fields({ internalTrafficPolicy: "Node", ports: [{ port: 80 }] })).toEqual(["spec.internalTrafficPolicy FieldValueNotSupported"]);
    expect(fields({ ipFamilyPolicy: "SingleStack", ipFamilies: ["IPv4", "IPv6"], ports: [{ port: 80 }] })).toEqual(["spec.ipFamilies FieldValueInvalid"]);
    expect(fields({ ipFamilyPolicy: "PreferDualStack", ipFamilies: ["IPv4", "IPv4"], ports: [{ port: 80 }] })).toEqual([
      "spec.ipFamilies[1] FieldValueDuplicate",
    ]);
  });
});
