/**
 * Port-forward over the channel WebSocket protocol (kubelet's portforward/websocket.go,
 * what client libraries such as @kubernetes/client-node speak): for the i-th port of
 * the `ports` query, channel 2i carries the connection's data and 2i+1 its error; each
 * channel's first message is the port, two bytes little-endian. The connection ends
 * once every port's connection has.
 */
import type { Duplex } from "node:stream";
import type { ChannelConn } from "./channels";

export async function wsPortForward(conn: ChannelConn, ports: number[], dial: (port: number) => Promise<Duplex>, describe: string): Promise<void> {
  const readers = ports.map((_, i) => conn.reader(2 * i));
  for (const [i, port] of ports.entries()) {
    const p = Buffer.alloc(2);
    p.writeUInt16LE(port);
    conn.send(2 * i, p);
    conn.send(2 * i + 1, p);
  }
  const open = new Set<Duplex>();
  void conn.closed.then(() => {
    for (const c of open) c.destroy();
  });
  await Promise.all(
    ports.map(async (port, i) => {
      let c: Duplex;
      try {
        c = await dial(port);
      } catch (e) {
        conn.send(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${describe}: ${(e as Error).message}`));
        readers[i].resume();
        return;
      }
      open.add(c);
      c.on("error", () => c.destroy());
      readers[i].pipe(c);
      c.pipe(conn.writer(2 * i), { end: false });
      // the pod's side ended: so does the forward (a WebSocket channel cannot be half-closed)
      await new Promise<void>((resolve) => {
        c.once("end", resolve);
        c.once("close", resolve);
      });
      open.delete(c);
      c.destroy();
    }),
  );
  conn.close(1000);
}
