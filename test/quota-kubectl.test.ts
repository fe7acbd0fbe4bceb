/**
 * ResourceQuotas and LimitRanges with the real kubectl, on `npm start`'s server and on
 * the Worker in Miniflare: a quota of 3 pods refuses the fourth with kube-apiserver's
 * message, `get`/`describe quota` show the usage, deleting a pod frees quota (the
 * resource quota controller), parallel creates never go over a quota, and a LimitRange
 * gives a pod without resources its defaults and refuses one over its max.
 */
import { expect, it } from "vitest";
import { eventually, type Kubectl } from "./kubectl";
import { onBothRuntimes } from "./kubectl-runtimes";

const podYaml = (name: string, ns: string, resources = "") => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  containers:
  - name: app
    image: busybox
${resources}`;

const LIMIT_RANGE = `apiVersion: v1
kind: LimitRange
metadata:
  name: limits
  namespace: lr
spec:
  limits:
  - type: Container
    default:
      cpu: 500m
      memory: 128Mi
    defaultRequest:
      cpu: 250m
    max:
      cpu: "1"
`;

const session = (ctx: () => { k: Kubectl }) => {
  const ok = async (args: string | string[], input?: string) => {
    const r = await ctx().k(args, { input });
    if (r.code !== 0) throw new Error(`kubectl ${args} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };

  it("a quota of 3 pods refuses the fourth; get and describe show usage; a deletion frees it", async () => {
    const { k } = ctx();
    await ok("create namespace quota");
    expect(await ok("create quota compute --hard=pods=3,requests.cpu=1 -n quota")).toBe("resourcequota/compute created\n");
    // the quota is in force at once: no pod may leave cpu out
    const bare = await k(["apply", "-f", "-"], { input: podYaml("bare", "quota") });
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toContain('pods "bare" is forbidden: failed quota: compute: must specify requests.cpu for: app');
    const cpu = (m: string) => `    resources:\n      requests:\n        cpu: ${m}\n`;
    for (const n of ["p1", "p2", "p3"]) await ok(["apply", "-f", "-"], podYaml(n, "quota", cpu("100m")));
    const fourth = await k(["apply", "-f", "-"], { input: podYaml("p4", "quota", cpu("100m")) });
    expect(fourth.code).not.toBe(0);
    expect(fourth.stderr).toContain('pods "p4" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=3, limited: pods=3');

    expect(await ok("get quota -n quota")).toMatch(/^NAME\s+AGE\s+REQUEST\s+LIMIT\ncompute\s+\d+s\s+pods: 3\/3, requests\.cpu: 300m\/1\s*\n$/);
    const described = await ok("describe quota compute -n quota");
    expect(described).toMatch(/Name:\s+compute/);
    expect(described).toMatch(/Resource\s+Used\s+Hard/);
    expect(described).toMatch(/pods\s+3\s+3/);
    expect(described).toMatch(/requests\.cpu\s+300m\s+1/);

    await ok("delete pod p1 -n quota --grace-period=0 --force");
    await eventually(async () => (await ok("get quota compute -n quota -o jsonpath={.status.used.pods}")) === "2", 30_000);
    await ok(["apply", "-f", "-"], podYaml("p4", "quota", cpu("100m")));
  });

  it("parallel creates never go over a quota", async () => {
    const { k } = ctx();
    await ok("create namespace par");
    await ok("create quota five --hard=pods=5 -n par");
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => k(["create", "-f", "-"], { input: podYaml(`c${i}`, "par") })));
    expect(results.filter((r) => r.code === 0)).toHaveLength(5);
    for (const r of results.filter((x) => x.code !== 0)) expect(r.stderr).toContain("exceeded quota: five, requested: pods=1, used: pods=5, limited: pods=5");
    expect((await ok("get pods -n par -o name")).trim().split("\n")).toHaveLength(5);
    expect(await ok("get quota five -n par -o jsonpath={.status.used.pods}")).toBe("5");
  });

  it("a LimitRange gives a pod its defaults and refuses one over its max", async () => {
    const { k } = ctx();
    await ok("create namespace lr");
    expect(await ok(["apply", "-f", "-"], LIMIT_RANGE)).toBe("limitrange/limits created\n");
    expect(await ok("get limits -n lr")).toMatch(/^NAME\s+CREATED AT\nlimits\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
    expect(await ok("describe limitrange limits -n lr")).toMatch(/Container\s+cpu\s+-\s+1\s+250m\s+500m/);

    await ok(["apply", "-f", "-"], podYaml("plain", "lr"));
    const plain = JSON.parse(await ok("get pod plain -n lr -o json"));
    expect(plain.spec.containers[0].resources).toEqual({ limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "250m", memory: "128Mi" } });
    expect(plain.metadata.annotations["kubernetes.io/limit-ranger"]).toBe(
      "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app",
    );
    const big = await k(["apply", "-f", "-"], { input: podYaml("big", "lr", "    resources:\n      limits:\n        cpu: 2\n") });
    expect(big.code).not.toBe(0);
    expect(big.stderr).toContain(
      'Error from server (Forbidden): error when creating "STDIN": pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2',
    );
    expect((await k("get pod big -n lr")).code).not.toBe(0);
  });
};

onBothRuntimes("quotas and limits with kubectl", session);
