/**
 * One kubectl session, run against both runtimes: `npm start`'s server (node/server.ts,
 * its own data dir and kubeconfig) and the Worker in Miniflare over HTTPS with its
 * controllers on the queue. `session` declares the tests; it reads `k` when they run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { type RunningServer, startServer } from "../node/server";
import { type Kubectl, kubectl } from "./kubectl";
import { startWorkerTarget } from "./targets";

export const onBothRuntimes = (title: string, session: (get: () => { k: Kubectl }) => void, version = "1.32"): void => {
  describe(`${title}: npm start`, () => {
    let server: RunningServer;
    let dir: string;
    let k: Kubectl;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "kf-kubectl-"));
      server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "data"), synchronous: "NORMAL", watchPollMs: 200, log: () => {} });
      k = kubectl(server.kubeconfigPath, version, dir);
    }, 60_000);
    afterAll(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });
    session(() => ({ k }));
  });

  describe(`${title}: the Worker`, () => {
    let t: Awaited<ReturnType<typeof startWorkerTarget>>;
    let k: Kubectl;
    beforeAll(async () => {
      t = await startWorkerTarget({ controllers: true, https: true });
      k = kubectl(t.kubeconfigPath!, version);
    }, 60_000);
    afterAll(async () => t?.close());
    session(() => ({ k }));
  });
};
