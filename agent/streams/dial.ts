/**
 * A connection to a pod's port, for port-forward and the proxy subresources. kubelet
 * connects to localhost inside the pod's network namespace, so a server bound to
 * 127.0.0.1 in the pod is reachable too: here `nsenter -t <sandbox pid> -n socat`
 * does that (as dockershim did), given root and socat on the node. Without them the
 * agent connects to the pod's IP from the host (a server listening on the pod's
 * loopback only is then out of reach). hostNetwork pods: 127.0.0.1 on the node.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";

export interface PodAddress {
  /** the host pid of a process in the pod's network namespace (its sandbox), when it has its own */
  pid?: number;
  /** the pod's IP (on the node's bridge) */
  ip?: string;
  hostNetwork: boolean;
}

export class DialError extends Error {}

/** TCP to 127.0.0.1:port or ip:port from the host; rejects with the connect error */
const tcp = (host: string, port: number, timeoutMs: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = connect({ host, port, allowHalfOpen: true });
    const t = setTimeout(() => {
      s.destroy();
      reject(new DialError(`dial tcp ${host}:${port}: i/o timeout`));
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(t);
      s.removeAllListeners("error");
      resolve(s);
    });
    s.once("error", (e) => {
      clearTimeout(t);
      reject(new DialError(`dial tcp ${host}:${port}: ${(e as NodeJS.ErrnoException).code === "ECONNREFUSED" ? "connect: connection refused" : e.message}`));
    });
  });

/**
 * socat inside the namespace connects to the port, then back to a Unix socket of the
 * agent's (in a private directory; the mount namespace is the host's): the agent gets a
 * socket with TCP's half-close, which socat passes on both ways (-t 60: a half-closed
 * connection waits up to a minute for the other direction to end). A refused connection
 * ends socat with its error before it connects back.
 */
const viaNetns = (pid: number, port: number, timeoutMs: number): Promise<Duplex> =>
  new Promise((resolve, reject) => {
    const dir = mkdtempSync(join(tmpdir(), "kf-pf-"));
    const path = join(dir, "s");
    const server = createServer({ allowHalfOpen: true });
    let err = "";
    let settled = false;
    const cleanup = () => {
      clearTimeout(t);
      server.close();
      rmSync(dir, { recursive: true, force: true });
    };
    const fail = (m: string) => {
      if (settled) return;
      settled = true;
      cleanup();
      child?.kill("SIGKILL");
      reject(new DialError(m));
    };
    const t = setTimeout(() => fail(`dial tcp 127.0.0.1:${port}: i/o timeout`), timeoutMs);
    let child: ReturnType<typeof spawn> | undefined;
    server.once("connection", (sock) => {
      if (settled) return void sock.destroy();
      settled = true;
      cleanup();
      sock.on("close", () => child?.kill("SIGTERM"));
      resolve(sock);
    });
    server.on("error", (e) => fail(e.message));
    server.listen(path, () => {
      child = spawn("nsenter", ["-t", String(pid), "-n", "socat", "-d", "-d", "-t", "60", `TCP4:127.0.0.1:${port}`, `UNIX-CONNECT:${path}`], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      child.on("error", (e) => fail(`nsenter: ${e.message}`));
      child.stderr!.on("data", (d: Buffer) => {
        if (err.length < 4096) err += d.toString();
      });
      child.on("close", () => {
        if (/Connection refused/i.test(err)) fail(`dial tcp 127.0.0.1:${port}: connect: connection refused`);
        else
          fail(
            err
              .split("\n")
              .find((l) => / E /.test(l))
              ?.replace(/^.* E /, "") || `nsenter: exited (${err.trim().slice(0, 200)})`,
          );
      });
    });
  });

/**
 * Connections to pods open at once on this node, over all streams (each may be an
 * nsenter + socat pair): a client opening connection after connection through one
 * port-forward gets an error for the ones over this, rather than exhausting the node.
 */
export const MAX_POD_CONNECTIONS = 512;
let open = 0;

/** Connect to `port` of the pod. */
export async function dialPod(addr: PodAddress, port: number, timeoutMs = 10_000): Promise<Duplex> {
  if (open >= MAX_POD_CONNECTIONS) throw new DialError(`too many connections to pods on this node (at most ${MAX_POD_CONNECTIONS})`);
  open++;
  try {
    const c = await dialOnce(addr, port, timeoutMs);
    c.once("close", () => open--);
    return c;
  } catch (e) {
    open--;
    throw e;
  }
}

async function dialOnce(addr: PodAddress, port: number, timeoutMs: number): Promise<Duplex> {
  if (addr.hostNetwork) return tcp("127.0.0.1", port, timeoutMs);
  if (addr.pid) {
    try {
      return await viaNetns(addr.pid, port, timeoutMs);
    } catch (e) {
      // a refused connection is the pod's answer; nsenter or socat missing (or no root) falls back to the pod IP
      if (!addr.ip || /connection refused|timeout/.test((e as Error).message)) throw e;
    }
  }
  if (addr.ip) return tcp(addr.ip, port, timeoutMs);
  throw new DialError("the pod has no network namespace to reach (no sandbox running, no IP)");
}
