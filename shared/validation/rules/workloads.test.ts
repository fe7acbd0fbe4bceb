import { describe, expect, it } from "vitest";
import { applyDefaults } from "../../defaults";
import { resourceByName } from "../../../workers/registry/kinds";
import type { KObject } from "../../types";
import { validateObject } from "../index";

const check = (resource: string, spec: Record<string, unknown>) => {
  const info = resourceByName(resource);
  const obj: KObject = { metadata: { name: "w", namespace: "default" }, spec: structuredClone(spec) };
  applyDefaults(info, obj);
  return validateObject(info, obj);
};
const fields = (resource: string, spec: Record<string, unknown>) => check(resource, spec).map((c) => `${c.field} ${c.reason}`);

const template = (labels: Record<string, string> = { app: "w" }, spec: Record<string, unknown> = {}) => ({
  metadata: { labels },
  spec: { containers: [{ name: "c", image: "nginx" }], ...spec },
});
const dep = (over: Record<string, unknown> = {}) => ({ selector: { matchLabels: { app: "w" } }, template: template(), ...over });

describe("Deployment", () => {
  it("accepts a valid deployment with expressions and int or percent rollout settings", () => {
    expect(fields("deployments", dep())).toEqual([]);
    expect(
      fields(
        "deployments",
        dep({
          selector: {
            matchExpressions: [
              { key: "app", operator: "In", values: ["w", "v"] },
              { key: "canary", operator: "DoesNotExist" },
            ],
          },
        }),
      ),
    ).toEqual([]);
    expect(fields("deployments", dep({ strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } }))).toEqual([]);
    expect(fields("deployments", dep({ strategy: { rollingUpdate: { maxSurge: "200%", maxUnavailable: "0%" } } }))).toEqual([]);
    expect(fields("deployments", dep({ replicas: 0, minReadySeconds: 5, revisionHistoryLimit: 0 }))).toEqual([]);
  });

  it("requires a non-empty selector that matches the template", () => {
    expect(fields("deployments", dep({ selector: undefined }))).toEqual(["spec.selector FieldValueRequired"]);
    const [empty] = check("deployments", dep({ selector: {} }));
    expect(empty).toMatchObject({ field: "spec.selector", reason: "FieldValueInvalid" });
    expect(empty.message).toContain("empty selector is invalid for deployment");
    expect(fields("deployments", dep({ selector: { matchExpressions: [{ key: "app", operator: "NotIn", values: ["w"] }] } }))).toEqual([
      "spec.template.metadata.labels FieldValueInvalid",
    ]);
    expect(fields("deployments", dep({ template: template({}) }))).toEqual(["spec.template.metadata.labels FieldValueInvalid"]);
    expect(check("deployments", dep({ template: template({ app: "x" }) }))[0].message).toBe(
      'Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`',
    );
  });

  it("checks the selector's own syntax", () => {
    expect(
      fields("deployments", dep({ selector: { matchLabels: { app: "w" }, matchExpressions: [{ key: "tier", operator: "Like", values: ["x"] }] } })),
    ).toEqual(["spec.selector.matchExpressions[0].operator FieldValueInvalid", "spec.template.metadata.labels FieldValueInvalid"]);
    expect(fields("deployments", dep({ selector: { matchLabels: { app: "w" }, matchExpressions: [{ key: "tier", operator: "In" }] } }))).toEqual([
      "spec.selector.matchExpressions[0].values FieldValueRequired",
      "spec.template.metadata.labels FieldValueInvalid",
    ]);
    expect(fields("deployments", dep({ selector: { matchLabels: { "bad key": "w" } } }))).toEqual([
      "spec.selector.matchLabels FieldValueInvalid",
      "spec.template.metadata.labels FieldValueInvalid",
    ]);
  });

  it("checks replicas and timing fields", () => {
    expect(check("deployments", dep({ replicas: -1 }))).toEqual([
      { reason: "FieldValueInvalid", field: "spec.replicas", message: "Invalid value: -1: must be greater than or equal to 0" },
    ]);
    expect(fields("deployments", dep({ minReadySeconds: -1 }))).toEqual(["spec.minReadySeconds FieldValueInvalid"]);
    expect(fields("deployments", dep({ revisionHistoryLimit: -1 }))).toEqual(["spec.revisionHistoryLimit FieldValueInvalid"]);
    expect(check("deployments", dep({ minReadySeconds: 600 }))).toEqual([
      { reason: "FieldValueInvalid", field: "spec.progressDeadlineSeconds", message: "Invalid value: 600: must be greater than minReadySeconds" },
    ]);
  });

  it("checks the strategy", () => {
    expect(check("deployments", dep({ strategy: { type: "Bogus" } }))).toEqual([
      {
        reason: "FieldValueNotSupported",
        field: "spec.strategy",
        message: 'Unsupported value: map[string]string{"type":"Bogus"}: supported values: "Recreate", "RollingUpdate"',
      },
    ]);
    expect(check("deployments", dep({ strategy: { type: "Recreate", rollingUpdate: { maxSurge: 1 } } }))).toEqual([
      { reason: "FieldValueForbidden", field: "spec.strategy.rollingUpdate", message: "Forbidden: may not be specified when strategy `type` is 'Recreate'" },
    ]);
    expect(check("deployments", dep({ strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }))).toEqual([
      { reason: "FieldValueInvalid", field: "spec.strategy.rollingUpdate.maxUnavailable", message: "Invalid value: 0: may not be 0 when `maxSurge` is 0" },
    ]);
    expect(fields("deployments", dep({ strategy: { rollingUpdate: { maxSurge: "0%", maxUnavailable: "0%" } } }))).toEqual([
      "spec.strategy.rollingUpdate.maxUnavailable FieldValueInvalid",
    ]);
    expect(check("deployments", dep({ strategy: { rollingUpdate: { maxSurge: "lots" } } }))[0]).toEqual({
      reason: "FieldValueInvalid",
      field: "spec.strategy.rollingUpdate.maxSurge",
      message:
        "Invalid value: \"lots\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    });
    expect(fields("deployments", dep({ strategy: { rollingUpdate: { maxUnavailable: "150%" } } }))).toEqual([
      "spec.strategy.rollingUpdate.maxUnavailable FieldValueInvalid",
    ]);
    expect(fields("deployments", dep({ strategy: { rollingUpdate: { maxUnavailable: -1 } } }))).toEqual([
      "spec.strategy.rollingUpdate.maxUnavailable FieldValueInvalid",
    ]);
  });

  it("checks the pod template", () => {
    expect(check("deployments", dep({ template: template({ app: "w" }, { restartPolicy: "OnFailure" }) }))).toEqual([
      { reason: "FieldValueNotSupported", field: "spec.template.spec.restartPolicy", message: 'Unsupported value: "OnFailure": supported values: "Always"' },
    ]);
    expect(
      fields("deployments", dep({ template: template({ app: "w" }, { containers: [{ name: "c", image: "i", ports: [{ containerPort: 0 }] }] }) })),
    ).toEqual(["spec.template.spec.containers[0].ports[0].containerPort FieldValueRequired"]);
    expect(
      fields("deployments", dep({ template: template({ app: "w" }, { containers: [{ name: "c", image: "i", ports: [{ containerPort: 99999 }] }] }) })),
    ).toEqual(["spec.template.spec.containers[0].ports[0].containerPort FieldValueInvalid"]);
    expect(fields("deployments", dep({ template: template({ app: "w" }, { activeDeadlineSeconds: 10 }) }))).toEqual([
      "spec.template.spec.activeDeadlineSeconds FieldValueForbidden",
    ]);
    expect(fields("deployments", dep({ template: template({ app: "w" }, { ephemeralContainers: [{ name: "e", image: "i" }] }) }))).toEqual([
      "spec.template.spec.ephemeralContainers FieldValueForbidden",
    ]);
    expect(
      fields(
        "deployments",
        dep({ template: { metadata: { labels: { app: "w" }, annotations: { "bad key": "x" } }, spec: { containers: [{ name: "c", image: "i" }] } } }),
      ),
    ).toEqual(["spec.template.metadata.annotations FieldValueInvalid"]);
    expect(fields("deployments", dep({ template: undefined }))).toEqual(["spec.template FieldValueRequired"]);
  });
});

describe("ReplicaSet", () => {
  it("checks like a deployment without the strategy", () => {
    expect(fields("replicasets", dep())).toEqual([]);
    expect(fields("replicasets", dep({ replicas: -2 }))).toEqual(["spec.replicas FieldValueInvalid"]);
    expect(fields("replicasets", dep({ selector: { matchLabels: {} } }))).toEqual(["spec.selector FieldValueInvalid"]);
    expect(fields("replicasets", dep({ template: template({ app: "other" }) }))).toEqual(["spec.template.metadata.labels FieldValueInvalid"]);
  });
});

describe("ReplicationController", () => {
  it("defaults its selector from the template, then checks it", () => {
    expect(fields("replicationcontrollers", { replicas: 2, template: template() })).toEqual([]);
    expect(fields("replicationcontrollers", { template: template({}) })).toEqual(["spec.selector FieldValueRequired"]);
    expect(check("replicationcontrollers", { selector: { app: "w", tier: "web" }, template: template() })).toEqual([
      {
        reason: "FieldValueInvalid",
        field: "spec.template.metadata.labels",
        message: 'Invalid value: map[string]string{"app":"w"}: `selector` does not match template `labels`',
      },
    ]);
    expect(fields("replicationcontrollers", { replicas: -1, template: template() })).toEqual(["spec.replicas FieldValueInvalid"]);
    expect(fields("replicationcontrollers", { selector: { app: "w" } })).toEqual(["spec.template FieldValueRequired"]);
    expect(fields("replicationcontrollers", { template: template({ app: "w" }, { restartPolicy: "Never" }) })).toEqual([
      "spec.template.spec.restartPolicy FieldValueNotSupported",
    ]);
  });
});
