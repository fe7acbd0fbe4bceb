/**
 * Column printers for `kubectl get`: the columns and cells kube-apiserver's table
 * convertor produces for each kind we serve (priority 1 = shown with `-o wide`).
 */
import type { KObject } from "../../shared/types";

export interface Column {
  name: string;
  type: "string" | "integer" | "date" | "number" | "boolean";
  format: string;
  description: string;
  priority: number;
}

export interface Printer {
  columns: Column[];
  cells(obj: KObject, now: number): unknown[];
}

const col = (name: string, description: string, o: Partial<Column> = {}): Column => ({
  name,
  type: "string",
  format: "",
  description,
  priority: 0,
  ...o,
});
const NAME = col("Name", "Name must be unique within a namespace.", { format: "name" });
const AGE = col("Age", "Time since the object was created.");
const wide = (name: string, description: string, o: Partial<Column> = {}) => col(name, description, { priority: 1, ...o });

/** Kubernetes' short human duration ("5s", "3m12s", "7h", "12d", "2y30d"). */
export const humanDuration = (ms: number): string => {
  const s = Math.floor(ms / 1000);
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 60 * 2) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 60 * 3) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  if (h < 24 * 365 * 8) {
    const dy = Math.floor(h / 24) % 365;
    return dy === 0 ? `${Math.floor(h / 24 / 365)}y` : `${Math.floor(h / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(h / 24 / 365)}y`;
};

const since = (ts: string | undefined, now: number) => (ts ? humanDuration(now - Date.parse(ts)) : "<unknown>");
const age = (o: KObject, now: number) => since(o.metadata.creationTimestamp, now);
const none = (s: string | undefined) => (s ? s : "<none>");
const join = (xs: string[]) => (xs.length ? xs.join(",") : "<none>");

const selectorString = (sel: any): string => {
  if (!sel) return "<none>";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const vals = [...(e.values ?? [])].sort().join(",");
    if (e.operator === "In") parts.push(`${e.key} in (${vals})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.length ? parts.join(",") : "<none>";
};
const mapSelector = (m: Record<string, string> | undefined) =>
  m && Object.keys(m).length ? Object.entries(m).map(([k, v]) => `${k}=${v}`).join(",") : "<none>";

const templateContainers = (o: KObject) => (o.spec?.template?.spec?.containers ?? []) as any[];
const containersCell = (o: KObject) => join(templateContainers(o).map((c) => c.name));
const imagesCell = (o: KObject) => join(templateContainers(o).map((c) => c.image));

// ---- pods

/** The STATUS column of `kubectl get pods` (the same reasoning as the apiserver's printer). */
export const podStatus = (pod: KObject): string => {
  const st = pod.status ?? {};
  let reason: string = st.reason || st.phase || "Pending";
  const inits: any[] = st.initContainerStatuses ?? [];
  const initCount = (pod.spec?.initContainers ?? []).length;
  let initializing = false;
  inits.forEach((c, i) => {
    if (initializing) return;
    const t = c.state?.terminated;
    const w = c.state?.waiting;
    if (t && t.exitCode === 0) return;
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    else if (w && w.reason && w.reason !== "PodInitializing") reason = `Init:${w.reason}`;
    else reason = `Init:${i}/${initCount}`;
    initializing = true;
  });
  if (!initializing) {
    let hasRunning = false;
    const cs: any[] = st.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      const w = c.state?.waiting;
      const t = c.state?.terminated;
      if (w?.reason) reason = w.reason;
      else if (t?.reason) reason = t.reason;
      else if (t) reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`;
      else if (c.ready && c.state?.running) hasRunning = true;
    }
    if (reason === "Completed" && hasRunning) {
      const ready = (st.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
      reason = ready ? "Running" : "NotReady";
    }
  }
  if (pod.metadata.deletionTimestamp && st.reason === "NodeLost") reason = "Unknown";
  else if (pod.metadata.deletionTimestamp) reason = "Terminating";
  return reason;
};

const podRestarts = (pod: KObject, now: number): string => {
  const cs: any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const restarts = cs.reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const last = cs
    .map((c) => c.lastState?.terminated?.finishedAt)
    .filter(Boolean)
    .map((t: string) => Date.parse(t))
    .sort((a, b) => b - a)[0];
  return restarts && last ? `${restarts} (${humanDuration(now - last)} ago)` : String(restarts);
};

const pods: Printer = {
  columns: [
    NAME,
    col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    col("Status", "The aggregate status of the containers in this pod."),
    col("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
    AGE,
    wide("IP", "IP address allocated to the pod."),
    wide("Node", "Name of the Node this pod is bound to."),
    wide("Nominated Node", "Name of the node nominated by the scheduler for preemption."),
    wide("Readiness Gates", "Pod readiness gates that must be satisfied."),
  ],
  cells: (p, now) => {
    const cs: any[] = p.status?.containerStatuses ?? [];
    const total = (p.spec?.containers ?? []).length;
    const ready = cs.filter((c) => c.ready).length;
    const gates: any[] = p.spec?.readinessGates ?? [];
    const trueConds = new Set((p.status?.conditions ?? []).filter((c: any) => c.status === "True").map((c: any) => c.type));
    return [
      p.metadata.name,
      `${ready}/${total}`,
      podStatus(p),
      podRestarts(p, now),
      age(p, now),
      none(p.status?.podIP),
      none(p.spec?.nodeName),
      none(p.status?.nominatedNodeName),
      gates.length ? `${gates.filter((g) => trueConds.has(g.conditionType)).length}/${gates.length}` : "<none>",
    ];
  },
};

// ---- nodes

const nodeStatus = (n: KObject): string => {
  const ready = (n.status?.conditions ?? []).find((c: any) => c.type === "Ready");
  const parts = [ready?.status === "True" ? "Ready" : ready?.status === "False" ? "NotReady" : "Unknown"];
  if (n.spec?.unschedulable) parts.push("SchedulingDisabled");
  return parts.join(",");
};

const nodeRoles = (n: KObject): string => {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(n.metadata.labels ?? {})) {
    if (k.startsWith("node-role.kubernetes.io/")) roles.add(k.slice("node-role.kubernetes.io/".length));
    else if (k === "kubernetes.io/role" && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(",") : "<none>";
};

const address = (n: KObject, type: string) => none((n.status?.addresses ?? []).find((a: any) => a.type === type)?.address);

const nodes: Printer = {
  columns: [
    NAME,
    col("Status", "The status of the node"),
    col("Roles", "The roles of the node"),
    AGE,
    col("Version", "Kubelet Version reported by the node."),
    wide("Internal-IP", "List of addresses reachable to the node. Queried from cloud provider, if available."),
    wide("External-IP", "List of addresses reachable to the node. Queried from cloud provider, if available."),
    wide("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
    wide("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
    wide("Container-Runtime", "Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2)."),
  ],
  cells: (n, now) => {
    const info = n.status?.nodeInfo ?? {};
    return [
      n.metadata.name,
      nodeStatus(n),
      nodeRoles(n),
      age(n, now),
      info.kubeletVersion ?? "",
      address(n, "InternalIP"),
      address(n, "ExternalIP"),
      info.osImage || "<unknown>",
      info.kernelVersion || "<unknown>",
      info.containerRuntimeVersion || "<unknown>",
    ];
  },
};

// ---- the rest

const namespaces: Printer = {
  columns: [NAME, col("Status", "The status of the namespace"), AGE],
  cells: (o, now) => [o.metadata.name, o.status?.phase ?? "", age(o, now)],
};

const servicePorts = (s: KObject) => {
  const ports: any[] = s.spec?.ports ?? [];
  if (!ports.length) return "<none>";
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? "TCP"}` : `${p.port}/${p.protocol ?? "TCP"}`)).join(",");
};

const externalIps = (s: KObject) => {
  const type = s.spec?.type ?? "ClusterIP";
  const ext: string[] = s.spec?.externalIPs ?? [];
  if (type === "ExternalName") return s.spec?.externalName ?? "<none>";
  if (type === "LoadBalancer") {
    const ing = (s.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip || i.hostname);
    const all = [...ing, ...ext];
    return all.length ? all.join(",") : "<pending>";
  }
  return ext.length ? ext.join(",") : "<none>";
};

const services: Printer = {
  columns: [
    NAME,
    col("Type", "type determines how the Service is exposed."),
    col("Cluster-IP", "clusterIP is the IP address of the service."),
    col("External-IP", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
    col("Port(s)", "The list of ports that are exposed by this service."),
    AGE,
    wide("Selector", "Route service traffic to pods with label keys and values matching this selector."),
  ],
  cells: (s, now) => [
    s.metadata.name,
    s.spec?.type ?? "ClusterIP",
    s.spec?.clusterIP || "<none>",
    externalIps(s),
    servicePorts(s),
    age(s, now),
    mapSelector(s.spec?.selector),
  ],
};

const endpointsCell = (e: KObject) => {
  const out: string[] = [];
  let count = 0;
  for (const ss of e.subsets ?? []) {
    const ports: any[] = ss.ports?.length ? ss.ports : [{}];
    for (const a of ss.addresses ?? []) {
      for (const p of ports) {
        count++;
        if (out.length < 3) out.push(p.port ? `${a.ip}:${p.port}` : a.ip);
      }
    }
  }
  if (!count) return "<none>";
  return count > 3 ? `${out.join(",")} + ${count - 3} more...` : out.join(",");
};

const endpoints: Printer = {
  columns: [NAME, col("Endpoints", "Endpoints of the service"), AGE],
  cells: (e, now) => [e.metadata.name, endpointsCell(e), age(e, now)],
};

const events: Printer = {
  columns: [
    col("Last Seen", "Time when last this event was seen."),
    col("Type", "Type of this event (Normal, Warning), new types could be added in the future."),
    col("Reason", "This should be a short, machine understandable string that gives the reason for this event being generated."),
    col("Object", "The object that this event is about."),
    wide("Subobject", "The subobject that this event is about."),
    wide("Source", "The component reporting this event."),
    col("Message", "A human-readable description of the status of this operation."),
    wide("First Seen", "The time at which the event was first recorded."),
    wide("Count", "The number of times this event has occurred.", { type: "integer" }),
    wide("Name", "Name of the event.", { format: "name" }),
  ],
  cells: (e, now) => {
    const io = e.involvedObject ?? {};
    const last = e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
    const first = e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
    const source = e.source?.component ? (e.source.host ? `${e.source.component}, ${e.source.host}` : e.source.component) : e.reportingComponent ?? "";
    return [
      since(last, now),
      e.type ?? "",
      e.reason ?? "",
      `${String(io.kind ?? "").toLowerCase()}/${io.name ?? ""}`,
      io.fieldPath ?? "",
      source,
      String(e.message ?? "").trim(),
      since(first, now),
      e.series?.count ?? e.count ?? 1,
      e.metadata.name,
    ];
  },
};

const configmaps: Printer = {
  columns: [NAME, col("Data", "Number of data entries", { type: "integer" }), AGE],
  cells: (o, now) => [o.metadata.name, Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, age(o, now)],
};

const secrets: Printer = {
  columns: [NAME, col("Type", "The type of secret"), col("Data", "Number of data entries", { type: "integer" }), AGE],
  cells: (o, now) => [o.metadata.name, o.type ?? "Opaque", Object.keys(o.data ?? {}).length, age(o, now)],
};

const replicaColumns = [
  NAME,
  col("Desired", "Number of desired pods.", { type: "integer" }),
  col("Current", "Number of actual pods.", { type: "integer" }),
  col("Ready", "The number of ready replicas.", { type: "integer" }),
  AGE,
  wide("Containers", "Names of each container in the template."),
  wide("Images", "Images referenced by each container in the template."),
  wide("Selector", "Label query over pods that should match the replicas count."),
];

const replicasets: Printer = {
  columns: replicaColumns,
  cells: (o, now) => [
    o.metadata.name,
    o.spec?.replicas ?? 0,
    o.status?.replicas ?? 0,
    o.status?.readyReplicas ?? 0,
    age(o, now),
    containersCell(o),
    imagesCell(o),
    selectorString(o.spec?.selector),
  ],
};

const replicationcontrollers: Printer = {
  columns: replicaColumns,
  cells: (o, now) => [...replicasets.cells(o, now).slice(0, 7), mapSelector(o.spec?.selector)],
};

const deployments: Printer = {
  columns: [
    NAME,
    col("Ready", "Number of the pod with ready state"),
    col("Up-to-date", "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", { type: "integer" }),
    col("Available", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", { type: "integer" }),
    AGE,
    wide("Containers", "Names of each container in the template."),
    wide("Images", "Images referenced by each container in the template."),
    wide("Selector", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment."),
  ],
  cells: (o, now) => [
    o.metadata.name,
    `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`,
    o.status?.updatedReplicas ?? 0,
    o.status?.availableReplicas ?? 0,
    age(o, now),
    containersCell(o),
    imagesCell(o),
    selectorString(o.spec?.selector),
  ],
};

const endpointslices: Printer = {
  columns: [
    NAME,
    col("AddressType", "The type of address held in the slice."),
    col("Ports", "The ports the endpoints serve."),
    col("Endpoints", "The first few addresses of the slice."),
    AGE,
  ],
  cells: (o, now) => {
    const ports: any[] = o.ports ?? [];
    const addrs: string[] = (o.endpoints ?? []).flatMap((e: any) => e.addresses ?? []);
    const shown = addrs.length > 3 ? `${addrs.slice(0, 3).join(",")} + ${addrs.length - 3} more...` : addrs.length ? addrs.join(",") : "<unset>";
    return [o.metadata.name, o.addressType ?? "", ports.length ? ports.map((p) => p.port ?? "<unset>").join(",") : "<unset>", shown, age(o, now)];
  },
};

const leases: Printer = {
  columns: [NAME, col("Holder", "The holder of the lease"), AGE],
  cells: (o, now) => [o.metadata.name, o.spec?.holderIdentity ?? "", age(o, now)],
};

const fallback: Printer = {
  columns: [NAME, col("Created At", "Time when the object was created.", { type: "date" })],
  cells: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? ""],
};

const PRINTERS: Record<string, Printer> = {
  pods,
  nodes,
  namespaces,
  services,
  endpoints,
  events,
  configmaps,
  secrets,
  replicasets,
  replicationcontrollers,
  deployments,
  leases,
  endpointslices,
};

export const printerFor = (resource: string): Printer => PRINTERS[resource] ?? fallback;
