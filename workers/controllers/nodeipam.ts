/**
 * Node IPAM (kube-controller-manager's nodeipam controller with the range allocator):
 * every Node without spec.podCIDR gets the next free /24 of the cluster CIDR in
 * spec.podCIDR and spec.podCIDRs; a deleted node's block is free again; when the range
 * is used up the node gets a Warning Event CIDRNotAvailable and waits.
 *
 * Kubernetes' allocator keeps its bitmap in the memory of the one leader. Kubeflare
 * may reconcile two nodes at once (in several Worker isolates), so the allocation is
 * recorded first in one ConfigMap, kube-system/kubeflare-node-ipam (node name ->
 * block), written compare-and-swap: of two reconciles that pick the same block, one
 * write fails with 409 and that one picks again. Only then is the block written to the
 * Node (also compare-and-swap). The record is rebuilt from the Nodes as it goes: blocks
 * of nodes that are gone are dropped, blocks set on Nodes by other means are added.
 */
import { type Cidr, formatCidr, nthSubnet, NODE_CIDR_PREFIX, parseCidr, subnetCount } from "../../shared/net/cidr";
import { ApiError } from "../../shared/status";
import type { KObject, ObjectKey } from "../../shared/types";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import { type Controller, pool } from "./manager";

export const IPAM_NAMESPACE = "kube-system";
export const IPAM_CONFIGMAP = "kubeflare-node-ipam";

const nodeKey = (name: string): ObjectKey => ({ resource: "nodes", namespace: "", name });
const podCIDROf = (n: KObject): string | undefined => (typeof n.spec?.podCIDR === "string" && n.spec.podCIDR ? n.spec.podCIDR : undefined);

/** The first /24 of the range that no node holds or has been promised, or undefined when the range is used up. */
export const firstFreeBlock = (range: Cidr, taken: Set<string>): string | undefined => freeBlocks(range, taken).next().value ?? undefined;

/** The free /24s of the range in order (one walk of the range for a whole batch of nodes, not one per node). */
function* freeBlocks(range: Cidr, taken: Set<string>): Generator<string, undefined> {
  const count = subnetCount(range, NODE_CIDR_PREFIX);
  for (let i = 0; i < count; i++) {
    const block = formatCidr(nthSubnet(range, NODE_CIDR_PREFIX, i)!);
    if (!taken.has(block)) yield block;
  }
  return undefined;
}

/** The allocation record, created empty when missing. */
const record = async (ctx: ControllerContext): Promise<KObject> => {
  const cm = await ctx.api.get("configmaps", IPAM_NAMESPACE, IPAM_CONFIGMAP);
  if (cm) return cm;
  try {
    return await ctx.api.create("configmaps", IPAM_NAMESPACE, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: IPAM_CONFIGMAP, labels: { "app.kubernetes.io/managed-by": "kubeflare-node-ipam" } },
      data: {},
    });
  } catch (e) {
    if (e instanceof ApiError && e.reason === "AlreadyExists") return (await ctx.api.get("configmaps", IPAM_NAMESPACE, IPAM_CONFIGMAP))!;
    throw e;
  }
};

/**
 * Allocate blocks to the nodes of `keys` that have none, all at once: one read of the
 * record and of the Nodes, one write of the record with every new promise, then each
 * Node's patch. When 1,000 nodes join, a reconcile per node read every Node each
 * (a million objects decoded) and wrote the record once per node, each write a
 * conflict for the others; a batch of them costs what one did.
 */
const allocate = async (keys: ObjectKey[], ctx: ControllerContext): Promise<ReconcileResult> => {
  const range = parseCidr(ctx.config.clusterCIDR)!;
  const cm = await record(ctx);
  const nodes = await ctx.api.list("nodes");
  const claims: Record<string, string> = { ...(cm.data ?? {}) };
  let changed = false;
  let released = false;
  const byName = new Map(nodes.map((n) => [n.metadata.name!, n]));
  for (const name of Object.keys(claims)) {
    if (!byName.has(name)) {
      delete claims[name];
      changed = released = true;
    }
  }
  for (const n of nodes) {
    const cidr = podCIDROf(n);
    if (cidr && claims[n.metadata.name!] !== cidr) {
      claims[n.metadata.name!] = cidr;
      changed = true;
    }
  }
  const wanting = [...new Set(keys.map((k) => k.name))].flatMap((name) => {
    const node = byName.get(name);
    return node && !podCIDROf(node) && !node.metadata.deletionTimestamp ? [node] : [];
  });
  const asking = new Set(wanting.map((n) => n.metadata.name!));
  // what other nodes hold or were promised
  const taken = new Set(Object.entries(claims).flatMap(([name, cidr]) => (asking.has(name) ? [] : [cidr])));
  const assigned = new Map<string, string>();
  // promises made before (a patch that failed) are kept, if still free; the others get the next free blocks in turn
  for (const node of wanting) {
    const promised = claims[node.metadata.name!];
    if (promised && !taken.has(promised)) {
      assigned.set(node.metadata.name!, promised);
      taken.add(promised);
    }
  }
  const free = freeBlocks(range, taken);
  for (const node of wanting) {
    const name = node.metadata.name!;
    if (assigned.has(name)) continue;
    const block = free.next().value;
    if (!block) break;
    assigned.set(name, block);
    if (claims[name] !== block) {
      claims[name] = block;
      changed = true;
    }
  }
  for (const node of wanting) {
    const name = node.metadata.name!;
    if (!assigned.has(name) && claims[name] !== undefined) {
      // its promise went to another node (set by other means): it waits with the rest
      delete claims[name];
      changed = true;
    }
  }
  if (changed) {
    try {
      await ctx.api.update("configmaps", { ...cm, data: claims });
    } catch (e) {
      // another reconcile recorded first: look again at what it did
      if (isConflict(e)) return { requeueAfterMs: 20 };
      throw e;
    }
  }
  if (released) {
    // nodes that waited for a free block may have one now
    const waiting = nodes.filter((n) => !podCIDROf(n) && !asking.has(n.metadata.name!)).map((n) => nodeKey(n.metadata.name!));
    if (waiting.length) ctx.requeueAfter(waiting, 1, "node-ipam");
  }
  const again: ObjectKey[] = [];
  await pool(wanting, 8, async (node) => {
    const name = node.metadata.name!;
    const assign = assigned.get(name);
    if (!assign) {
      await ctx.events.record(node, "Warning", "CIDRNotAvailable", `Node ${name} status is now: CIDRNotAvailable`);
      ctx.log(`node-ipam: no free /${NODE_CIDR_PREFIX} left in ${ctx.config.clusterCIDR} for node ${name}`);
      return;
    }
    try {
      await ctx.api.patch("nodes", "", name, "merge", {
        metadata: { resourceVersion: node.metadata.resourceVersion },
        spec: { podCIDR: assign, podCIDRs: [assign] },
      });
    } catch (e) {
      // the node changed (an agent's heartbeat) or went: look again; a gone node's block is dropped then
      if (isConflict(e) || isNotFound(e)) again.push(nodeKey(name));
      else throw e;
    }
  });
  if (again.length) ctx.requeueAfter(again, 20, "node-ipam");
};

const reconcile = (key: ObjectKey, ctx: ControllerContext): Promise<ReconcileResult> => allocate([key], ctx);

export const nodeIpamController: Controller = {
  name: "node-ipam",
  primary: ["nodes"],
  /**
   * Only a node without a block, or one deleted (its block goes back): each reconcile
   * reads every Node, so a heartbeat or status write of a node that has its block must
   * not cost one (at 1,000 nodes that was a read of all of them per node write). A node
   * created with a podCIDR of its own is recorded by the next allocation, which reads
   * every node's podCIDR before it picks a free block.
   */
  wants: ({ obj, deleted }) => deleted || !obj || !podCIDROf(obj),
  reconcile,
  /** a batch of nodes (many joining at once) in one allocation */
  reconcileBatch: allocate,
  /** nodes still waiting for a block (a range that was full) */
  async resync(ctx) {
    return (await ctx.api.list("nodes")).filter((n) => !podCIDROf(n)).map((n) => nodeKey(n.metadata.name!));
  },
};
