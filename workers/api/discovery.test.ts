import { describe, expect, it } from "vitest";
import { apiResourceList } from "./discovery";

describe("discovery", () => {
  it("lists the stream subresources and pods/eviction as kube-apiserver does", () => {
    const core = apiResourceList("", "v1").resources as any[];
    const by = (name: string) => core.find((r) => r.name === name);
    expect(by("pods/exec")).toEqual({ name: "pods/exec", singularName: "", namespaced: true, kind: "PodExecOptions", verbs: ["create", "get"] });
    expect(by("pods/portforward")?.kind).toBe("PodPortForwardOptions");
    expect(by("services/proxy")?.verbs).toEqual(["create", "delete", "get", "patch", "update"]);
    // kubectl drain looks for policy/v1 here before it evicts
    expect(by("pods/eviction")).toMatchObject({ group: "policy", version: "v1", kind: "Eviction", verbs: ["create"] });
    const apps = apiResourceList("apps", "v1").resources as any[];
    expect(apps.find((r) => r.name === "deployments/scale")).toMatchObject({ group: "autoscaling", version: "v1", kind: "Scale" });
  });
});
