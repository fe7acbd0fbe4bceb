import type { Client, InStatement } from "@libsql/client";
import { retryBusy } from "./store";

export interface StoredLogLine {
  id: number;
  attempt: number;
  /** RFC 3339 with nanoseconds */
  time: string;
  stream: "stdout" | "stderr";
  line: string;
}

export interface LogLineIn {
  time: string;
  stream: "stdout" | "stderr";
  text: string;
}

/** Bytes a stored line costs against the per-container limit (text plus bookkeeping). */
const OVERHEAD = 48;

/**
 * Container output in `pod_logs`: appended by the agents (idempotently: lines no newer
 * than what is stored for that container instance are dropped), read by `kubectl
 * logs`, and trimmed to the newest `maxBytes` per container (current and previous
 * instance only).
 */
export class LogStore {
  constructor(
    private readonly client: Client,
    readonly maxBytes = 1024 * 1024,
  ) {}

  async append(podUid: string, container: string, attempt: number, lines: LogLineIn[]): Promise<number> {
    if (!lines.length) return 0;
    const last = await retryBusy(() =>
      this.client.execute({
        sql: "SELECT max(time) AS t FROM pod_logs WHERE pod_uid = ? AND container = ? AND attempt = ?",
        args: [podUid, container, attempt],
      }),
    );
    const after = (last.rows[0]?.t as string | null) ?? "";
    const fresh = lines.filter((l) => l.time > after).sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    if (!fresh.length) return 0;
    const stmts: InStatement[] = [];
    for (let i = 0; i < fresh.length; i += 100) {
      const chunk = fresh.slice(i, i + 100);
      stmts.push({
        sql: `INSERT INTO pod_logs (pod_uid, container, attempt, time, stream, line) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?)").join(", ")}`,
        args: chunk.flatMap((l) => [podUid, container, attempt, l.time, l.stream, l.text]),
      });
    }
    // only the current and the previous instance are kept, and only the newest maxBytes of them
    stmts.push({ sql: "DELETE FROM pod_logs WHERE pod_uid = ? AND container = ? AND attempt < ?", args: [podUid, container, attempt - 1] });
    stmts.push({
      sql: `DELETE FROM pod_logs WHERE id IN (
              SELECT id FROM (SELECT id, sum(length(line) + ${OVERHEAD}) OVER (ORDER BY id DESC) AS total
                              FROM pod_logs WHERE pod_uid = ? AND container = ?) WHERE total > ?)`,
      args: [podUid, container, this.maxBytes],
    });
    await retryBusy(() => this.client.batch(stmts, "write"));
    return fresh.length;
  }

  /** Lines of one container instance after `afterId`, oldest first (the newest `tail` when given). */
  async read(podUid: string, container: string, attempt: number, o: { afterId?: number; tail?: number; sinceTime?: string } = {}): Promise<StoredLogLine[]> {
    const where = "pod_uid = ? AND container = ? AND attempt = ? AND id > ? AND time >= ?";
    const args = [podUid, container, attempt, o.afterId ?? 0, o.sinceTime ?? ""];
    const rs = await retryBusy(() =>
      this.client.execute(
        o.tail !== undefined
          ? {
              sql: `SELECT * FROM (SELECT id, attempt, time, stream, line FROM pod_logs WHERE ${where} ORDER BY id DESC LIMIT ?) ORDER BY id`,
              args: [...args, o.tail],
            }
          : { sql: `SELECT id, attempt, time, stream, line FROM pod_logs WHERE ${where} ORDER BY id`, args },
      ),
    );
    return rs.rows.map((r) => ({
      id: Number(r.id),
      attempt: Number(r.attempt),
      time: String(r.time),
      stream: r.stream as "stdout" | "stderr",
      line: String(r.line),
    }));
  }

  /** Forget the output of pods that no longer exist. */
  async sweep(): Promise<number> {
    const rs = await retryBusy(() => this.client.execute("DELETE FROM pod_logs WHERE pod_uid NOT IN (SELECT uid FROM objects WHERE resource = 'pods')"));
    return rs.rowsAffected;
  }
}
