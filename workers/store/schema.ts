import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * The change log: one row per create/update/delete. `rev` is the global revision
 * (kine's `id`). The UNIQUE (resource, namespace, name, prev_rev) index is the
 * compare-and-swap: two writers starting from the same revision cannot both append.
 * `object` holds the object as written (without metadata.resourceVersion, which is
 * `rev`); for DELETED rows it is the last state of the deleted object.
 */
export const changes = sqliteTable(
  "changes",
  {
    rev: integer("rev").primaryKey({ autoIncrement: true }),
    resource: text("resource").notNull(),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    type: text("type", { enum: ["ADDED", "MODIFIED", "DELETED"] }).notNull(),
    prevRev: integer("prev_rev").notNull(),
    object: text("object").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("changes_cas").on(t.resource, t.namespace, t.name, t.prevRev),
    index("changes_key_rev").on(t.resource, t.namespace, t.name, t.rev),
    index("changes_resource_rev").on(t.resource, t.rev),
  ],
);

/**
 * Current state: one row per live object, maintained from `changes` by SQLite
 * triggers (see the custom migration), with the columns selection needs.
 */
export const objects = sqliteTable(
  "objects",
  {
    resource: text("resource").notNull(),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    uid: text("uid").notNull(),
    rev: integer("rev").notNull(),
    nodeName: text("node_name"),
    phase: text("phase"),
    labels: text("labels"),
    object: text("object").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.resource, t.namespace, t.name] }),
    // a node's pods in list order (namespace, name): found without reading the others (`fieldSelector=spec.nodeName=…`)
    index("objects_node_pods").on(t.resource, t.nodeName, t.namespace, t.name),
    index("objects_uid").on(t.uid),
    index("objects_rev").on(t.rev),
  ],
);

/** ownerReferences of live objects, for the garbage collector and controllers. */
export const ownerRefs = sqliteTable(
  "owner_refs",
  {
    ownerUid: text("owner_uid").notNull(),
    resource: text("resource").notNull(),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    controller: integer("controller").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.ownerUid, t.resource, t.namespace, t.name] }), index("owner_refs_object").on(t.resource, t.namespace, t.name)],
);

/** Small key/value state of the store itself (compaction horizon). */
export const meta = sqliteTable("meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

/**
 * Container output shipped by the node agents (their boxes take no inbound
 * connections, so `kubectl logs` reads it here): lines of one container instance
 * (pod uid, container, restart attempt), trimmed to a bounded tail per container.
 */
export const podLogs = sqliteTable(
  "pod_logs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    podUid: text("pod_uid").notNull(),
    container: text("container").notNull(),
    attempt: integer("attempt").notNull(),
    /** RFC 3339 with nanoseconds, as the engine stamped the line */
    time: text("time").notNull(),
    stream: text("stream", { enum: ["stdout", "stderr"] }).notNull(),
    line: text("line").notNull(),
  },
  (t) => [index("pod_logs_container").on(t.podUid, t.container, t.attempt, t.id)],
);
