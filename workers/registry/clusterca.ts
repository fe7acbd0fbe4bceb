/**
 * The cluster CA: what pods trust for the `kubernetes` Service (the ConfigMap
 * `kube-root-ca.crt` in every namespace) and what signs the nodes' relay serving
 * certificates (POST /apis/kubeflare.dev/v1/nodes/<name>/servingcertificate).
 *
 * On Node it is the server's own CA from the data dir (passed in). Otherwise (the
 * Worker, or a Node server with an operator's certificate files) it is made once and
 * kept in the store under a resource name no API path reaches (`CA_KEY`): unlike a
 * Secret, no user of the API, not even a viewer or an admin, can read its key. Two
 * first uses at once both try to create it; the store's create lets one win, and the
 * other reads the winner's.
 */
import { ApiError, badRequest, forbidden } from "../../shared/status";
import { isDNS1123Subdomain } from "../../shared/validation/names";
import { nthAddress, parseCidr } from "../../shared/net/cidr";
import type { ObjectKey } from "../../shared/types";
import { type Store, StoreError } from "../store/store";
import { newUid } from "./meta";
import type { CaMaterial } from "./pki";
import type { User } from "./user";

/** X.509 (pkijs, ~0.6 MB of source) is loaded when a certificate is first made, not with the server (issue #14, goal 5) */
const pki = () => import("./pki");

/** where the generated CA lives: not a resource of the catalog, so no API path reaches it */
export const CA_KEY: ObjectKey = { resource: "kubeflare.internal/clusterauthorities", namespace: "", name: "cluster-ca" };

/** validity of a node's relay serving certificate (the agent asks for a new one well before it ends) */
export const SERVING_CERT_DAYS = 365;

export interface ServingCertificate {
  nodeName: string;
  certificate: string;
  caCertificate: string;
  notAfter: string;
}

export class ClusterCA {
  private cached?: Promise<CaMaterial>;

  constructor(
    private readonly o: {
      store: Store;
      now: () => Date;
      serviceCIDR: string;
      /** the CA to use (Node's data-dir CA); else one kept in the store */
      fixed?: CaMaterial;
    },
  ) {}

  /** the CA's certificate (PEM): what kube-root-ca.crt publishes */
  async certificate(): Promise<string> {
    return (await this.material()).cert;
  }

  private material(): Promise<CaMaterial> {
    if (this.o.fixed) return Promise.resolve(this.o.fixed);
    this.cached ??= this.load().catch((e) => {
      this.cached = undefined;
      throw e;
    });
    return this.cached;
  }

  private async load(): Promise<CaMaterial> {
    const stored = await this.o.store.get(CA_KEY);
    if (stored) return { cert: stored.data.cert, key: stored.data.key };
    const ca = await (await pki()).createCa(`kubeflare-ca-${Math.floor(this.o.now().getTime() / 1000)}`, this.o.now());
    try {
      await this.o.store.create(CA_KEY, {
        apiVersion: "kubeflare.internal/v1",
        kind: "ClusterAuthority",
        metadata: { name: CA_KEY.name, uid: newUid() },
        data: ca,
      });
      return ca;
    } catch (e) {
      if (!(e instanceof StoreError && e.code === "AlreadyExists")) throw e;
      const winner = (await this.o.store.get(CA_KEY))!;
      return { cert: winner.data.cert, key: winner.data.key };
    }
  }

  /** 403 unless `user` may ask for node `nodeName`'s serving certificate (before its request body is read) */
  authorizeServing(user: User, nodeName: string): void {
    if (user.role === "admin" || (user.role === "node" && user.nodeName === nodeName)) return;
    throw forbidden(
      `nodes.kubeflare.dev "${nodeName}" is forbidden: User "${user.name}" cannot create resource "nodes/servingcertificate" in API group "kubeflare.dev"`,
    );
  }

  /**
   * A serving certificate for node `nodeName`'s relay of the `kubernetes` Service
   * (NodeRestriction: a node asks for its own name only; admins for any). The names are
   * the Service's (kubernetes, kubernetes.default, kubernetes.default.svc,
   * kubernetes.default.svc.<clusterDomain>) and its ClusterIP; the body is
   * `{ publicKey: <PEM SubjectPublicKeyInfo>, clusterDomain?: "cluster.local" }`. The
   * private key never leaves the node.
   */
  async issueServing(user: User, nodeName: string, body: unknown): Promise<ServingCertificate> {
    this.authorizeServing(user, nodeName);
    const b = body as { publicKey?: unknown; clusterDomain?: unknown } | undefined;
    const invalid = (field: string, message: string) =>
      new ApiError(400, "BadRequest", `NodeServingCertificateRequest is invalid: ${field}: ${message}`, {
        group: "kubeflare.dev",
        kind: "NodeServingCertificateRequest",
        causes: [{ reason: "FieldValueInvalid", field, message }],
      });
    if (!b || typeof b !== "object" || Array.isArray(b)) throw badRequest('the request body must be {"publicKey": "<PEM>"}');
    if (typeof b.publicKey !== "string" || b.publicKey.length > 16_384) throw invalid("publicKey", "must be a PEM public key (SubjectPublicKeyInfo)");
    const domain = b.clusterDomain ?? "cluster.local";
    if (typeof domain !== "string" || isDNS1123Subdomain(domain).length) throw invalid("clusterDomain", "must be a DNS subdomain");
    const { issueServing, parsePublicKey } = await pki();
    let publicKey: Awaited<ReturnType<typeof parsePublicKey>>;
    try {
      publicKey = await parsePublicKey(b.publicKey);
    } catch (e) {
      throw invalid("publicKey", `must be a PEM public key (RSA of 2048 bits or more, or ECDSA P-256/P-384): ${(e as Error).message}`);
    }
    const ca = await this.material();
    const serviceIP = nthAddress(parseCidr(this.o.serviceCIDR)!, 1)!;
    const issued = await issueServing(ca, {
      publicKey,
      commonName: `system:node:${nodeName}`,
      organization: "system:nodes",
      dnsNames: ["kubernetes", "kubernetes.default", "kubernetes.default.svc", `kubernetes.default.svc.${domain}`],
      ips: [serviceIP],
      days: SERVING_CERT_DAYS,
      now: this.o.now(),
    });
    return { nodeName, certificate: issued.cert, caCertificate: ca.cert, notAfter: issued.notAfter.toISOString() };
  }
}
