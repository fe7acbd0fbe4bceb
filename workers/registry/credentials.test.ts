/**
 * Node credentials kept per isolate: the real store and resource layer, two of them on
 * one database file (two Worker isolates), a fake clock. A node's requests read its
 * credential Secret once per TTL; a credential revoked in another isolate stops
 * working once the TTL has passed, in the same isolate at once; a credential issued
 * elsewhere works at once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../node/db";
import { fakeClock } from "../../test/controlplane";
import { composeControlPlane } from "../compose";
import { discardQueue } from "../queue";
import { CredentialCache } from "./credentials";
import type { Registry } from "./registry";
import { SYSTEM_USER } from "./user";
import { resourceByName } from "./kinds";

const TTL = 10_000;
let dir: string;
let closers: (() => void)[];
const clock = fakeClock();

/** An isolate: its own client, registry and credential cache on the shared file; `reads` counts credential Secret reads. */
const isolate = async () => {
  const client = await openDatabase(`file:${join(dir, "db.sqlite")}`, { synchronous: "NORMAL" });
  closers.push(() => client.close());
  const { registry } = composeControlPlane({
    client,
    queue: discardQueue,
    controllers: [],
    now: clock.now,
    registry: { credentialCache: new CredentialCache(TTL) },
  });
  await registry.bootstrap();
  const counted = { reads: 0 };
  const get = registry.store.get.bind(registry.store);
  registry.store.get = (async (key: Parameters<typeof get>[0]) => {
    if (key.name.startsWith("node-credential-")) counted.reads++;
    return get(key);
  }) as typeof registry.store.get;
  return Object.assign(counted, { registry });
};

const deleteCredential = (r: Registry, node: string) => r.delete(SYSTEM_USER, resourceByName("secrets"), "kube-system", `node-credential-${node}`, {});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kf-cred-cache-"));
  closers = [];
});
afterEach(() => {
  for (const c of closers) c();
  rmSync(dir, { recursive: true, force: true });
});

describe("node credential cache", () => {
  it("reads a node's credential Secret once per TTL, not on every request", async () => {
    const a = await isolate();
    const { token } = await a.registry.nodes.issue("box");
    a.reads = 0; // issuing reads it too
    for (let i = 0; i < 5; i++) expect((await a.registry.nodes.authenticate(token))?.name).toBe("system:node:box");
    expect(a.reads).toBe(1);
    clock.advance(TTL + 1);
    expect((await a.registry.nodes.authenticate(token))?.name).toBe("system:node:box");
    expect(a.reads).toBe(2);
  });

  it("a credential deleted in another isolate stops working once the TTL has passed; in the same isolate at once", async () => {
    const a = await isolate();
    const b = await isolate();
    const { token } = await a.registry.nodes.issue("box");
    expect(await a.registry.nodes.authenticate(token)).not.toBeNull();
    await deleteCredential(b.registry, "box");
    // b deleted it: b refuses at once, a may still accept it until its copy is TTL old
    expect(await b.registry.nodes.authenticate(token)).toBeNull();
    clock.advance(TTL + 1);
    expect(await a.registry.nodes.authenticate(token)).toBeNull();

    const { token: again } = await a.registry.nodes.issue("box");
    expect(await a.registry.nodes.authenticate(again)).not.toBeNull();
    await deleteCredential(a.registry, "box");
    expect(await a.registry.nodes.authenticate(again)).toBeNull();
  });

  it("a credential replaced in another isolate: the new one works at once, the old one stops once the TTL has passed", async () => {
    const a = await isolate();
    const b = await isolate();
    const { token: old } = await a.registry.nodes.issue("box");
    expect(await a.registry.nodes.authenticate(old)).not.toBeNull();
    const { token: fresh } = await b.registry.nodes.issue("box");
    expect((await a.registry.nodes.authenticate(fresh))?.name).toBe("system:node:box");
    clock.advance(TTL + 1);
    expect(await a.registry.nodes.authenticate(old)).toBeNull();
    expect(await a.registry.nodes.authenticate(fresh)).not.toBeNull();
  });

  it("keeps no more than its bound, and nothing for tokens of nodes without a credential", async () => {
    const cache = new CredentialCache(TTL, 2);
    cache.set("a", "h1", 0);
    cache.set("b", "h2", 0);
    cache.set("c", "h3", 0);
    expect([cache.get("a", 1), cache.get("b", 1), cache.get("c", 1)]).toEqual([undefined, "h2", "h3"]);
    const a = await isolate();
    const forged = `kfn.ghost.${"x".repeat(40)}`;
    expect(await a.registry.nodes.authenticate(forged)).toBeNull();
    expect(await a.registry.nodes.authenticate(forged)).toBeNull();
    expect(a.reads).toBe(2);
  });
});
