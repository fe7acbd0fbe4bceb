/**
 * The watched ConfigMaps and Secrets against a real Node control plane, as a joined node
 * with its own credential (so the Node authorizer decides what it may watch): an object
 * its pod uses is listed once and then followed by its watch (an update arrives with no
 * further request); one no pod of the node uses is refused, and its watch goes when
 * nobody asks for it any more.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNodeTarget } from "../test/targets";
import { ApiClient } from "./api";
import { WatchedObjects } from "./watchedobjects";

type NodeTarget = Awaited<ReturnType<typeof startNodeTarget>>;
let target: NodeTarget;
let admin: ApiClient;
let node: ApiClient;
const NODE = `wo-box-${process.pid}`;

const until = async <T>(f: () => T | null | undefined | false, ms = 20_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error("condition not met");
    await new Promise((r) => setTimeout(r, 50));
  }
};

beforeAll(async () => {
  target = await startNodeTarget({});
  admin = new ApiClient({ server: target.url, token: target.token, caPem: target.caPem });
  const tok = await admin.request("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { ttlSeconds: 600 });
  const joined = await new ApiClient({ server: target.url, token: tok.token, caPem: target.caPem }).request("POST", "/apis/kubeflare.dev/v1/join", {
    nodeName: NODE,
  });
  node = new ApiClient({ server: target.url, token: joined.token, caPem: target.caPem });
  await admin.request("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "used" }, data: { a: "1" } });
  await admin.request("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "unused" }, data: { a: "1" } });
  await admin.request("POST", "/api/v1/namespaces/default/pods", {
    metadata: { name: "mine" },
    spec: { nodeName: NODE, containers: [{ name: "c", image: "i" }], volumes: [{ name: "cfg", configMap: { name: "used" } }] },
  });
}, 60_000);
afterAll(async () => {
  await node?.close();
  await admin?.close();
  await target?.close();
});

describe("watched ConfigMaps and Secrets", () => {
  it("lists an object its pods use once, then follows it by its watch; refuses others; stops watches nobody asks for", async () => {
    let requests = 0;
    const counted = {
      request: ((...a: Parameters<ApiClient["request"]>) => {
        requests++;
        return node.request(...a);
      }) as ApiClient["request"],
      watch: node.watch.bind(node),
    };
    let now = Date.now();
    const logs: string[] = [];
    const w = new WatchedObjects({ api: counted, now: () => now, log: (m) => logs.push(m), idleMs: 60_000 });
    try {
      // not listed yet: the caller reads it itself this time
      expect(w.get("configmaps", "default", "used")).toBeUndefined();
      const first = await until(() => w.get("configmaps", "default", "used"));
      expect(first.data).toEqual({ a: "1" });
      await admin.request("PUT", "/api/v1/namespaces/default/configmaps/used", { ...first, data: { a: "2" } });
      const second = await until(() => {
        const o = w.get("configmaps", "default", "used");
        return o?.data?.a === "2" && o;
      });
      expect(second.data).toEqual({ a: "2" });
      // one list; the update came by the watch
      expect(requests).toBe(1);

      // an object no pod of this node uses: the Node authorizer refuses its list, so it never syncs
      expect(w.get("configmaps", "default", "unused")).toBeUndefined();
      await until(() => logs.some((m) => m.includes("configmaps") && m.includes("no relationship found")));
      expect(w.get("configmaps", "default", "unused")).toBeUndefined();

      // nobody asks for a minute: both watches stop
      expect(w.size).toBe(2);
      now += 61_000;
      w.sweep();
      expect(w.size).toBe(0);
    } finally {
      w.stop();
    }
  });
});
