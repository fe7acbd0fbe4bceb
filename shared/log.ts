/**
 * Structured logs: one line per event, with a level. Readable text by default
 *
 *   2026-12-02T04:21:16.123Z INFO  agent: registered; runtime docker://27.3.1 node=box-1
 *
 * or one JSON object per line (`--log-format json`, kube components' `--logging-format=json`)
 *
 *   {"ts":"2026-12-02T04:21:16.123Z","level":"info","msg":"registered; runtime docker://27.3.1","component":"agent","node":"box-1"}
 *
 * Levels error, warn, info and debug; `--log-level` sets the least severe one written
 * (default info), and klog's `-v N` raises the verbosity: `log.v(n)(msg)` is written
 * when N ≥ n, and debug lines from `-v 4` on (as kubelet's V(4) is its debug level).
 *
 * Pure: the sink (where lines go) and the clock are passed in. Many call sites take a
 * plain `log(msg)` function: a Logger is one (it logs at info), and `logError` /
 * `logWarn` give a line its level when the function they were handed is a Logger.
 */

export type Level = "error" | "warn" | "info" | "debug";
export type LogFormat = "text" | "json";
export type Fields = Record<string, unknown>;
/** what most call sites take: a plain function is fine, every line at info */
export type Log = (msg: string) => void;

export const LEVELS: readonly Level[] = ["error", "warn", "info", "debug"];
const rank: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };
/** kubelet's convention: V(4) is debug */
const DEBUG_VERBOSITY = 4;

export interface Logger {
  /** an info line */
  (msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  debug(msg: string, fields?: Fields): void;
  /** klog's V(n): an info line written only at verbosity n or more */
  v(n: number): (msg: string, fields?: Fields) => void;
  /** the same logger with these fields on every line (component, node, ...) */
  with(fields: Fields): Logger;
  enabled(level: Level, verbosity?: number): boolean;
}

export interface LoggerOptions {
  format?: LogFormat;
  /** the least severe level written (default info) */
  level?: Level;
  /** klog's -v (default 0) */
  verbosity?: number;
  /** where each line goes, without its newline (the CLI: stderr for error and warn, stdout for the rest) */
  sink: (line: string, level: Level) => void;
  now?: () => Date;
  fields?: Fields;
}

/** A field's value in text: bare when it is a plain word, else quoted as JSON. */
const textValue = (v: unknown): string => {
  if (v instanceof Error) v = v.message;
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return typeof v === "string" && /^[\w./:@,+-]+$/.test(s) ? s : JSON.stringify(s);
};

const jsonSafe = (v: unknown): unknown => (v instanceof Error ? v.message : typeof v === "bigint" ? v.toString() : v);

/** One line, in either format. `component` leads the message in text; the other fields follow as key=value. */
export const formatLine = (format: LogFormat, ts: Date, level: Level, msg: string, fields: Fields, verbosity = 0): string => {
  if (format === "json") {
    const rec: Fields = { ts: ts.toISOString(), level, msg };
    if (verbosity > 0) rec.v = verbosity;
    for (const [k, v] of Object.entries(fields)) if (v !== undefined && !(k in rec)) rec[k] = jsonSafe(v);
    return JSON.stringify(rec);
  }
  const { component, ...rest } = fields;
  const kv = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${textValue(v)}`);
  // one event, one line: a message's own newlines are escaped
  const text = msg.replace(/\r?\n/g, "\\n");
  return [ts.toISOString(), level.toUpperCase().padEnd(5), component !== undefined ? `${component}: ${text}` : text, ...kv].join(" ");
};

export function createLogger(o: LoggerOptions): Logger {
  const format = o.format ?? "text";
  const min = rank[o.level ?? "info"];
  // --log-level debug is -v 4
  const verbosity = Math.max(o.verbosity ?? 0, min >= rank.debug ? DEBUG_VERBOSITY : 0);
  const now = o.now ?? (() => new Date());
  /** errors and warnings by level; info and debug lines by level and verbosity (debug is V(4)) */
  const enabled = (level: Level, v = 0) => (level === "error" || level === "warn" ? rank[level] <= min : min >= rank.info && v <= verbosity);
  const make = (base: Fields): Logger => {
    const write = (level: Level, v: number, msg: string, fields?: Fields) => {
      if (enabled(level, v)) o.sink(formatLine(format, now(), level, msg, fields ? { ...base, ...fields } : base, v), level);
    };
    const log = ((msg: string, fields?: Fields) => write("info", 0, msg, fields)) as Logger;
    log.error = (msg, fields) => write("error", 0, msg, fields);
    log.warn = (msg, fields) => write("warn", 0, msg, fields);
    log.info = (msg, fields) => write("info", 0, msg, fields);
    log.debug = (msg, fields) => write("debug", DEBUG_VERBOSITY, msg, fields);
    log.v = (n) => (msg, fields) => write(n >= DEBUG_VERBOSITY ? "debug" : "info", n, msg, fields);
    log.with = (fields) => make({ ...base, ...fields });
    log.enabled = (level, v = level === "debug" ? DEBUG_VERBOSITY : 0) => enabled(level, v);
    return log;
  };
  return make(o.fields ?? {});
}

const isLogger = (f: unknown): f is Logger => typeof f === "function" && typeof (f as Logger).error === "function";

/**
 * A Logger from whatever a caller handed over: a Logger as it is (with `fields`), a
 * plain function as a Logger writing every level to it (`prefix` before each message,
 * as the agent's "[agent NAME] " has always been), nothing as a Logger that drops all.
 */
export const asLogger = (f: Log | Logger | undefined, fields: Fields = {}, prefix = ""): Logger => {
  if (isLogger(f)) return Object.keys(fields).length ? f.with(fields) : f;
  const plain = f ?? (() => {});
  const write = (msg: string) => plain(prefix + msg);
  const log = ((msg: string) => write(msg)) as Logger;
  log.error = log.warn = log.info = log.debug = (msg) => write(msg);
  log.v = () => (msg) => write(msg);
  log.with = () => log;
  log.enabled = () => true;
  return log;
};

/** An error line through a `log(msg)` function: at level error when it is a Logger. */
export const logError = (log: Log, msg: string, fields?: Fields): void => (isLogger(log) ? log.error(msg, fields) : log(msg));
/** A warning line through a `log(msg)` function: at level warn when it is a Logger. */
export const logWarn = (log: Log, msg: string, fields?: Fields): void => (isLogger(log) ? log.warn(msg, fields) : log(msg));

/**
 * The logging flags of the CLIs, checked: --log-format / --logging-format text|json
 * (-o json too), --log-level error|warn|info|debug, -v / --v N. Throws an Error naming
 * the flag on bad input.
 */
export const logFlags = (v: {
  "log-format"?: unknown;
  "logging-format"?: unknown;
  output?: unknown;
  "log-level"?: unknown;
  v?: unknown;
}): { format: LogFormat; level: Level; verbosity: number } => {
  const given = v["log-format"] ?? v["logging-format"] ?? v.output;
  const flag = v["log-format"] !== undefined ? "--log-format" : v["logging-format"] !== undefined ? "--logging-format" : "-o";
  const format = given === undefined ? "text" : String(given);
  if (format !== "text" && format !== "json") throw new Error(`${flag} must be text or json, got "${format}"`);
  const level = v["log-level"] === undefined ? "info" : String(v["log-level"]).toLowerCase();
  if (!(LEVELS as string[]).includes(level)) throw new Error(`--log-level must be one of ${LEVELS.join(", ")}, got "${v["log-level"]}"`);
  const verbosity = v.v === undefined ? 0 : Number(v.v);
  if (!Number.isInteger(verbosity) || verbosity < 0 || verbosity > 10) throw new Error(`-v must be a whole number from 0 to 10, got "${v.v}"`);
  return { format, level: level as Level, verbosity };
};
