/**
 * The agent's relay of the `kubernetes` Service: pods dial kubernetes.default.svc
 * (10.43.0.1:443), kube-proxy DNATs that to this TLS-terminating HTTP reverse proxy on
 * the node's pod gateway (10.42.N.1:6444), and it forwards each request to the control
 * plane the agent itself uses (its --server, trusting the agent's CA). So pods reach the
 * API wherever it is: a Worker on the internet, `npm start` listening on 127.0.0.1, a
 * box behind NAT.
 *
 * Kubernetes sends that traffic to the Service's endpoints (the API servers); Kubeflare
 * relays it on every node instead, since the control plane may not be reachable from
 * the pod network at all.
 *
 * A pod's request goes up as the pod sent it: its own Authorization header (or none),
 * never the node's credential, so a pod gets what its token (or anonymous) gets and
 * nothing of the node's rights. Responses stream (watches, logs follow).
 *
 * Its serving certificate names the Service (kubernetes, kubernetes.default,
 * kubernetes.default.svc, kubernetes.default.svc.<cluster domain>, the ClusterIP) and is
 * issued by the cluster CA, which pods find in kube-root-ca.crt, mounted at
 * /var/run/secrets/kubernetes.io/serviceaccount/ca.crt. The key pair is made here and
 * the private key never leaves the agent: only the public key goes to
 * POST /apis/kubeflare.dev/v1/nodes/<node>/servingcertificate.
 */
import { generateKeyPairSync } from "node:crypto";
import { Agent as HttpAgent, type IncomingMessage, type ServerResponse } from "node:http";
import { Agent as HttpsAgent, createServer, type Server } from "node:https";
import { DEFAULT_CIPHERS } from "node:tls";
import type { Socket } from "node:net";
import { createProxyServer } from "http-proxy-3";
import type { ApiClient } from "../api";

/** the port the relay listens on at the pod gateway (next to kube-apiserver's 6443, which `npm start` may hold on 0.0.0.0) */
export const API_RELAY_PORT = 6444;

export interface ApiRelayOptions {
  /** the agent's client: its upstream (server, CA) and its node credential, used only to ask for the serving certificate */
  api: ApiClient;
  nodeName: string;
  /** the cluster domain for the certificate's names (default cluster.local) */
  clusterDomain?: string;
  /** default API_RELAY_PORT; 0 picks a free one */
  port?: number;
  log?: (msg: string) => void;
}

interface Issued {
  certificate: string;
  caCertificate: string;
  notAfter: string;
}

const status = (code: number, reason: string, message: string) =>
  JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });

export class ApiRelay {
  private server?: Server;
  private renewTimer?: ReturnType<typeof setTimeout>;
  private readonly proxy;
  private readonly upstreamAgent: HttpAgent | HttpsAgent;
  private readonly key = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  /** the address and port it listens on, once it does */
  listening?: { host: string; port: number };
  /** the cluster CA that issued its certificate (what pods should trust) */
  caPem?: string;

  constructor(private readonly o: ApiRelayOptions) {
    const { server, caPem } = o.api.upstream;
    const https = new URL(server).protocol === "https:";
    this.upstreamAgent = https ? new HttpsAgent({ keepAlive: true, ...(caPem ? { ca: caPem } : {}) }) : new HttpAgent({ keepAlive: true });
    this.proxy = createProxyServer({
      target: server,
      agent: this.upstreamAgent,
      secure: true,
      ...(caPem ? { ca: caPem } : {}),
      // the Host the control plane answers to (a Worker is routed by it); the pod's headers otherwise as sent
      changeOrigin: true,
      ws: true,
      xfwd: false,
    });
    this.proxy.on("error", (err, _req, res) => {
      this.log(`relaying a request failed: ${err.message}`);
      if (res && "writeHead" in res) {
        const r = res as ServerResponse;
        if (!r.headersSent)
          r.writeHead(502, { "Content-Type": "application/json" }).end(
            status(502, "ServiceUnavailable", "the node's API relay cannot reach the control plane"),
          );
        else r.destroy();
      } else (res as Socket | undefined)?.destroy();
    });
  }

  private log = (m: string) => this.o.log?.(`api relay: ${m}`);

  /** ask the control plane for a serving certificate of this node's relay (the node's own credential; the public key only) */
  private async issue(): Promise<Issued> {
    const publicKey = this.key.publicKey.export({ type: "spki", format: "pem" }) as string;
    return this.o.api.request<Issued>("POST", `/apis/kubeflare.dev/v1/nodes/${encodeURIComponent(this.o.nodeName)}/servingcertificate`, {
      publicKey,
      clusterDomain: this.o.clusterDomain ?? "cluster.local",
    });
  }

  /** a new certificate for the same key two thirds into the current one's life (retried every minute on failure) */
  private scheduleRenewal(notAfter: string) {
    const left = Date.parse(notAfter) - Date.now();
    const ms = Number.isFinite(left) ? Math.max(60_000, Math.min(left * (2 / 3), 2 ** 31 - 1)) : 86_400_000;
    this.renewTimer = setTimeout(async () => {
      try {
        const c = await this.issue();
        this.server?.setSecureContext({ key: this.key.privateKey.export({ type: "pkcs8", format: "pem" }), cert: c.certificate });
        this.caPem = c.caCertificate;
        this.scheduleRenewal(c.notAfter);
      } catch (e) {
        this.log(`renewing the serving certificate failed: ${(e as Error).message}`);
        this.scheduleRenewal(new Date(Date.now() + 90_000).toISOString());
      }
    }, ms);
    this.renewTimer.unref();
  }

  /** get a certificate and listen on `host` (the pod gateway; 127.0.0.1 in tests); resolves with the port */
  async start(host: string): Promise<number> {
    const c = await this.issue();
    this.caPem = c.caCertificate;
    const server = createServer(
      {
        key: this.key.privateKey.export({ type: "pkcs8", format: "pem" }),
        cert: c.certificate,
        minVersion: "TLSv1.2",
        // busybox's wget (in minimal pod images) sends no signature_algorithms extension, so TLS 1.2
        // falls back to SHA-1 handshake signatures, which OpenSSL 3 refuses above security level 0:
        // level 0 lets such clients in; every other client negotiates SHA-256 or better as before
        ciphers: `${DEFAULT_CIPHERS}:@SECLEVEL=0`,
      },
      (req, res) => this.proxy.web(req, res),
    );
    server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => this.proxy.ws(req, socket, head));
    // a broken client connection is that client's problem
    server.on("clientError", (_e, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.o.port ?? API_RELAY_PORT, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
    const port = (server.address() as { port: number }).port;
    this.listening = { host, port };
    this.scheduleRenewal(c.notAfter);
    this.log(`listening on ${host}:${port}, relaying to ${this.o.api.upstream.server}`);
    return port;
  }

  /**
   * Start once the address exists (the pod gateway comes with the pod network, which
   * comes with the Node's podCIDR), retrying every few seconds until `signal` aborts;
   * `onListening` then (kube-proxy DNATs the Service here from that moment).
   */
  async serve(host: () => string | undefined, onListening: () => void, signal: AbortSignal): Promise<void> {
    let said = "";
    while (!signal.aborted) {
      const h = host();
      if (h) {
        try {
          await this.start(h);
          if (signal.aborted) await this.stop();
          else onListening();
          return;
        } catch (e) {
          const m = (e as Error).message;
          if (m !== said) this.log(`cannot serve yet (retrying): ${m}`);
          said = m;
        }
      }
      await new Promise<void>((r) => {
        const t = setTimeout(done, h ? 5000 : 1000);
        function done() {
          clearTimeout(t);
          signal.removeEventListener("abort", done);
          r();
        }
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.renewTimer);
    const s = this.server;
    this.server = undefined;
    this.listening = undefined;
    if (s) {
      await new Promise<void>((r) => {
        s.close(() => r());
        s.closeAllConnections();
      });
    }
    this.proxy.close?.();
    this.upstreamAgent.destroy();
  }
}
