/**
 * The Workloads page and what it does to Deployments: scale (−/+/exact), restart as
 * `kubectl rollout restart`, pause/resume, revision history and roll back as `kubectl
 * rollout undo --to-revision`, delete; ReplicaSets and ReplicationControllers as
 * kubectl's tables. Buttons follow the user's RBAC per namespace (access.ts).
 */
import type { Context, Hono } from "hono";
import { ask } from "./access";
import type { PageKit, Vars } from "./kit";
import { collectionPath, type Kube, TABLE_ACCEPT } from "./kube";
import { PostForm, Table } from "./layout";
import { age } from "./model";
import { KubeTable } from "./pages";

const enc = encodeURIComponent;
export const FIELD_MANAGER = "kubeflare-dashboard";

/** What the user may do to the Deployments of a namespace (SelfSubjectAccessReviews, access.ts). */
export interface DeploymentPerms {
  scale: boolean;
  patch: boolean;
  delete: boolean;
}

export const Workloads = (p: { deployments: any[]; csrf: string; perms: Map<string, DeploymentPerms> }) => {
  const any = [...p.perms.values()].some((x) => x.scale || x.patch || x.delete);
  return (
    <>
      <h2>Deployments</h2>
      <Table
        cols={[
          "Namespace",
          "Name",
          "Ready",
          "Up-to-date",
          "Available",
          { label: "Revision", class: "hide-sm" },
          { label: "Age", class: "hide-sm" },
          any && "Actions",
        ]}
        empty={p.deployments.length === 0 ? "No Deployments." : undefined}
        span={8}
      >
        {p.deployments.map((d) => {
          const ns = encodeURIComponent(d.metadata.namespace);
          const name = encodeURIComponent(d.metadata.name);
          const want = d.spec?.replicas ?? 1;
          const base = `/ui/deployments/${ns}/${name}`;
          const short = (d.status?.availableReplicas ?? 0) < want;
          const may = p.perms.get(d.metadata.namespace) ?? { scale: false, patch: false, delete: false };
          return (
            <tr class={short ? "warn" : ""} data-deployment={`${d.metadata.namespace}/${d.metadata.name}`}>
              <td>{d.metadata.namespace}</td>
              <td>
                <a href={base}>{d.metadata.name}</a> {d.spec?.paused ? <span class="badge warn">paused</span> : null}
              </td>
              <td data-col="ready">
                {d.status?.readyReplicas ?? 0}/{want}
              </td>
              <td>{d.status?.updatedReplicas ?? 0}</td>
              <td data-col="available">{d.status?.availableReplicas ?? 0}</td>
              <td class="hide-sm">{d.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? ""}</td>
              <td class="hide-sm">{age(d.metadata.creationTimestamp)}</td>
              {any ? (
                <td>
                  <div class="actions">
                    {may.scale ? (
                      <>
                        <PostForm action={`${base}/scale`} csrf={p.csrf}>
                          <input type="hidden" name="delta" value="-1" />
                          <button type="submit" aria-label="scale down" disabled={want <= 0}>
                            −
                          </button>
                        </PostForm>
                        <PostForm action={`${base}/scale`} csrf={p.csrf}>
                          <input type="hidden" name="delta" value="1" />
                          <button type="submit" aria-label="scale up">
                            +
                          </button>
                        </PostForm>
                        <PostForm action={`${base}/scale`} csrf={p.csrf}>
                          <input class="num" type="number" name="replicas" min="0" value={String(want)} aria-label="replicas" />
                          <button type="submit">Scale</button>
                        </PostForm>
                      </>
                    ) : null}
                    {may.patch ? (
                      <>
                        <PostForm action={`${base}/${d.spec?.paused ? "resume" : "pause"}`} csrf={p.csrf}>
                          <button type="submit">{d.spec?.paused ? "Resume" : "Pause"}</button>
                        </PostForm>
                        <PostForm action={`${base}/restart`} csrf={p.csrf} confirm={`Restart ${d.metadata.name}? Its pods are replaced one by one.`}>
                          <button type="submit">Restart</button>
                        </PostForm>
                      </>
                    ) : null}
                    {may.delete ? (
                      <PostForm action={`${base}/delete`} csrf={p.csrf} confirm={`Delete Deployment ${d.metadata.namespace}/${d.metadata.name} and its pods?`}>
                        <button class="danger" type="submit">
                          Delete
                        </button>
                      </PostForm>
                    ) : null}
                  </div>
                </td>
              ) : null}
            </tr>
          );
        })}
      </Table>
    </>
  );
};

/** A Deployment's rollout history: its ReplicaSets by revision, each but the current one with a roll-back button. */
export const HistoryPage = (p: { deployment: any; replicaSets: any[]; csrf: string; canWrite: boolean }) => {
  const d = p.deployment;
  const current = d.metadata.annotations?.["deployment.kubernetes.io/revision"];
  const base = `/ui/deployments/${encodeURIComponent(d.metadata.namespace)}/${encodeURIComponent(d.metadata.name)}`;
  return (
    <>
      <p class="muted">
        {d.status?.readyReplicas ?? 0}/{d.spec?.replicas ?? 1} ready · revision {current ?? "?"}
        {d.spec?.paused ? " · paused" : ""}
      </p>
      <Table cols={["Revision", "ReplicaSet", "Images", "Pods", "Age", p.canWrite && ""]}>
        {p.replicaSets.map((rs) => {
          const rev = rs.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? "";
          return (
            <tr data-revision={rev}>
              <td>
                {rev}
                {rev === current ? " (current)" : ""}
              </td>
              <td>{rs.metadata.name}</td>
              <td>{(rs.spec?.template?.spec?.containers ?? []).map((c: any) => c.image).join(", ")}</td>
              <td>
                {rs.status?.readyReplicas ?? 0}/{rs.spec?.replicas ?? 0}
              </td>
              <td>{age(rs.metadata.creationTimestamp)}</td>
              {p.canWrite ? (
                <td>
                  {rev && rev !== current ? (
                    <PostForm action={`${base}/rollback`} csrf={p.csrf} confirm={`Roll ${d.metadata.name} back to revision ${rev}?`}>
                      <input type="hidden" name="revision" value={rev} />
                      <button type="submit">Roll back</button>
                    </PostForm>
                  ) : null}
                </td>
              ) : null}
            </tr>
          );
        })}
      </Table>
    </>
  );
};

export const workloadRoutes = (app: Hono<{ Variables: Vars }>, { liveRegion, act }: PageKit) => {
  // workloads
  app.get("/ui/workloads", (c) =>
    liveRegion(c, "Workloads", "/ui/workloads", async () => {
      const kube = c.get("kube");
      const [deployments, replicaSets, rcs] = await Promise.all([
        kube.list("/apis/apps/v1/deployments"),
        kube.get("/apis/apps/v1/replicasets", { Accept: TABLE_ACCEPT }),
        kube.get("/api/v1/replicationcontrollers", { Accept: TABLE_ACCEPT }),
      ]);
      deployments.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
      const can = c.get("can");
      const perms = new Map<string, DeploymentPerms>();
      for (const ns of new Set(deployments.map((d) => d.metadata.namespace as string))) {
        perms.set(
          ns,
          await ask(can, {
            scale: ["patch", "apps", "deployments/scale", ns],
            patch: ["patch", "apps", "deployments", ns],
            delete: ["delete", "apps", "deployments", ns],
          }),
        );
      }
      return (
        <>
          <Workloads deployments={deployments} csrf={c.get("csrf")} perms={perms} />
          <h2>ReplicaSets</h2>
          <KubeTable table={replicaSets} namespaced />
          {(rcs.rows ?? []).length ? (
            <>
              <h2>ReplicationControllers</h2>
              <KubeTable table={rcs} namespaced />
            </>
          ) : null}
        </>
      );
    }),
  );
  const deployment = (c: Context) => collectionPath("apps/v1", "deployments", c.req.param("ns")) + `/${enc(c.req.param("name") ?? "")}`;
  app.post("/ui/deployments/:ns/:name/scale", (c) =>
    act(c, "/ui/workloads", async () => {
      const kube = c.get("kube");
      const form = c.get("form");
      const path = `${deployment(c)}/scale`;
      let replicas: number;
      if (form.delta !== undefined && form.delta !== "") {
        const cur = await kube.get(path);
        replicas = (cur.spec?.replicas ?? 0) + (form.delta === "-1" ? -1 : 1);
      } else replicas = Number(form.replicas);
      if (!Number.isInteger(replicas) || replicas < 0) throw new Error(`replicas must be a whole number of at least 0, not "${form.replicas ?? ""}"`);
      await kube.call("PATCH", path, { spec: { replicas } }, { "Content-Type": "application/merge-patch+json" });
      return `deployment.apps/${c.req.param("name")} scaled to ${replicas}`;
    }),
  );
  app.post("/ui/deployments/:ns/:name/restart", (c) =>
    act(c, "/ui/workloads", async () => {
      // what kubectl rollout restart does: a new pod template, through an annotation
      const patch = { spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": new Date().toISOString() } } } } };
      await c.get("kube").call("PATCH", `${deployment(c)}?fieldManager=${FIELD_MANAGER}`, patch, { "Content-Type": "application/merge-patch+json" });
      return `deployment.apps/${c.req.param("name")} restarted`;
    }),
  );
  for (const [verb, paused] of [
    ["pause", true],
    ["resume", false],
  ] as const) {
    // kubectl rollout pause/resume: spec.paused
    app.post(`/ui/deployments/:ns/:name/${verb}`, (c) =>
      act(c, "/ui/workloads", async () => {
        await c
          .get("kube")
          .call(
            "PATCH",
            `${deployment(c)}?fieldManager=${FIELD_MANAGER}`,
            { spec: { paused: paused || null } },
            { "Content-Type": "application/merge-patch+json" },
          );
        return `deployment.apps/${c.req.param("name")} ${verb}d`;
      }),
    );
  }
  /** The Deployment's ReplicaSets (its revisions), newest first. */
  const revisions = async (kube: Kube, d: any) =>
    (await kube.list(collectionPath("apps/v1", "replicasets", d.metadata.namespace)))
      .filter((rs) => (rs.metadata.ownerReferences ?? []).some((o: any) => o.controller && o.uid === d.metadata.uid))
      .sort(
        (a, b) =>
          Number(b.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? 0) -
          Number(a.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? 0),
      );
  app.get("/ui/deployments/:ns/:name", (c) =>
    liveRegion(c, `Deployment ${c.req.param("ns")}/${c.req.param("name")}`, "/ui/workloads", async () => {
      const kube = c.get("kube");
      const d = await kube.get(deployment(c));
      const canWrite = await c.get("can")("patch", "apps", "deployments", d.metadata.namespace);
      return <HistoryPage deployment={d} replicaSets={await revisions(kube, d)} csrf={c.get("csrf")} canWrite={canWrite} />;
    }),
  );
  // kubectl rollout undo --to-revision: the Deployment's template becomes that ReplicaSet's (without its pod-template-hash)
  app.post("/ui/deployments/:ns/:name/rollback", (c) => {
    const back = `/ui/deployments/${enc(c.req.param("ns") ?? "")}/${enc(c.req.param("name") ?? "")}`;
    return act(c, back, async () => {
      const kube = c.get("kube");
      const want = c.get("form").revision ?? "";
      const d = await kube.get(deployment(c));
      const rs = (await revisions(kube, d)).find((r) => r.metadata.annotations?.["deployment.kubernetes.io/revision"] === want);
      if (!rs) throw new Error(`unable to find the specified revision ${want}`);
      const template = structuredClone(rs.spec.template);
      if (template.metadata?.labels) delete template.metadata.labels["pod-template-hash"];
      await kube.call(
        "PATCH",
        `${deployment(c)}?fieldManager=${FIELD_MANAGER}`,
        [
          { op: "test", path: "/metadata/uid", value: d.metadata.uid },
          { op: "replace", path: "/spec/template", value: template },
        ],
        { "Content-Type": "application/json-patch+json" },
      );
      return `deployment.apps/${c.req.param("name")} rolled back to revision ${want}`;
    });
  });
  app.post("/ui/deployments/:ns/:name/delete", (c) =>
    act(c, "/ui/workloads", async () => {
      await c.get("kube").call("DELETE", `${deployment(c)}?propagationPolicy=Background`);
      return `deployment.apps/${c.req.param("name")} deleted`;
    }),
  );
};
