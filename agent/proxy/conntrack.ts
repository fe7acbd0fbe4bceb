/**
 * Stale UDP flows. A UDP "connection" in conntrack keeps its DNAT target for as long as
 * packets keep coming (30 s after the last one, 120 s once answered), so a client that
 * reuses its source port (a resolver, a game, a syslog sender) would keep sending to an
 * endpoint that is gone or not ready. kube-proxy deletes those entries after each sync
 * (pkg/proxy/conntrack: the entries of endpoints removed from a UDP Service port, and of
 * a UDP Service port that gets its first endpoint); this does the same with the
 * `conntrack` CLI, from the difference between the previous and the new ruleset.
 */

/** `conntrack` arguments that delete the flows the change from `before` to `after` left stale */
export function staleUdpFlows(before: Map<string, Set<string>> | undefined, after: Map<string, Set<string>>): string[][] {
  if (!before) return [];
  const out: string[][] = [];
  const frontend = (key: string) => {
    const i = key.lastIndexOf(":");
    const ip = key.slice(0, i);
    const port = key.slice(i + 1);
    return [...(ip ? ["--orig-dst", ip] : []), "--orig-port-dst", port];
  };
  for (const [key, eps] of before) {
    const now = after.get(key);
    for (const ip of eps) if (!now?.has(ip)) out.push(["-D", "-p", "udp", ...frontend(key), "--dst-nat", ip]);
  }
  // a port that had no endpoint: whatever conntrack remembers for it was never DNATed
  for (const key of after.keys()) if (!before.has(key)) out.push(["-D", "-p", "udp", ...frontend(key)]);
  return out;
}

/** conntrack's exit status when a filter matched nothing (not an error here) */
export const NOTHING_DELETED = "0 flow entries have been deleted";
