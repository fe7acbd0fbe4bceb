/**
 * What the bench harness (bench/run.ts) makes of the scenarios' figures: the table on
 * the terminal (figure, value, aim, reference, pass/miss), the machine output (-o json),
 * the Markdown report with SVG charts in bench-results/, and the progress line on
 * stderr. Pure functions but for `writeReport` and the progress line's stream.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Figure, meets } from "./figures";

export interface ScenarioOutcome {
  scenario: string;
  /** the figures, when it ran */
  figures?: Figure[];
  /** "skipped: no Docker", ... */
  skipped?: string;
  /** it failed: the error's message */
  error?: string;
  /** the scenario's own text report, when it has one */
  text?: string;
  seconds?: number;
}

// ---------------------------------------------------------------- numbers

/** A number with as many digits as it needs: 0.0042, 4.21, 42.1, 4,210. */
export const num = (x: number): string => {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString("en-US");
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return "0";
  return x.toPrecision(2);
};

export const valueText = (f: Figure): string => {
  const v = `${num(f.value)} ${f.unit}`;
  return f.min !== undefined && f.max !== undefined && (f.min !== f.value || f.max !== f.value) ? `${v} (${num(f.min)}–${num(f.max)})` : v;
};

export const aimText = (f: Figure): string => (f.aim ? `${f.aim.op === "<=" ? "≤" : "≥"} ${num(f.aim.value)} ${f.unit}` : "");

export const verdict = (f: Figure): "pass" | "miss" | "" => {
  const m = meets(f);
  return m === undefined ? "" : m ? "pass" : "miss";
};

// ---------------------------------------------------------------- medians over rounds

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The figures of repeated rounds as one set: by name, the median as the value, min and max beside it, the samples of all rounds. */
export const mergeRounds = (rounds: Figure[][]): Figure[] => {
  if (rounds.length <= 1) return rounds[0] ?? [];
  const byName = new Map<string, Figure[]>();
  for (const r of rounds) for (const f of r) byName.set(f.name, [...(byName.get(f.name) ?? []), f]);
  return [...byName.values()].map((fs) => {
    const values = fs.map((f) => f.value);
    const samples = fs.flatMap((f) => f.samples ?? []);
    return {
      ...fs[0],
      value: median(values),
      min: Math.min(...fs.map((f) => f.min ?? f.value)),
      max: Math.max(...fs.map((f) => f.max ?? f.value)),
      ...(samples.length ? { samples } : {}),
    };
  });
};

// ---------------------------------------------------------------- the table

const width = (s: string) => [...s].length;
const pad = (s: string, n: number) => s + " ".repeat(Math.max(0, n - width(s)));

/** One table for every scenario: figure, value (median, min–max), aim, reference, pass/miss; skipped and failed scenarios as lines of their own. */
export const table = (outcomes: ScenarioOutcome[]): string => {
  const head = ["figure", "value", "aim", "reference", "result"];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const o of outcomes) {
    if (o.skipped) notes.push(`${o.scenario}: ${o.skipped}`);
    if (o.error) notes.push(`${o.scenario}: failed: ${o.error}`);
    for (const f of o.figures ?? []) rows.push([f.name, valueText(f), aimText(f), f.reference ?? "", verdict(f)]);
  }
  const w = head.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i]))));
  // the reference column may be long: cut it so a row fits a wide terminal
  w[3] = Math.min(w[3], 70);
  const line = (r: string[]) =>
    r
      .map((c, i) => pad(i === 3 && width(c) > w[3] ? `${[...c].slice(0, w[3] - 1).join("")}…` : c, w[i]))
      .join("  ")
      .trimEnd();
  const out = [line(head), w.map((n) => "-".repeat(n)).join("  "), ...rows.map(line)];
  const tally = rows.filter((r) => r[4]);
  if (tally.length) out.push("", `${tally.filter((r) => r[4] === "pass").length} of ${tally.length} aims met`);
  if (notes.length) out.push("", ...notes);
  return out.join("\n");
};

/** -o json: every scenario's figures (samples cut to 1,000 evenly spaced, in order), skips and errors. */
export const machine = (outcomes: ScenarioOutcome[], meta: Record<string, unknown>) => ({
  ...meta,
  scenarios: outcomes.map((o) => ({
    scenario: o.scenario,
    ...(o.skipped ? { skipped: o.skipped } : {}),
    ...(o.error ? { error: o.error } : {}),
    ...(o.seconds !== undefined ? { seconds: Number(o.seconds.toFixed(1)) } : {}),
    figures: (o.figures ?? []).map((f) => ({ ...f, ...(f.samples ? { samples: thin(f.samples, 1000) } : {}), result: verdict(f) || undefined })),
  })),
});

const thin = (xs: number[], n: number) => (xs.length <= n ? xs : Array.from({ length: n }, (_, i) => xs[Math.floor((i * xs.length) / n)]));

// ---------------------------------------------------------------- charts (SVG)

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const W = 640;
const H = 260;
const M = { l: 56, r: 16, t: 28, b: 40 };

const frame = (title: string, body: string, xLabel: string, yLabel: string) =>
  [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>`,
    body,
    `<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="black"/>`,
    `<line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="black"/>`,
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 6}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="12" y="${(M.t + H - M.b) / 2}" text-anchor="middle" transform="rotate(-90 12 ${(M.t + H - M.b) / 2})">${esc(yLabel)}</text>`,
    "</svg>",
  ].join("\n");

/** A histogram of the samples (a latency distribution), with the aim as a red line when it falls in range. */
export const histogramSvg = (f: Figure, bins = 30): string => {
  const xs = f.samples ?? [];
  const sorted = [...xs].sort((a, b) => a - b);
  const lo = Math.min(sorted[0], f.aim && f.aim.value < sorted[0] ? f.aim.value : Infinity);
  // long tails: the range ends at the 99th percentile, the slowest 1 % counted in the last bin
  const p99 = sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)];
  const tail = p99 < sorted[sorted.length - 1];
  const hiData = p99;
  const hi = Math.max(hiData, f.aim && f.aim.value <= hiData * 1.5 ? f.aim.value : -Infinity);
  const span = hi - lo || 1;
  const counts = new Array(bins).fill(0);
  for (const x of xs) counts[Math.min(bins - 1, Math.max(0, Math.floor(((x - lo) / span) * bins)))]++;
  const top = Math.max(...counts, 1);
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const bw = pw / bins;
  const sx = (x: number) => M.l + ((x - lo) / span) * pw;
  const bars = counts
    .map((c, i) => {
      const h = (c / top) * ph;
      return `<rect x="${(M.l + i * bw + 1).toFixed(1)}" y="${(H - M.b - h).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#4a7fb5"/>`;
    })
    .join("\n");
  const ticks = [lo, lo + span / 2, hi].map((x) => `<text x="${sx(x).toFixed(1)}" y="${H - M.b + 14}" text-anchor="middle">${esc(num(x))}</text>`).join("\n");
  const yTicks = `<text x="${M.l - 6}" y="${M.t + 4}" text-anchor="end">${top}</text><text x="${M.l - 6}" y="${H - M.b}" text-anchor="end">0</text>`;
  const aim =
    f.aim && f.aim.value >= lo && f.aim.value <= hi
      ? `<line x1="${sx(f.aim.value).toFixed(1)}" y1="${M.t}" x2="${sx(f.aim.value).toFixed(1)}" y2="${H - M.b}" stroke="#c0392b" stroke-dasharray="4 3"/><text x="${(sx(f.aim.value) + 4).toFixed(1)}" y="${M.t + 10}" fill="#c0392b">aim ${esc(aimText(f))}</text>`
      : "";
  return frame(`${f.name} (${xs.length} samples${tail ? "; the last bar holds the slowest 1 %" : ""})`, [bars, ticks, yTicks, aim].join("\n"), f.unit, "count");
};

/** The samples in the order taken (throughput over time: one sample per interval). */
export const lineSvg = (f: Figure): string => {
  const xs = f.samples ?? [];
  const top = Math.max(...xs, f.aim?.value ?? -Infinity) * 1.05 || 1;
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const sx = (i: number) => M.l + (xs.length > 1 ? (i / (xs.length - 1)) * pw : pw / 2);
  const sy = (y: number) => H - M.b - (y / top) * ph;
  const path = xs.map((y, i) => `${i ? "L" : "M"}${sx(i).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
  const aim = f.aim
    ? `<line x1="${M.l}" y1="${sy(f.aim.value).toFixed(1)}" x2="${W - M.r}" y2="${sy(f.aim.value).toFixed(1)}" stroke="#c0392b" stroke-dasharray="4 3"/><text x="${W - M.r - 4}" y="${(sy(f.aim.value) - 4).toFixed(1)}" text-anchor="end" fill="#c0392b">aim ${esc(aimText(f))}</text>`
    : "";
  const yTicks = `<text x="${M.l - 6}" y="${M.t + 4}" text-anchor="end">${esc(num(top))}</text><text x="${M.l - 6}" y="${H - M.b}" text-anchor="end">0</text>`;
  const xTicks = `<text x="${M.l}" y="${H - M.b + 14}">1</text><text x="${W - M.r}" y="${H - M.b + 14}" text-anchor="end">${xs.length}</text>`;
  return frame(f.name, [`<path d="${path}" fill="none" stroke="#4a7fb5" stroke-width="1.5"/>`, aim, yTicks, xTicks].join("\n"), "interval", f.unit);
};

/** Rates (a unit per second) are drawn over time, everything else as a distribution. */
export const chartFor = (f: Figure): string | undefined =>
  f.samples && f.samples.length >= 2 ? (/\/s$|per second/.test(f.unit) ? lineSvg(f) : histogramSvg(f)) : undefined;

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 60);

// ---------------------------------------------------------------- the Markdown report

const cell = (s: string) => s.replace(/\|/g, "\\|");

/** The report: the table, each scenario's own text, the charts (as files beside it, named by `chartName`). */
export const markdown = (outcomes: ScenarioOutcome[], meta: { date: string; host: string; command: string }, charts: Map<Figure, string>): string => {
  const out = [
    "# Kubeflare benchmark",
    "",
    `${meta.date} on ${meta.host}; \`${meta.command}\``,
    "",
    "| figure | value | aim | reference | result |",
    "|---|---|---|---|---|",
  ];
  for (const o of outcomes)
    for (const f of o.figures ?? [])
      out.push(`| ${cell(f.name)} | ${cell(valueText(f))} | ${cell(aimText(f))} | ${cell(f.reference ?? "")} | ${verdict(f) ? `**${verdict(f)}**` : ""} |`);
  const notes = outcomes.filter((o) => o.skipped || o.error);
  if (notes.length) out.push("", ...notes.map((o) => `- ${o.scenario}: ${o.skipped ?? `failed: ${o.error}`}`));
  for (const o of outcomes) {
    const own = (o.figures ?? []).filter((f) => charts.has(f));
    if (!o.text && !own.length) continue;
    out.push("", `## ${o.scenario}${o.seconds !== undefined ? ` (${num(o.seconds)} s)` : ""}`);
    if (o.text) out.push("", "```", o.text, "```");
    for (const f of own) out.push("", `![${cell(f.name)}](${charts.get(f)})`);
  }
  return `${out.join("\n")}\n`;
};

/** Write the report and its charts into `dir` (bench-results/): `<stamp>.md`, `<stamp>-<figure>.svg`, and `latest.md`. Returns the report's path. */
export const writeReport = (dir: string, outcomes: ScenarioOutcome[], meta: { date: string; host: string; command: string }): string => {
  mkdirSync(dir, { recursive: true });
  const stamp = meta.date.replace(/[:.]/g, "-");
  const charts = new Map<Figure, string>();
  for (const o of outcomes)
    for (const f of o.figures ?? []) {
      const svg = chartFor(f);
      if (!svg) continue;
      const file = `${stamp}-${slug(`${o.scenario}-${f.name}`)}.svg`;
      writeFileSync(join(dir, file), svg);
      charts.set(f, file);
    }
  const md = markdown(outcomes, meta, charts);
  const path = join(dir, `${stamp}.md`);
  writeFileSync(path, md);
  writeFileSync(join(dir, "latest.md"), md);
  return path;
};

// ---------------------------------------------------------------- progress on stderr

export interface Progress {
  /** a message; with `fraction` (0–1) a tick of a long step */
  (msg: string, fraction?: number): void;
  /** the scenario being run, for the line's prefix */
  scenario(name: string, index: number, total: number): void;
  done(): void;
}

/**
 * The progress line: on a terminal one line redrawn in place (a bar when the scenario
 * says how far it is, the time it has run, its last message); elsewhere plain lines,
 * the ticks of a long step at most every 10 s.
 */
export const progress = (stream: { write(s: string): unknown; isTTY?: boolean }, now: () => number = () => Date.now()): Progress => {
  const tty = !!stream.isTTY;
  let prefix = "";
  let started = now();
  let lastPlain = 0;
  let drawn = false;
  const clock = () => {
    const s = Math.round((now() - started) / 1000);
    return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
  };
  const p = ((msg: string, fraction?: number) => {
    if (tty && fraction === undefined) {
      // a milestone stays on the screen; the bar is drawn again by the next tick
      stream.write(`\r\x1b[2K${prefix}${clock()} ${msg}\n`);
      drawn = false;
      return;
    }
    if (tty) {
      const f = Math.min(1, Math.max(0, fraction ?? 0));
      const bar = `[${"#".repeat(Math.round(f * 20)).padEnd(20, "-")}] ${String(Math.round(f * 100)).padStart(3)}% `;
      stream.write(`\r\x1b[2K${prefix}${bar}${clock()} ${msg}`.slice(0, 200));
      drawn = true;
      return;
    }
    const t = now();
    if (fraction !== undefined && t - lastPlain < 10_000) return;
    lastPlain = t;
    stream.write(`${prefix}${clock()} ${msg}\n`);
  }) as Progress;
  p.scenario = (name, index, total) => {
    prefix = `[${index + 1}/${total} ${name}] `;
    started = now();
    lastPlain = 0;
  };
  p.done = () => {
    if (tty && drawn) stream.write("\r\x1b[2K");
    drawn = false;
  };
  return p;
};
