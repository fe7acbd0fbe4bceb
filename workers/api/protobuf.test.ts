/**
 * The protobuf decoder against the bytes the real kubectl sends: a recording server
 * (our discovery, plus a POST recorder) captures kubectl's typed-client bodies.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl, type Kubectl } from "../../test/kubectl";
import { discovery } from "./discovery";
import { decodeKubernetesProtobuf } from "./protobuf";

const recorded: { path: string; type: string; body: Uint8Array }[] = [];
let server: ReturnType<typeof serve>;
let dir: string;
let k: Kubectl;

beforeAll(async () => {
  const app = new Hono();
  app.route("/", discovery());
  app.post("*", async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const type = c.req.header("Content-Type") ?? "";
    recorded.push({ path: c.req.path, type, body });
    const obj = type.startsWith("application/vnd.kubernetes.protobuf") ? (decodeKubernetesProtobuf(body) as any) : JSON.parse(new TextDecoder().decode(body));
    return c.json({ ...obj, metadata: { ...obj.metadata, uid: "u", resourceVersion: "1" } }, 201);
  });
  await new Promise<void>((r) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => r());
  });
  dir = mkdtempSync(join(tmpdir(), "kf-pb-"));
  const port = (server.address() as AddressInfo).port;
  writeFileSync(
    join(dir, "kubeconfig"),
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n`,
  );
  k = kubectl(join(dir, "kubeconfig"), "1.32", dir);
});
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const capture = async (args: string) => {
  const before = recorded.length;
  const r = await k(`${args} --validate=false`);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const rec = recorded.slice(before);
  expect(rec).toHaveLength(1);
  expect(rec[0].type).toBe("application/vnd.kubernetes.protobuf");
  return decodeKubernetesProtobuf(rec[0].body) as any;
};

describe("kubectl's protobuf bodies", () => {
  it("create namespace", async () => {
    expect(await capture("create namespace foo")).toEqual({ apiVersion: "v1", kind: "Namespace", metadata: { name: "foo" }, spec: {} });
  });

  it("create deployment with replicas and a port", async () => {
    const d = await capture("create deployment web --image=nginx:1.27 --replicas=3 --port=80");
    expect(d).toMatchObject({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", labels: { app: "web" } } });
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.selector).toEqual({ matchLabels: { app: "web" } });
    expect(d.spec.template.metadata.labels).toEqual({ app: "web" });
    expect(d.spec.template.spec.containers).toEqual([{ name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80 }], resources: {} }]);
  });

  it("create configmap and secret from literals", async () => {
    const cm = await capture("create configmap cfg --from-literal=a=b --from-literal=c=d");
    expect(cm).toMatchObject({ kind: "ConfigMap", metadata: { name: "cfg" }, data: { a: "b", c: "d" } });
    const s = await capture("create secret generic pw --from-literal=password=hunter2");
    expect(s).toMatchObject({ kind: "Secret", metadata: { name: "pw" } }); // type is defaulted (Opaque) by the server
    expect(atob(s.data.password)).toBe("hunter2");
  });

  it("rejects what it cannot read", () => {
    expect(() => decodeKubernetesProtobuf(new TextEncoder().encode("{}"))).toThrow(/k8s/);
    // the envelope of a kind we don't serve
    const bytes = new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0b, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x05, 0x47, 0x68, 0x6f, 0x73, 0x74]);
    expect(() => decodeKubernetesProtobuf(bytes)).toThrow(/v1 Ghost are not supported/);
  });
});
