/**
 * The hostile-input sweep (issue #9), against the Node server and the Worker: every
 * served resource × malformed bodies, wrong types per schema field, oversized values,
 * bad query parameters, bad encodings and paths, on POST, PUT, PATCH (all four types)
 * and DELETE (test/hostile-cases.ts builds them, from a fixed seed).
 *
 * Each case must get a 4xx whose body is a Kubernetes Status (kind Status, status
 * Failure, code equal to the HTTP status, a reason), and must write nothing: the
 * store's global revision (a list's metadata.resourceVersion) is the same before and
 * after. Meanwhile a prober reads the default namespace every 50 ms; it must always be
 * answered within 2 s (liveness while under attack, not a benchmark).
 *
 * Failures are collected and compared with [] so one run lists every broken input:
 *   "POST pods spec.containers={} → 500 InternalError "…""
 *
 * Environment: HOSTILE_SEED (default 9) picks another deterministic sweep,
 * HOSTILE_VERBOSE=1 prints each group's size, time and slowest probe, HOSTILE_DUMP=file
 * appends every outcome (label, status, reason, message, ms) to a file as JSON lines.
 */
import { appendFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { resourceByName } from "../workers/registry/kinds";
import { collectionPath, type Fixtures, type HostileCase, hostileCases, NS, objectPath, STORED_RESOURCES, validObject } from "./hostile-cases";
import { startNodeTarget, startWorkerTarget, type Target } from "./targets";

const SEED = Number(process.env.HOSTILE_SEED ?? 9);
/** requests in flight at once */
const CONCURRENCY = 4;
/** the prober must be answered within this while the sweep runs */
const LIVENESS_MS = 2000;
/** a case with no answer after this is a failure (and stops holding the sweep) */
const CASE_TIMEOUT_MS = 20_000;

const CASES = hostileCases({ seed: SEED });
const GROUPS = [...new Set(CASES.map((c) => c.group))];

const JSON_CT = { "Content-Type": "application/json" };
/** HOSTILE_DUMP=file: append every outcome there as a JSON line (to see what each input got) */
const DUMP = process.env.HOSTILE_DUMP;

/** The store's global revision: any write moves it. */
const revision = async (t: Target): Promise<number> => {
  const res = await t.fetch("/api/v1/namespaces?limit=1");
  const body: any = await res.json();
  const rv = Number(body?.metadata?.resourceVersion);
  if (!Number.isFinite(rv)) throw new Error(`no revision in ${JSON.stringify(body).slice(0, 200)}`);
  return rv;
};

/** Per-resource fixtures, replaced under a new name when a case wrongly deletes one. */
class FixtureSet implements Fixtures {
  private names = new Map<string, string>();
  private generation = new Map<string, number>();
  constructor(private t: Target) {}
  name(resource: string) {
    const n = this.names.get(resource);
    if (!n) throw new Error(`no fixture for ${resource}`);
    return n;
  }
  async create(resource: string) {
    const info = resourceByName(resource);
    const gen = (this.generation.get(resource) ?? -1) + 1;
    this.generation.set(resource, gen);
    // a CRD's name is <plural>.<group>
    const name = resource === "customresourcedefinitions" ? `fx-crd-${gen}.hostile.example.com` : `fx-${resource}-${gen}`;
    const res = await this.t.fetch(collectionPath(info), { method: "POST", headers: JSON_CT, body: JSON.stringify(validObject(info, name)) });
    if (res.status !== 201) throw new Error(`fixture ${resource}/${name}: ${res.status} ${await res.text()}`);
    await res.body?.cancel();
    this.names.set(resource, name);
  }
  /** After a write: recreate the fixtures that are gone or being deleted. */
  async repair(resources: Iterable<string>) {
    for (const r of new Set(resources)) {
      const res = await this.t.fetch(objectPath(resourceByName(r), this.name(r)));
      let body: any;
      if (res.status === 200) body = await res.json();
      else await res.body?.cancel();
      if (!body || body.metadata?.deletionTimestamp) await this.create(r);
    }
  }
}

interface Outcome {
  c: HostileCase;
  method: string;
  path: string;
  status?: number;
  json?: any;
  text?: string;
  error?: string;
  ms?: number;
}

const isWrite = (method: string) => method !== "GET";

/** What is wrong with an answer to an invalid request ([] when it is a proper 4xx Status). */
const problems = (o: Outcome): string[] => {
  if (o.error) return [o.error];
  const s = o.status!;
  const out: string[] = [];
  if (s >= 500) out.push("server error");
  else if (s < 400) out.push(`accepted (${s}) although invalid`);
  else if (o.c.status && s !== o.c.status) out.push(`expected ${o.c.status}`);
  if (s >= 400) {
    const j = o.json;
    if (j === undefined) out.push("body is not JSON");
    else if (j.kind !== "Status" || j.status !== "Failure" || j.code !== s || typeof j.reason !== "string" || !j.reason) {
      out.push(`not a Failure Status with code ${s} and a reason: ${JSON.stringify(j).slice(0, 120)}`);
    }
  }
  return out;
};

const describeOutcome = (o: Outcome, extra: string[] = []) => {
  const j = o.json;
  const what =
    o.status! < 400 && j?.metadata
      ? `${j.kind ?? "object"} ${j.metadata.name ?? ""}`.trim()
      : `${j?.reason ?? ""} ${JSON.stringify((typeof j?.message === "string" ? j.message : (o.text ?? "")).slice(0, 140))}`;
  const head = o.error ? `${o.c.label} → no answer` : `${o.c.label} → ${o.status} ${what}`;
  const path = o.c.label.includes(o.path) ? "" : ` (${o.method} ${o.path.length > 140 ? o.path.slice(0, 140) + "…" : o.path})`;
  return `${head}${path} [${[...problems(o), ...extra].join("; ")}]`;
};

const runCase = async (t: Target, c: HostileCase, fx: Fixtures, inFlight: Set<string>): Promise<Outcome> => {
  const b = c.build(fx, c.id);
  inFlight.add(c.label);
  const t0 = performance.now();
  try {
    const res = await t.fetch(b.path, {
      method: b.method,
      headers: b.headers,
      body: b.body as BodyInit | undefined,
      signal: AbortSignal.timeout(CASE_TIMEOUT_MS),
    });
    let text = "";
    if (b.stream && res.status < 300) await res.body?.cancel();
    else text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { c, method: b.method, path: b.path, status: res.status, json, text: text.slice(0, 300), ms: performance.now() - t0 };
  } catch (e) {
    return { c, method: b.method, path: b.path, error: `request failed: ${(e as Error).message}` };
  } finally {
    inFlight.delete(c.label);
  }
};

/** Reads GET /api/v1/namespaces/default every 50 ms until stopped; notes every answer slower than LIVENESS_MS. */
const startProber = (t: Target, inFlight: Set<string>) => {
  let stopped = false;
  let max = 0;
  let count = 0;
  const slow: string[] = [];
  const loop = (async () => {
    while (!stopped) {
      const inFlightAtStart = [...inFlight];
      const t0 = performance.now();
      let ok = true;
      try {
        const res = await t.fetch("/api/v1/namespaces/default", { signal: AbortSignal.timeout(30_000) });
        await res.text();
        ok = res.status === 200;
      } catch {
        ok = false;
      }
      const ms = performance.now() - t0;
      count++;
      max = Math.max(max, ms);
      if (!ok || ms > LIVENESS_MS)
        slow.push(`probe ${ok ? "answered" : "failed"} after ${Math.round(ms)} ms; in flight: ${[...new Set([...inFlightAtStart, ...inFlight])].join(" | ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { max, count, slow };
    },
  };
};

/**
 * Batches of up to CONCURRENCY cases. Cases on the same fixture never share a batch
 * (one wrongly accepted DELETE would turn the other into a 404 that tests nothing),
 * so the cases are dealt round-robin over fixtures first; a solo case runs alone.
 */
const batches = (cases: HostileCase[]): HostileCase[][] => {
  const byFixture = new Map<string, HostileCase[]>();
  for (const c of cases) {
    const key = c.resource ?? `-${c.id}`;
    byFixture.set(key, [...(byFixture.get(key) ?? []), c]);
  }
  const queues = [...byFixture.values()];
  const dealt: HostileCase[] = [];
  for (let i = 0; dealt.length < cases.length; i++) for (const q of queues) if (q[i]) dealt.push(q[i]);
  const out: HostileCase[][] = [];
  let cur: HostileCase[] = [];
  const flush = () => {
    if (cur.length) out.push(cur);
    cur = [];
  };
  for (const c of dealt) {
    if (c.solo) {
      flush();
      out.push([c]);
      continue;
    }
    if (cur.length === CONCURRENCY || (c.resource && cur.some((x) => x.resource === c.resource))) flush();
    cur.push(c);
  }
  flush();
  return out;
};

/** Run the cases a batch at a time, checking each answer and the store's revision around each batch. */
const sweep = async (t: Target, fx: FixtureSet, cases: HostileCase[]) => {
  const failures: string[] = [];
  const inFlight = new Set<string>();
  const prober = startProber(t, inFlight);
  let before = await revision(t);
  for (const batch of batches(cases)) {
    const outcomes = await Promise.all(batch.map((c) => runCase(t, c, fx, inFlight)));
    const after = await revision(t);
    const delta = after - before;
    // a 2xx write accounts for (at most) one revision, bar a solo case; anything beyond is a refused request that wrote
    const accepted = outcomes.filter((o) => isWrite(o.method) && o.status !== undefined && o.status < 300);
    const unexplained = delta > accepted.length;
    for (const o of outcomes) {
      const extra: string[] = [];
      if (delta > 0 && accepted.includes(o)) extra.push("and it was written");
      if (unexplained && !accepted.includes(o)) {
        extra.push(`something was written although refused (revision ${before}→${after} in a batch of ${batch.length})`);
      }
      if (problems(o).length || extra.length) failures.push(describeOutcome(o, extra));
      if (DUMP)
        appendFileSync(
          DUMP,
          JSON.stringify({
            label: o.c.label,
            method: o.method,
            path: o.path.slice(0, 200),
            status: o.status,
            ms: Math.round(o.ms ?? 0),
            reason: o.json?.reason,
            message: String(o.json?.message ?? o.error ?? "").slice(0, 200),
          }) + "\n",
        );
    }
    if (delta !== 0) {
      await fx.repair(batch.flatMap((c) => (c.resource ? [c.resource] : [])));
      before = await revision(t);
    } else before = after;
  }
  const probe = await prober.stop();
  return { failures, probe };
};

const runtimes: [string, () => Promise<Target>][] = [
  ["Node", () => startNodeTarget()],
  ["Worker", () => startWorkerTarget()],
];

for (const [runtime, start] of runtimes) {
  describe(`hostile-input sweep (${runtime})`, () => {
    let t: Target;
    let fx: FixtureSet;
    const serverErrors = vi.fn();
    beforeAll(async () => {
      // the Node server runs in this process: keep its stack traces (one per 500) out of the output
      vi.spyOn(console, "error").mockImplementation(serverErrors);
      t = await start();
      const ns = await t.fetch("/api/v1/namespaces", {
        method: "POST",
        headers: JSON_CT,
        body: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } }),
      });
      expect(ns.status, await ns.text()).toBe(201);
      fx = new FixtureSet(t);
      for (const info of STORED_RESOURCES) await fx.create(info.resource);
    });
    afterAll(async () => {
      await t?.close();
      vi.restoreAllMocks();
    });

    it("has a deterministic sweep of every served resource", () => {
      expect(hostileCases({ seed: SEED }).map((c) => c.label)).toEqual(CASES.map((c) => c.label));
      const labels = CASES.map((c) => c.label).join("\n");
      for (const info of STORED_RESOURCES) expect(labels).toContain(`POST ${info.resource} body=[]`);
    });

    for (const group of GROUPS) {
      const cases = CASES.filter((c) => c.group === group);
      it(`${group}: ${cases.length} invalid requests each get a 4xx Status, write nothing, and the server stays responsive`, async () => {
        const t0 = performance.now();
        const { failures, probe } = await sweep(t, fx, cases);
        if (process.env.HOSTILE_VERBOSE) {
          console.log(
            `${runtime} ${group}: ${cases.length} cases in ${Math.round(performance.now() - t0)} ms, ${failures.length} failures, ${probe.count} probes, slowest ${Math.round(probe.max)} ms`,
          );
        }
        expect.soft(failures).toEqual([]);
        expect.soft(probe.slow, `prober: ${probe.count} probes, slowest ${Math.round(probe.max)} ms`).toEqual([]);
      }, 180_000);
    }
  });
}
