/**
 * An exec or attach session, whatever carries it (WebSocket channels or SPDY streams):
 * the client's stdin and terminal sizes to the process, its output to the client, then
 * the Status of its end on the error stream (kubelet's ServeExec/ServeAttach).
 */
import type { Readable, Writable } from "node:stream";
import type { StreamProcess } from "../runtime/runtime";
import { type ExecOptions, exitStatus, internalStatus } from "./options";

export interface SessionIO {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /** terminal sizes as JSON objects {"Width":80,"Height":24}, one after another */
  resize?: Readable;
  /** write the Status (on the error stream, as the protocol version wants it) */
  writeStatus(status: Record<string, unknown>): Promise<void>;
  /** the session is over: close the connection */
  end(): void;
  /** resolves when the client has gone */
  gone: Promise<void>;
}

/** JSON objects one after another (client-go's json.Encoder writes them so), at most 4 KiB pending */
export function onSizes(r: Readable, each: (w: number, h: number) => void): void {
  let buf = "";
  r.on("data", (d: Buffer | string) => {
    buf += d.toString();
    for (;;) {
      const close = buf.indexOf("}");
      if (close < 0) break;
      const text = buf.slice(buf.indexOf("{"), close + 1);
      buf = buf.slice(close + 1);
      try {
        const s = JSON.parse(text);
        const w = Number(s?.Width ?? s?.width);
        const h = Number(s?.Height ?? s?.height);
        if (Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0 && w < 65536 && h < 65536) each(w, h);
      } catch {
        // not a size: skipped, as kubelet's decoder would stop; nothing else to do
      }
    }
    if (buf.length > 4096) buf = "";
  });
}

/** wait until everything written to `w` so far has been handed on */
const flushed = (w: Writable | undefined) =>
  new Promise<void>((resolve) => {
    if (!w || w.destroyed || w.writableEnded) return resolve();
    w.write(Buffer.alloc(0), () => resolve());
  });

const ended = (r: Readable | undefined) =>
  new Promise<void>((resolve) => {
    if (!r || r.readableEnded || r.destroyed) return resolve();
    r.once("end", resolve);
    r.once("close", resolve);
    r.once("error", () => resolve());
  });

export async function runSession(io: SessionIO, o: ExecOptions, start: () => Promise<StreamProcess>): Promise<void> {
  let proc: StreamProcess;
  try {
    proc = await start();
  } catch (e) {
    io.stdin?.resume();
    await io.writeStatus(internalStatus((e as Error).message)).catch(() => undefined);
    io.end();
    return;
  }
  let gone = false;
  void io.gone.then(() => {
    gone = true;
    proc.close();
  });
  if (io.stdin && proc.stdin) io.stdin.pipe(proc.stdin);
  else io.stdin?.resume();
  proc.stdin?.on("error", () => undefined);
  if (io.resize) onSizes(io.resize, (w, h) => proc.resize(w, h));
  const out = (from: Readable | undefined, to: Writable | undefined) => {
    if (!from) return;
    if (to) from.pipe(to, { end: false });
    else from.resume();
  };
  out(proc.stdout, io.stdout);
  out(proc.stderr, io.stderr);
  const code = await proc.done;
  await Promise.all([ended(proc.stdout), ended(proc.stderr)]);
  if (gone) return;
  await Promise.all([flushed(io.stdout), flushed(io.stderr)]);
  await io.writeStatus(exitStatus(code, o.command)).catch(() => undefined);
  io.end();
}
