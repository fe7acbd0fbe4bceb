/**
 * The token → user cache in front of the authenticator chain: the real store and
 * resource layer (two registries on one database file stand for two isolates or
 * processes), a fake clock. A token is checked once per TTL; deleting what a cached user
 * rests on (a node credential, a ServiceAccount, the pod a token is bound to) through the
 * same registry refuses it at once, through another one within the TTL.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../node/db";
import { fakeClock } from "../../test/controlplane";
import { anyOf, staticTokens } from "../api/auth";
import { composeControlPlane } from "../compose";
import { discardQueue } from "../queue";
import { resourceByName } from "./kinds";
import { AuthCaches } from "./rbac/service";
import { TOKEN_CACHE_TTL_MS, TokenUserCache } from "./tokenusers";
import type { User } from "./user";
import { SYSTEM_USER } from "./user";

const TTL = TOKEN_CACHE_TTL_MS;
const ADMIN = "admin-token-0123456789";
let dir: string;
let closers: (() => void)[];
const clock = fakeClock(Date.parse("2026-03-01T00:00:00Z"));

/** A process or isolate: its registry, and its authenticator as the composition root builds it, counting the chain's checks. */
const isolate = async () => {
  const client = await openDatabase(`file:${join(dir, "db.sqlite")}`, { synchronous: "NORMAL" });
  closers.push(() => client.close());
  const { registry } = composeControlPlane({ client, queue: discardQueue, controllers: [], now: clock.now, registry: { authCaches: new AuthCaches() } });
  await registry.bootstrap();
  const counted = { checks: 0 };
  const tokens = staticTokens({ adminToken: ADMIN });
  const authenticate = registry.auth.authenticate(
    anyOf(
      async (t) => {
        counted.checks++;
        return tokens(t);
      },
      (t) => registry.nodes.authenticate(t),
    ),
  );
  return Object.assign(counted, { registry, authenticate });
};

const secrets = resourceByName("secrets");

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kf-token-users-"));
  closers = [];
});
afterEach(() => {
  for (const c of closers) c();
  rmSync(dir, { recursive: true, force: true });
});

describe("token → user cache", () => {
  it("checks a token once per TTL; failures are not kept", async () => {
    const a = await isolate();
    for (let i = 0; i < 5; i++) expect((await a.authenticate(ADMIN))?.name).toBe("admin");
    expect(a.checks).toBe(1);
    clock.advance(TTL + 1);
    expect((await a.authenticate(ADMIN))?.name).toBe("admin");
    expect(a.checks).toBe(2);
    expect(await a.authenticate("nobody")).toBeNull();
    expect(await a.authenticate("nobody")).toBeNull();
    expect(a.checks).toBe(4);
  });

  it("a node credential deleted through this registry is refused at once; through another, once the TTL has passed", async () => {
    const a = await isolate();
    const b = await isolate();
    const { token } = await a.registry.nodes.issue("box");
    expect((await a.authenticate(token))?.name).toBe("system:node:box");
    await a.registry.delete(SYSTEM_USER, secrets, "kube-system", "node-credential-box", {});
    expect(await a.authenticate(token)).toBeNull();

    const { token: again } = await a.registry.nodes.issue("box");
    expect((await a.authenticate(again))?.name).toBe("system:node:box");
    await b.registry.delete(SYSTEM_USER, secrets, "kube-system", "node-credential-box", {});
    expect(await b.authenticate(again)).toBeNull();
    // a's copy lives out its TTL (kube-apiserver's cache behaves the same), not longer
    expect((await a.authenticate(again))?.name).toBe("system:node:box");
    clock.advance(TTL + 1);
    expect(await a.authenticate(again)).toBeNull();
  });

  it("a ServiceAccount token is refused at once when its account or its bound pod is deleted here", async () => {
    const a = await isolate();
    const r = a.registry;
    await r.create(SYSTEM_USER, resourceByName("serviceaccounts"), "default", { metadata: { name: "app" } });
    await r.create(SYSTEM_USER, resourceByName("pods"), "default", {
      metadata: { name: "p" },
      spec: { serviceAccountName: "app", containers: [{ name: "c", image: "busybox" }] },
    });
    const bound = (await r.auth.tokens.request(SYSTEM_USER, "default", "app", { spec: { boundObjectRef: { kind: "Pod", name: "p" } } })).status.token;
    const plain = (await r.auth.tokens.request(SYSTEM_USER, "default", "app", { spec: {} })).status.token;
    expect((await a.authenticate(bound))?.name).toBe("system:serviceaccount:default:app");
    expect((await a.authenticate(plain))?.name).toBe("system:serviceaccount:default:app");
    // another pod's write leaves both alone
    await r.create(SYSTEM_USER, resourceByName("pods"), "default", { metadata: { name: "q" }, spec: { containers: [{ name: "c", image: "busybox" }] } });
    expect(await a.authenticate(bound)).not.toBeNull();
    await r.delete(SYSTEM_USER, resourceByName("pods"), "default", "p", { gracePeriodSeconds: 0 });
    expect(await a.authenticate(bound)).toBeNull();
    expect(await a.authenticate(plain)).not.toBeNull();
    await r.delete(SYSTEM_USER, resourceByName("serviceaccounts"), "default", "app", {});
    expect(await a.authenticate(plain)).toBeNull();
  });

  it("keeps no user whose credential was written while it was being checked, and no more than its bound", () => {
    const cache = new TokenUserCache(TTL, 2);
    const node: User = { name: "system:node:box", role: "node", nodeName: "box" };
    const mark = cache.mark();
    cache.written("secrets", "kube-system", "node-credential-box");
    cache.set("t1", node, 0, mark);
    expect(cache.get("t1", 1)).toBeUndefined();
    // a pod write does not stop a node's or a static user's check from being kept
    const mark2 = cache.mark();
    cache.written("pods", "default", "p");
    cache.set("t1", node, 0, mark2);
    cache.set("t2", { name: "admin", role: "admin" }, 0, mark2);
    cache.set("t3", { name: "viewer", role: "user" }, 0, mark2);
    expect([cache.get("t1", 1), cache.get("t2", 1)?.name, cache.get("t3", 1)?.name]).toEqual([undefined, "admin", "viewer"]);
    expect(cache.size).toBe(2);
    expect(cache.get("t2", TTL + 1)).toBeUndefined();
  });
});
