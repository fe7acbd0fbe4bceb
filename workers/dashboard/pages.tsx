/** The pages' content (inside the Layout). Live regions are rendered alone for the client's refreshes. */
import { parseQuantity } from "../../shared/quantity";
import { PostForm, Table } from "./layout";
import { age, fmtCpu, fmtMem, type NodeCard, podClass, podStatus } from "./model";

const qtyOr0 = (v: unknown): number => {
  try {
    return parseQuantity(String(v ?? 0));
  } catch {
    return 0;
  }
};

export const LoginPage = (p: { csrf: string; error?: string }) => (
  <div class="login">
    <h1>Sign in to Kubeflare</h1>
    <p class="muted">Paste a bearer token: the admin token `npm start` printed (or the Worker's ADMIN_TOKEN), or a read-only viewer token.</p>
    {p.error ? (
      <div class="flash error" role="alert">
        {p.error}
      </div>
    ) : null}
    <form method="post" action="/ui/login">
      <input type="hidden" name="_csrf" value={p.csrf} />
      <label for="token">Token</label>
      <input id="token" name="token" type="password" autocomplete="off" required autofocus />
      <button class="primary" type="submit">
        Sign in
      </button>
    </form>
  </div>
);

export const Bar = (p: { label: string; used: number; total: number; fmt: (v: number) => string; what?: string }) => {
  const pct = p.total > 0 ? Math.min(100, Math.round((p.used / p.total) * 100)) : 0;
  return (
    <div class={`bar${p.what === "used" ? " use" : ""}`} title={`${p.label} ${p.what ?? "requested"} ${p.fmt(p.used)} of ${p.fmt(p.total)} allocatable`}>
      <span>{p.label}</span>
      <div class="track">
        <div class={`fill${pct >= 90 ? " hi" : ""}`} style={`width:${pct}%`} />
      </div>
      <span>
        {p.fmt(p.used)}/{p.fmt(p.total)}
      </span>
    </div>
  );
};

/** A node's usage bars (NodeMetrics): nothing when metrics.k8s.io has none for it. */
export const Usage = (p: { usage?: { cpu: number; memory: number }; cpu: number; memory: number }) =>
  p.usage ? (
    <div class="usage" data-usage="">
      <Bar label="cpu use" what="used" used={p.usage.cpu} total={p.cpu} fmt={fmtCpu} />
      <Bar label="mem use" what="used" used={p.usage.memory} total={p.memory} fmt={fmtMem} />
    </div>
  ) : null;

const Chip = ({ pod }: { pod: any }) => (
  <a
    class={`chip ${podClass(pod)}`}
    href={`/ui/pods/${encodeURIComponent(pod.metadata.namespace)}/${encodeURIComponent(pod.metadata.name)}`}
    title={`${pod.metadata.namespace}/${pod.metadata.name}: ${podStatus(pod)}`}
    data-pod={pod.metadata.name}
    data-class={podClass(pod)}
  >
    {pod.metadata.name}
  </a>
);

export interface OverviewData {
  cards: NodeCard[];
  unscheduled: any[];
  counts: { nodes: number; pods: number; deployments: number; problems: number };
}

export const Overview = ({ d }: { d: OverviewData }) => (
  <>
    <div class="stats">
      <div class="stat" data-count="nodes">
        <b>{d.counts.nodes}</b>
        <span>nodes</span>
      </div>
      <div class="stat" data-count="pods">
        <b>{d.counts.pods}</b>
        <span>pods</span>
      </div>
      <div class="stat" data-count="deployments">
        <b>{d.counts.deployments}</b>
        <span>deployments</span>
      </div>
      <div class={`stat${d.counts.problems ? " bad" : ""}`} data-count="problems">
        <b>{d.counts.problems}</b>
        <span>problems</span>
      </div>
    </div>
    {d.cards.length === 0 ? <p class="muted">No nodes yet: add one from the Nodes page (a join token and the command to run on the box).</p> : null}
    <div class="cards">
      {d.cards.map((n) => (
        <section class="card node" data-node={n.name}>
          <h3>
            <a href={`/ui/nodes#${encodeURIComponent(n.name)}`}>{n.name}</a>
            <span>
              <span class={`badge ${n.ready === "Ready" ? "ok" : "bad"}`}>{n.ready}</span> {n.cordoned ? <span class="badge warn">cordoned</span> : null}
            </span>
          </h3>
          <div class="meta">
            {[n.ip, n.runtime, n.kubelet].filter(Boolean).join(" · ")}
            {n.heartbeat ? ` · heartbeat ${age(n.heartbeat)} ago` : ""}
          </div>
          <Bar label="cpu" used={n.cpu.used} total={n.cpu.total} fmt={fmtCpu} />
          <Bar label="memory" used={n.memory.used} total={n.memory.total} fmt={fmtMem} />
          <Usage usage={n.usage} cpu={n.cpu.total} memory={n.memory.total} />
          <div class="chips">{n.pods.length ? n.pods.map((p) => <Chip pod={p} />) : <span class="muted">no pods</span>}</div>
        </section>
      ))}
      {d.unscheduled.length ? (
        <section class="card" data-node="">
          <h3>
            Not scheduled <span class="badge warn">{d.unscheduled.length}</span>
          </h3>
          <div class="chips">
            {d.unscheduled.map((p) => (
              <Chip pod={p} />
            ))}
          </div>
        </section>
      ) : null}
    </div>
  </>
);

/** A meta.k8s.io Table as the API renders it for kubectl (its columns, cells and row objects). */
export const KubeTable = (p: { table: any; link?: (row: any) => string | undefined; wide?: boolean; namespaced?: boolean }) => {
  const cols: any[] = p.table.columnDefinitions ?? [];
  const shown = cols.map((c, i) => ({ c, i })).filter(({ c }) => p.wide || c.priority === 0 || c.priority === undefined);
  const rows: any[] = p.table.rows ?? [];
  return (
    <Table
      cols={[p.namespaced && "Namespace", ...shown.map(({ c }) => String(c.name ?? ""))]}
      empty={rows.length === 0 ? "Nothing here." : undefined}
      span={shown.length + 1}
    >
      {rows.map((r) => {
        const href = p.link?.(r);
        return (
          <tr data-name={r.object?.metadata?.name}>
            {p.namespaced ? <td>{r.object?.metadata?.namespace ?? ""}</td> : null}
            {shown.map(({ i }, k) => (
              <td>{k === 0 && href ? <a href={href}>{String(r.cells?.[i] ?? "")}</a> : String(r.cells?.[i] ?? "")}</td>
            ))}
          </tr>
        );
      })}
    </Table>
  );
};

export const PodsFilters = (p: { namespaces: string[]; namespace: string; labelSelector: string; node: string }) => (
  <form class="filters" method="get" action="/ui/pods">
    <select name="namespace" aria-label="namespace">
      <option value="">all namespaces</option>
      {p.namespaces.map((n) => (
        <option value={n} selected={n === p.namespace}>
          {n}
        </option>
      ))}
    </select>
    <input name="labelSelector" placeholder="label selector (app=web)" value={p.labelSelector} aria-label="label selector" />
    <input name="node" placeholder="node" value={p.node} aria-label="node" />
    <button type="submit">Filter</button>
  </form>
);

export const PodPage = (p: { pod: any; events: any[]; container?: string; canExec?: boolean; metrics?: any }) => {
  const pod = p.pod;
  const statuses = new Map<string, any>([...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].map((s: any) => [s.name, s]));
  const containers: any[] = pod.spec?.containers ?? [];
  const ns = encodeURIComponent(pod.metadata.namespace);
  const name = encodeURIComponent(pod.metadata.name);
  return (
    <>
      <dl class="kv">
        <dt>Status</dt>
        <dd>
          <span class={`chip ${podClass(pod)}`}>{podStatus(pod)}</span>
        </dd>
        <dt>Node</dt>
        <dd>{pod.spec?.nodeName ?? "<none>"}</dd>
        <dt>IP</dt>
        <dd>{pod.status?.podIP ?? "<none>"}</dd>
        <dt>Age</dt>
        <dd>{age(pod.metadata.creationTimestamp)}</dd>
        {p.metrics ? (
          <>
            <dt>Usage</dt>
            <dd data-usage="">
              {(p.metrics.containers ?? [])
                .map((c: any) => `${c.name}: cpu ${fmtCpu(qtyOr0(c.usage?.cpu))}, memory ${fmtMem(qtyOr0(c.usage?.memory))}`)
                .join("; ")}
            </dd>
          </>
        ) : null}
        <dt>Labels</dt>
        <dd>
          {Object.entries(pod.metadata.labels ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(", ") || "<none>"}
        </dd>
      </dl>
      {p.canExec && pod.status?.phase === "Running" ? (
        <p>
          <a class="btn" id="open-terminal" href={`/ui/pods/${ns}/${name}/terminal`}>
            Terminal
          </a>
        </p>
      ) : null}
      <h2>Containers</h2>
      <Table cols={["Name", "Image", "Ready", "Restarts", "State"]}>
        {containers.map((c) => {
          const s = statuses.get(c.name);
          const state = s?.state ? Object.entries(s.state).map(([k, v]: [string, any]) => `${k}${v?.reason ? ` (${v.reason})` : ""}`)[0] : "waiting";
          return (
            <tr>
              <td>{c.name}</td>
              <td>{c.image}</td>
              <td>{s?.ready ? "true" : "false"}</td>
              <td>{s?.restartCount ?? 0}</td>
              <td>{state}</td>
            </tr>
          );
        })}
      </Table>
      <h2>Conditions</h2>
      <Table cols={["Type", "Status", "Last transition", "Reason"]}>
        {(pod.status?.conditions ?? []).map((c: any) => (
          <tr>
            <td>{c.type}</td>
            <td>{c.status}</td>
            <td>{c.lastTransitionTime ? `${age(c.lastTransitionTime)} ago` : ""}</td>
            <td>{c.reason ?? ""}</td>
          </tr>
        ))}
      </Table>
      <h2>Events</h2>
      <Events events={p.events} />
      <h2>Logs</h2>
      {containers.length > 1 ? (
        <p class="muted">
          Container:{" "}
          {containers.map((c) => (
            <>
              <a href={`?container=${encodeURIComponent(c.name)}`}>{c.name}</a>{" "}
            </>
          ))}
        </p>
      ) : null}
      <pre class="log" id="log" data-follow={`/ui/pods/${ns}/${name}/log?container=${encodeURIComponent(p.container ?? containers[0]?.name ?? "")}`} />
    </>
  );
};

export const Events = ({ events }: { events: any[] }) => (
  <Table cols={["Last seen", "Type", "Reason", "Object", "Message"]} empty={events.length === 0 ? "No events." : undefined}>
    {events.map((e) => (
      <tr class={e.type === "Warning" ? "warn" : ""}>
        <td>{age(eventTime(e))}</td>
        <td>{e.type ?? ""}</td>
        <td>{e.reason ?? ""}</td>
        <td>{`${(e.involvedObject?.kind ?? "").toLowerCase()}/${e.involvedObject?.name ?? ""}`}</td>
        <td style="white-space:normal">{e.message ?? e.note ?? ""}</td>
      </tr>
    ))}
  </Table>
);

export const eventTime = (e: any): string | undefined => e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;

export interface ApplyResult {
  doc: number;
  ok: boolean;
  text: string;
}

export const ApplyPage = (p: { csrf: string; yaml: string; results?: ApplyResult[]; canWrite: boolean }) => (
  <>
    {p.results ? (
      <ul class="errors" id="results">
        {p.results.map((r) => (
          <li class={r.ok ? "ok" : ""} data-ok={r.ok ? "true" : "false"}>
            {p.results!.length > 1 ? `document ${r.doc + 1}: ` : ""}
            {r.text}
          </li>
        ))}
      </ul>
    ) : null}
    <PostForm action="/ui/apply" csrf={p.csrf}>
      <p class="muted">
        One or more YAML or JSON documents (separated by ---), applied as `kubectl apply --server-side` does: created, or updated when they exist.
      </p>
      <p>
        <label>
          Load a file: <input type="file" accept=".yaml,.yml,.json,text/yaml,application/json" data-into="manifest" aria-label="manifest file" />
        </label>
      </p>
      <textarea id="manifest" name="yaml" spellcheck={false} aria-label="manifest" placeholder="apiVersion: v1 / kind: ConfigMap / ...">
        {p.yaml}
      </textarea>
      <p>
        {p.canWrite ? (
          <button class="primary" type="submit">
            Apply
          </button>
        ) : (
          <span class="muted">Read-only token: applying is not allowed.</span>
        )}
      </p>
    </PostForm>
  </>
);

/** Namespaces: each with its phase, links to its pods and events, delete; and a form to create one. */
export const NamespacesPage = (p: { namespaces: any[]; csrf: string; canWrite: boolean }) => (
  <Table cols={["Name", "Status", "Age", "Show", p.canWrite && "Actions"]}>
    {p.namespaces.map((n) => {
      const name = n.metadata.name;
      return (
        <tr data-name={name}>
          <td>{name}</td>
          <td>{n.status?.phase ?? ""}</td>
          <td>{age(n.metadata.creationTimestamp)}</td>
          <td>
            <a href={`/ui/pods?namespace=${encodeURIComponent(name)}`}>pods</a>
          </td>
          {p.canWrite ? (
            <td>
              {n.status?.phase === "Terminating" ? null : (
                <PostForm action={`/ui/namespaces/${encodeURIComponent(name)}/delete`} csrf={p.csrf} confirm={`Delete namespace ${name} and everything in it?`}>
                  <button class="danger" type="submit">
                    Delete
                  </button>
                </PostForm>
              )}
            </td>
          ) : null}
        </tr>
      );
    })}
  </Table>
);

export const CreateNamespace = (p: { csrf: string }) => (
  <>
    <h2>Create a namespace</h2>
    <PostForm action="/ui/namespaces" csrf={p.csrf} class="filters">
      <input name="name" placeholder="name" required aria-label="namespace name" />
      <button class="primary" type="submit">
        Create
      </button>
    </PostForm>
  </>
);
