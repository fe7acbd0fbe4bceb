/** Reading Prometheus text expositions in tests. */

/** The value of the sample `name{labels}` whose labels include all of `want` (summed over the others), or undefined. */
export const sample = (text: string, name: string, want: Record<string, string> = {}): number | undefined => {
  let total: number | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    if (Object.entries(want).every(([k, v]) => labels[k] === v)) total = (total ?? 0) + Number(m[3]);
  }
  return total;
};
