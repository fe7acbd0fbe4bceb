/**
 * The Nodes page and what it does: a card per node (heartbeat, versions, usage from
 * metrics.k8s.io when the node's agent answers, allocatable, conditions, labels, taints),
 * cordon/uncordon, drain (as `kubectl drain --ignore-daemonsets --delete-emptydir-data`)
 * and join tokens for new nodes. Buttons follow the user's RBAC (access.ts).
 */
import type { Hono } from "hono";
import { parseQuantity } from "../../shared/quantity";
import { ask } from "./access";
import type { Ctx, PageKit, Vars } from "./kit";
import { collectionPath, type Kube, KubeError, statusText } from "./kube";
import { PostForm } from "./layout";
import { age, fmtMem, lastHeartbeat, leasesByNode, nodeReady, usageByNode } from "./model";
import { Usage } from "./pages";
import { setFlash } from "./session";

const enc = encodeURIComponent;
/** the nodes' heartbeats */
export const NODE_LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases";
export const NODE_METRICS = "/apis/metrics.k8s.io/v1beta1/nodes";
const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

const controllerOf = (p: any) => (p.metadata?.ownerReferences ?? []).find((o: any) => o.controller);
const finished = (p: any) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
const podRef = (p: any) => `${p.metadata.namespace}/${p.metadata.name}`;

/**
 * `kubectl drain <node> --ignore-daemonsets --delete-emptydir-data`: cordon the node, then
 * evict (policy/v1 Eviction) each of its pods but DaemonSet-managed and mirror pods. As
 * kubectl without --force, a pod that declares no controller (and has not finished) stops
 * the drain before any eviction (the node stays cordoned). An eviction the API refuses
 * (429 from a PodDisruptionBudget, 403, ...) is reported, not retried: the user can drain again.
 */
export const drainNode = async (kube: Kube, name: string): Promise<{ kind: "ok" | "error"; text: string }> => {
  await kube.call("PATCH", `/api/v1/nodes/${enc(name)}`, { spec: { unschedulable: true } }, { "Content-Type": "application/merge-patch+json" });
  const say = [`node/${name} cordoned`];
  const pods = await kube.list(`/api/v1/pods?fieldSelector=${enc(`spec.nodeName=${name}`)}`);
  const daemons = pods.filter((p) => controllerOf(p)?.kind === "DaemonSet");
  const mirrors = pods.filter((p) => p.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined);
  const unmanaged = pods.filter((p) => !controllerOf(p) && !finished(p) && !mirrors.includes(p));
  if (daemons.length) say.push(`Warning: ignoring DaemonSet-managed Pods: ${daemons.map(podRef).join(", ")}`);
  if (unmanaged.length) {
    say.push(`error: cannot delete Pods that declare no controller (use kubectl drain --force to override): ${unmanaged.map(podRef).join(", ")}`);
    return { kind: "error", text: say.join("\n") };
  }
  const evict = pods.filter((p) => !daemons.includes(p) && !mirrors.includes(p));
  const results = await Promise.all(
    evict.map(async (p) => {
      try {
        await kube.call("POST", `${collectionPath("v1", "pods", p.metadata.namespace)}/${enc(p.metadata.name)}/eviction`, {
          apiVersion: "policy/v1",
          kind: "Eviction",
          metadata: { name: p.metadata.name, namespace: p.metadata.namespace },
        });
        return { p, error: undefined };
      } catch (e) {
        return { p, error: e instanceof KubeError ? `${e.code} ${statusText(e)}` : statusText(e) };
      }
    }),
  );
  for (const r of results) if (!r.error) say.push(`pod/${r.p.metadata.name} evicted`);
  const failed = results.filter((r) => r.error);
  for (const r of failed) say.push(`error when evicting pods/"${r.p.metadata.name}" -n "${r.p.metadata.namespace}": ${r.error}`);
  if (failed.length) return { kind: "error", text: say.join("\n") };
  say.push(`node/${name} drained`);
  return { kind: "ok", text: say.join("\n") };
};

const fmtCap = (k: string, v: unknown): string => {
  const s = String(v ?? "");
  if (k !== "memory" && k !== "ephemeral-storage") return s;
  const n = qtyOrNaN(s);
  return Number.isNaN(n) ? s : fmtMem(n);
};
const qtyOrNaN = (s: string): number => {
  try {
    return parseQuantity(s);
  } catch {
    return Number.NaN;
  }
};

/** The Nodes page: a card per node with what a home-labber checks, cordon/uncordon, and adding a node. */
export const NodesPage = (p: {
  nodes: any[];
  leases: Map<string, any>;
  usage: Map<string, { cpu: number; memory: number }>;
  csrf: string;
  may: { cordon: boolean; drain: boolean };
}) => (
  <div class="cards">
    {p.nodes.map((n) => {
      const ready = nodeReady(n);
      const cordoned = n.spec?.unschedulable === true;
      const heartbeat = lastHeartbeat(n, p.leases);
      const info = n.status?.nodeInfo ?? {};
      const name = n.metadata.name;
      return (
        <section class="card node" id={name} data-node={name}>
          <h3>
            {name}
            <span>
              <span class={`badge ${ready === "Ready" ? "ok" : "bad"}`}>{ready}</span> {cordoned ? <span class="badge warn">cordoned</span> : null}
            </span>
          </h3>
          <Usage
            usage={p.usage.get(name)}
            cpu={qtyOrNaN(String(n.status?.allocatable?.cpu ?? 0)) || 0}
            memory={qtyOrNaN(String(n.status?.allocatable?.memory ?? 0)) || 0}
          />
          <dl class="kv">
            <dt>Heartbeat</dt>
            <dd>{heartbeat ? `${age(heartbeat)} ago` : "never"}</dd>
            <dt>Agent</dt>
            <dd>{info.kubeletVersion ?? ""}</dd>
            <dt>Runtime</dt>
            <dd>{info.containerRuntimeVersion ?? ""}</dd>
            <dt>OS</dt>
            <dd>{[info.osImage, info.kernelVersion, info.architecture].filter(Boolean).join(" · ")}</dd>
            <dt>Addresses</dt>
            <dd>{(n.status?.addresses ?? []).map((a: any) => `${a.type}: ${a.address}`).join(", ")}</dd>
            <dt>Allocatable</dt>
            <dd>
              {Object.entries(n.status?.allocatable ?? {})
                .map(([k, v]) => `${k} ${fmtCap(k, v)}`)
                .join(", ")}
            </dd>
            <dt>Conditions</dt>
            <dd>{(n.status?.conditions ?? []).map((c: any) => `${c.type}=${c.status}`).join(", ")}</dd>
            <dt>Labels</dt>
            <dd>
              {Object.entries(n.metadata.labels ?? {})
                .map(([k, v]) => `${k}=${v}`)
                .join(", ")}
            </dd>
            <dt>Taints</dt>
            <dd>{(n.spec?.taints ?? []).map((t: any) => `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`).join(", ") || "<none>"}</dd>
          </dl>
          {p.may.cordon ? (
            <div class="actions" style="margin-top:.6rem">
              <PostForm action={`/ui/nodes/${encodeURIComponent(name)}/${cordoned ? "uncordon" : "cordon"}`} csrf={p.csrf}>
                <button type="submit">{cordoned ? "Uncordon" : "Cordon"}</button>
              </PostForm>
              {p.may.drain ? (
                <PostForm
                  action={`/ui/nodes/${encodeURIComponent(name)}/drain`}
                  csrf={p.csrf}
                  confirm={`Drain ${name}? It is cordoned and its pods are evicted (DaemonSet pods stay).`}
                >
                  <button class="danger" type="submit">
                    Drain
                  </button>
                </PostForm>
              ) : null}
            </div>
          ) : null}
        </section>
      );
    })}
  </div>
);

export const AddNode = (p: { csrf: string; joined?: { token: string; expiration?: string; command: string } }) => (
  <>
    <h2>Add a node</h2>
    {p.joined ? (
      <div class="card" id="join">
        <p>A join token (valid until {p.joined.expiration ?? "?"}, shown once). On the new box, with Docker or containerd installed:</p>
        <pre class="log" id="join-command">
          {p.joined.command}
        </pre>
        <p class="muted">
          --ca-file only for the Node server's own CA (.kubeflare/tls/ca.crt on the control plane); then `npx kubeflare-agent install` for the systemd unit.
        </p>
      </div>
    ) : null}
    <PostForm action="/ui/nodes/join" csrf={p.csrf} class="filters">
      <label>
        valid for <input class="num" type="number" name="hours" min="1" max="8760" value="24" /> hours,
      </label>
      <label>
        joins <input class="num" type="number" name="maxNodes" min="1" max="100" value="1" />
      </label>
      <button class="primary" type="submit">
        Create join token
      </button>
    </PostForm>
  </>
);

export const nodeRoutes = (app: Hono<{ Variables: Vars }>, { liveRegion, act }: PageKit) => {
  const nodesPage = async (c: Ctx, joined?: { token: string; expiration?: string; command: string }) => {
    const may = await ask(c.get("can"), {
      cordon: ["patch", "", "nodes"],
      evict: ["create", "", "pods/eviction"],
      join: ["create", "kubeflare.dev", "bootstraptokens"],
    });
    return liveRegion(
      c,
      "Nodes",
      "/ui/nodes",
      async () => {
        const kube = c.get("kube");
        const [nodes, leases, metrics] = await Promise.all([
          kube.list("/api/v1/nodes"),
          kube.list(NODE_LEASES).catch(() => []),
          // metrics.k8s.io: usage of the nodes whose agents answer; none is no error (graceful absence)
          kube.list(NODE_METRICS).catch(() => []),
        ]);
        nodes.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
        return (
          <>
            {nodes.length ? null : <p class="muted">No nodes yet.</p>}
            <NodesPage
              nodes={nodes}
              leases={leasesByNode(leases)}
              usage={usageByNode(metrics)}
              csrf={c.get("csrf")}
              may={{ cordon: may.cordon, drain: may.cordon && may.evict }}
            />
          </>
        );
      },
      { after: may.join ? <AddNode csrf={c.get("csrf")} joined={joined} /> : null },
    );
  };
  app.get("/ui/nodes", (c) => nodesPage(c));
  // a join token (POST /apis/kubeflare.dev/v1/bootstraptokens, as `kubeflare-agent token create`) and the command to use it
  app.post("/ui/nodes/join", async (c) => {
    const form = c.get("form");
    const hours = Number(form.hours || 24);
    const maxNodes = Number(form.maxNodes || 1);
    try {
      const t = await c.get("kube").call("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { ttlSeconds: Math.round(hours * 3600), maxNodes });
      const server = new URL(c.req.url).origin;
      const command = `npx kubeflare-agent join --server ${server} --token ${t.token}${server.startsWith("https:") ? " --ca-file ca.crt" : ""}`;
      return nodesPage(c, { token: t.token, expiration: t.expiration, command });
    } catch (e) {
      setFlash(c, "error", e instanceof KubeError ? `${e.code} ${e.status.reason ?? ""}: ${statusText(e)}` : statusText(e));
      return c.redirect("/ui/nodes", 303);
    }
  });
  for (const [verb, unschedulable] of [
    ["cordon", true],
    ["uncordon", false],
  ] as const) {
    app.post(`/ui/nodes/:name/${verb}`, (c) =>
      act(c, "/ui/nodes", async () => {
        const name = c.req.param("name");
        await c
          .get("kube")
          .call("PATCH", `/api/v1/nodes/${enc(name)}`, { spec: { unschedulable: unschedulable || null } }, { "Content-Type": "application/merge-patch+json" });
        return `node/${name} ${verb}ed`;
      }),
    );
  }
  app.post("/ui/nodes/:name/drain", (c) => act(c, "/ui/nodes", () => drainNode(c.get("kube"), c.req.param("name"))));
};
