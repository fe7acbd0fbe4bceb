/** What the tests that run a real NodeAgent on this host (exec, attach, port-forward, the terminal) give it alike. */
import { join } from "node:path";

/**
 * A NodeAgent's options on this host: node IP 127.0.0.1, its data in `dir`/data, the test
 * images' pause container, no cluster DNS, a sync every 300 ms. The caller adds api, runtime,
 * nodeName and log.
 */
export const hostAgentOptions = (dir: string) => ({
  nodeIP: "127.0.0.1",
  dataDir: join(dir, "data"),
  pauseImage: "kubeflare/pause:test",
  clusterDNS: "",
  dnsListen: null,
  syncIntervalMs: 300,
});
