/**
 * The dashboard (#19) in a real browser: Debian's Chromium driven by playwright-core,
 * against the Node all-in-one (real HTTPS, controllers running) with hollow nodes.
 * Screenshots of each page go to test-artifacts/dashboard/ (git-ignored).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../node/server";
import { startTestNode, type TestNode } from "./testnode";

const SHOTS = join(import.meta.dirname, "..", "test-artifacts", "dashboard");
const VIEWER = `viewer-${process.pid}-0123456789abcdef`;
const NS = `dash-${process.pid}`;

let server: RunningServer;
let dataDir: string;
let dispatcher: Agent;
let browser: Browser;
let nodes: TestNode[] = [];

/** The API with a token (admin by default), as any client. */
const api = async (method: string, path: string, body?: unknown, token = server.adminToken, ct = "application/json") => {
  const res = await undiciFetch(server.url + path, {
    method,
    dispatcher,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": ct }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
};

const until = async <T>(f: () => Promise<T | undefined | false>, what: string, ms = 30_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

/** A browser context (own cookies) on the server, its self-made CA accepted. */
const newContext = (viewport = { width: 1280, height: 900 }) => browser.newContext({ ignoreHTTPSErrors: true, viewport });

const signIn = async (ctx: BrowserContext, token: string): Promise<Page> => {
  const page = await ctx.newPage();
  await page.goto(`${server.url}/`);
  expect(new URL(page.url()).pathname).toBe("/ui/login");
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.waitForURL(`${server.url}/`);
  return page;
};

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

const deployment = (name: string, replicas: number) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: NS },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "main", image: "kubeflare/busybox:test", resources: { requests: { cpu: "250m", memory: "64Mi" } } }] },
    },
  },
});

const podsOf = async (app: string) => (await api("GET", `/api/v1/namespaces/${NS}/pods?labelSelector=app%3D${app}`)).json.items as any[];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), "kf-dash-"));
  const tokenFile = join(dataDir, "tokens.csv");
  writeFileSync(tokenFile, `${VIEWER},viewer,1001,readers\n`);
  server = await startServer({
    port: 0,
    host: "127.0.0.1",
    dataDir,
    synchronous: "NORMAL",
    tokenAuthFile: tokenFile,
    resyncIntervalMs: 1000,
    // ranges no other test's bridges use (the server refuses ones this machine's interfaces overlap); nothing here touches the network
    clusterCIDR: "10.207.0.0/16",
    serviceCIDR: "10.208.0.0/16",
    log: () => {},
  });
  dispatcher = new Agent({ connect: { ca: server.caPem } });
  nodes = [await startTestNode(server, `dash-a-${process.pid}`, { syncMs: 300 }), await startTestNode(server, `dash-b-${process.pid}`, { syncMs: 300 })];
  expect((await api("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } })).status).toBe(201);
  // the token file's group "readers" may read what `view` allows, as an admin grants it (RBAC)
  const readers = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: `readers-view-${process.pid}` },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "readers" }],
  };
  expect((await api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", readers)).status).toBe(201);
  expect((await api("POST", `/apis/apps/v1/namespaces/${NS}/deployments`, deployment("web", 1))).status).toBe(201);
  await until(async () => (await podsOf("web")).some((p) => p.status?.phase === "Running"), "web's pod running");
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const n of nodes) await n.stop();
  await server?.close();
  await dispatcher?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("dashboard in Chromium (Node all-in-one, hollow nodes)", () => {
  it("refuses a wrong token with a clear message, and shows nothing without a session", async () => {
    const ctx = await newContext();
    const page = await ctx.newPage();
    for (const path of ["/", "/ui/pods", "/ui/workloads"]) {
      await page.goto(server.url + path);
      expect(new URL(page.url()).pathname).toBe("/ui/login");
    }
    await page.fill("#token", "not-a-token");
    await page.click("button[type=submit]");
    await expect(page.locator(".flash.error").textContent()).resolves.toContain("not accepted");
    expect(new URL(page.url()).pathname).toBe("/ui/login");
    await shot(page, "login-refused");
    // the session cookie's attributes
    const session = await signIn(ctx, server.adminToken);
    const cookie = (await ctx.cookies()).find((c) => c.name === "kf_session");
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict" });
    // the token is sealed, not readable in the cookie
    expect(cookie!.value).not.toContain(server.adminToken);
    await session.close();
    await ctx.close();
  }, 60_000);

  it("signs in with the admin token and shows the nodes and their pods", async () => {
    const ctx = await newContext();
    const page = await signIn(ctx, server.adminToken);
    for (const n of nodes) await expect(page.locator(`section[data-node="${n.name}"] .badge.ok`).first().textContent()).resolves.toBe("Ready");
    const [pod] = await podsOf("web");
    const chip = page.locator(`section[data-node="${pod.spec.nodeName}"] a.chip[data-pod="${pod.metadata.name}"]`);
    await expect(chip.getAttribute("data-class")).resolves.toBe("running");
    // requests vs allocatable: 250m of 4 cpu on the pod's node
    await expect(page.locator(`section[data-node="${pod.spec.nodeName}"] .bar`).first().textContent()).resolves.toContain("250m/4");
    await expect(page.locator('[data-count="nodes"] b').textContent()).resolves.toBe("2");
    await shot(page, "overview");
    // page weight: the overview's HTML, stylesheet and script as served (uncompressed)
    const bytes = await page.evaluate(async () => {
      const get = async (u: string) => (await (await fetch(u)).arrayBuffer()).byteLength;
      return { html: await get("/"), css: await get("/ui/app.css"), js: await get("/ui/app.js") };
    });
    writeFileSync(join(SHOTS, "page-weight.json"), JSON.stringify(bytes));
    // the terminal's xterm is loaded by the terminal page only
    expect(await page.content()).not.toContain("xterm");
    expect(bytes.html + bytes.css + bytes.js).toBeLessThan(30_000);
    // sign out: the session is gone
    await page.click("header button[type=submit]");
    await page.waitForURL(`${server.url}/ui/login`);
    await page.goto(`${server.url}/`);
    expect(new URL(page.url()).pathname).toBe("/ui/login");
    await ctx.close();
  }, 60_000);

  it("scales a Deployment from the page; the overview's pod count follows live, without a reload", async () => {
    const ctx = await newContext();
    const overview = await signIn(ctx, server.adminToken);
    const podCount = () => overview.locator('[data-count="pods"] b').textContent();
    await expect(podCount()).resolves.toBe("1");
    let navigations = 0;
    overview.on("framenavigated", (f) => {
      if (f === overview.mainFrame()) navigations++;
    });
    const work = await ctx.newPage();
    await work.goto(`${server.url}/ui/workloads`);
    const row = work.locator(`tr[data-deployment="${NS}/web"]`);
    await row.locator('button[aria-label="scale up"]').click();
    await work.waitForLoadState();
    await expect(work.locator(".flash.ok").textContent()).resolves.toContain("scaled to 2");
    await until(async () => (await podCount()) === "2", "the overview to show 2 pods");
    await until(async () => (await row.locator('[data-col="ready"]').textContent()) === "2/2", "2/2 ready on the workloads page");
    expect(navigations).toBe(0);
    await shot(work, "workloads");
    // exact scale, then restart (a new template annotation, as kubectl rollout restart)
    await row.locator('input[name="replicas"]').fill("3");
    await row.locator('input[name="replicas"] ~ button').click();
    await work.waitForLoadState();
    await until(async () => (await api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/web`)).json.spec.replicas === 3, "spec.replicas 3");
    work.once("dialog", (d) => d.accept());
    await row.locator('button:has-text("Restart")').click();
    await until(
      async () =>
        !!(await api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/web`)).json.spec.template.metadata.annotations?.["kubectl.kubernetes.io/restartedAt"],
      "restartedAt",
    );
    await ctx.close();
  }, 90_000);

  it("applies a multi-document manifest, and shows the API's validation error for a broken one", async () => {
    const ctx = await newContext();
    const page = await signIn(ctx, server.adminToken);
    await page.goto(`${server.url}/ui/apply`);
    await page.fill(
      "textarea[name=yaml]",
      [
        "apiVersion: v1",
        "kind: ConfigMap",
        `metadata: {name: from-ui, namespace: ${NS}}`,
        "data: {a: '1'}",
        "---",
        "apiVersion: apps/v1",
        "kind: Deployment",
        `metadata: {name: applied, namespace: ${NS}}`,
        "spec: {replicas: 1, selector: {matchLabels: {app: applied}}, template: {metadata: {labels: {app: applied}}, spec: {containers: [{name: c, image: kubeflare/busybox:test}]}}}",
      ].join("\n"),
    );
    await page.click("form[action='/ui/apply'] button[type=submit]");
    await page.waitForLoadState();
    const results = page.locator("#results li");
    await expect(results.allTextContents()).resolves.toEqual(["document 1: configmap/from-ui created", "document 2: deployment.apps/applied created"]);
    expect((await api("GET", `/api/v1/namespaces/${NS}/configmaps/from-ui`)).json.data).toEqual({ a: "1" });
    expect((await api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/applied`)).status).toBe(200);
    await shot(page, "apply");
    // a Deployment whose selector does not match its template: the API's 422, inline; the manifest stays in the box
    await page.fill(
      "textarea[name=yaml]",
      [
        "apiVersion: apps/v1",
        "kind: Deployment",
        `metadata: {name: broken, namespace: ${NS}}`,
        "spec: {selector: {matchLabels: {app: x}}, template: {metadata: {labels: {app: y}}, spec: {containers: [{name: c, image: i}]}}}",
      ].join("\n"),
    );
    await page.click("form[action='/ui/apply'] button[type=submit]");
    await page.waitForLoadState();
    const err = await page.locator('#results li[data-ok="false"]').textContent();
    expect(err).toContain("422 Invalid");
    expect(err).toContain("spec.template.metadata.labels");
    await expect(page.locator("textarea[name=yaml]").inputValue()).resolves.toContain("name: broken");
    expect((await api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/broken`)).status).toBe(404);
    await shot(page, "apply-error");
    // a manifest loaded from a file goes into the box
    await page.setInputFiles('input[type="file"]', {
      name: "cm.yaml",
      mimeType: "text/yaml",
      buffer: Buffer.from(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-file, namespace: ${NS}}\n`),
    });
    await until(async () => (await page.locator("textarea[name=yaml]").inputValue()).includes("from-file"), "the file in the box");
    await page.click("form[action='/ui/apply'] button[type=submit]");
    await page.waitForLoadState();
    await expect(page.locator("#results li").allTextContents()).resolves.toEqual(["configmap/from-file created"]);
    await ctx.close();
  }, 60_000);

  it("lists pods as kubectl shows them and follows a pod's log as new lines arrive", async () => {
    const ctx = await newContext();
    const page = await signIn(ctx, server.adminToken);
    await page.goto(`${server.url}/ui/pods?namespace=${NS}&labelSelector=app%3Dweb`);
    const pods = await podsOf("web");
    const pod = pods.find((p) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp)!;
    const row = page.locator(`tr[data-name="${pod.metadata.name}"]`);
    await expect(row.locator("td").allTextContents()).resolves.toEqual(expect.arrayContaining([pod.metadata.name, "Running", pod.spec.nodeName]));
    await shot(page, "pods");
    // the filter form is outside the live region: still there after a refresh
    // two refreshes: the first one's region is in place once the second is asked for
    for (let i = 0; i < 2; i++) await page.waitForResponse((r) => r.request().headers()["x-live"] === "1" && r.ok(), { timeout: 15_000 });
    await expect(page.locator('select[name="namespace"]').inputValue()).resolves.toBe(NS);
    const logPath = `/api/v1/namespaces/${NS}/pods/${pod.metadata.name}/log`;
    const line = (text: string) => ({ time: new Date().toISOString(), stream: "stdout", text });
    expect((await api("POST", logPath, { container: "main", attempt: 0, lines: [line("first line")] })).status).toBeLessThan(300);
    await row.locator("a").first().click();
    await page.waitForURL(/\/ui\/pods\//);
    await until(async () => (await page.locator("#log").textContent())?.includes("first line"), "the log's first line");
    expect((await api("POST", logPath, { container: "main", attempt: 0, lines: [line("a new line")] })).status).toBeLessThan(300);
    await until(async () => (await page.locator("#log").textContent())?.includes("a new line"), "the followed new line");
    await expect(page.locator("h2").allTextContents()).resolves.toEqual(["Containers", "Conditions", "Events", "Logs"]);
    await shot(page, "pod");
    await ctx.close();
  }, 60_000);

  it("a viewer token sees no write button, and its POST is refused by the API (403 shown)", async () => {
    const ctx = await newContext();
    const page = await signIn(ctx, VIEWER);
    await page.goto(`${server.url}/ui/workloads`);
    await expect(page.locator(`tr[data-deployment="${NS}/web"]`).count()).resolves.toBe(1);
    expect(await page.locator("main form[method=post]").count()).toBe(0);
    expect(await page.locator("main button").count()).toBe(0);
    await shot(page, "workloads-viewer");
    // a hand-made POST with the viewer's own session and CSRF token: the API refuses it
    const csrf = await page.locator("header input[name=_csrf]").inputValue();
    const before = (await api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/web`)).json.spec.replicas;
    await page.evaluate(
      ([action, token]) => {
        const f = document.createElement("form");
        f.method = "post";
        f.action = action;
        const i = document.createElement("input");
        i.name = "_csrf";
        i.value = token;
        const r = document.createElement("input");
        r.name = "replicas";
        r.value = "7";
        f.append(i, r);
        document.body.append(f);
        f.submit();
      },
      [`/ui/deployments/${NS}/web/scale`, csrf],
    );
    await page.waitForURL(`${server.url}/ui/workloads`);
    await expect(page.locator(".flash.error").textContent()).resolves.toMatch(/^403 Forbidden/);
    expect((await api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/web`)).json.spec.replicas).toBe(before);
    await ctx.close();
  }, 60_000);

  it("refuses a POST without the CSRF token (403), even with a valid session", async () => {
    const ctx = await newContext();
    const page = await signIn(ctx, server.adminToken);
    const before = (await api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/web`)).json.spec.replicas;
    const status = await page.evaluate(async (path) => {
      const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "replicas=0" });
      return r.status;
    }, `/ui/deployments/${NS}/web/scale`);
    expect(status).toBe(403);
    const wrong = await page.evaluate(async (path) => {
      const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "replicas=0&_csrf=forged" });
      return r.status;
    }, `/ui/deployments/${NS}/web/scale`);
    expect(wrong).toBe(403);
    expect((await api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/web`)).json.spec.replicas).toBe(before);
    // and the sign-in form without its double-submit token
    const login = await undiciFetch(`${server.url}/ui/login`, {
      method: "POST",
      dispatcher,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `token=${server.adminToken}`,
      redirect: "manual",
    });
    expect(login.status).toBe(403);
    expect(login.headers.get("set-cookie") ?? "").not.toContain("kf_session");
    await ctx.close();
  }, 60_000);

  it("nodes page: cordon and uncordon, and a join token whose command a box can use", async () => {
    const ctx = await newContext();
    const page = await signIn(ctx, server.adminToken);
    await page.goto(`${server.url}/ui/nodes`);
    const card = page.locator(`section[data-node="${nodes[0].name}"]`);
    await card.locator('button:has-text("Cordon")').click();
    await page.waitForURL(`${server.url}/ui/nodes`);
    await expect(card.locator(".badge.warn").textContent()).resolves.toBe("cordoned");
    expect((await api("GET", `/api/v1/nodes/${nodes[0].name}`)).json.spec.unschedulable).toBe(true);
    // the overview says so too
    await page.goto(`${server.url}/`);
    await expect(page.locator(`section[data-node="${nodes[0].name}"] .badge.warn`).textContent()).resolves.toBe("cordoned");
    await page.goto(`${server.url}/ui/nodes`);
    await card.locator('button:has-text("Uncordon")').click();
    await page.waitForURL(`${server.url}/ui/nodes`);
    expect((await api("GET", `/api/v1/nodes/${nodes[0].name}`)).json.spec.unschedulable).toBeUndefined();
    // add a node: the token works for a join, once
    await page.click('form[action="/ui/nodes/join"] button[type=submit]');
    const command = (await page.locator("#join-command").textContent())!.trim();
    expect(command).toMatch(
      new RegExp(`^npx kubeflare-agent join --server ${server.url.replace(/[.]/g, "\\.")} --token [a-z0-9]{6}\\.[a-z0-9]{16} --ca-file ca\\.crt$`),
    );
    await shot(page, "nodes-join");
    // the live refresh keeps the join command and the form (they are outside the refreshed region)
    // two refreshes: the first one's region is in place once the second is asked for
    for (let i = 0; i < 2; i++) await page.waitForResponse((r) => r.request().headers()["x-live"] === "1" && r.ok(), { timeout: 15_000 });
    await expect(page.locator("#join-command").count()).resolves.toBe(1);
    const token = /--token (\S+)/.exec(command)![1];
    const join = await undiciFetch(`${server.url}/apis/kubeflare.dev/v1/join`, {
      method: "POST",
      dispatcher,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ nodeName: `dash-joined-${process.pid}` }),
    });
    expect(join.status).toBe(201);
    await ctx.close();
  }, 60_000);

  it("namespaces: create and delete; a Deployment paused and resumed", async () => {
    const ctx = await newContext();
    const page = await signIn(ctx, server.adminToken);
    await page.goto(`${server.url}/ui/namespaces`);
    const name = `made-in-ui-${process.pid}`;
    await page.fill('input[name="name"]', name);
    await page.click('form[action="/ui/namespaces"] button[type=submit]');
    await page.waitForURL(`${server.url}/ui/namespaces`);
    await expect(page.locator(".flash.ok").textContent()).resolves.toBe(`namespace/${name} created`);
    expect((await api("GET", `/api/v1/namespaces/${name}`)).status).toBe(200);
    // an invalid name: the API's 422, as a message
    await page.fill('input[name="name"]', "Not_A_Name");
    await page.click('form[action="/ui/namespaces"] button[type=submit]');
    await page.waitForURL(`${server.url}/ui/namespaces`);
    await expect(page.locator(".flash.error").textContent()).resolves.toMatch(/^422 Invalid: .*metadata\.name/);
    await shot(page, "namespaces");
    page.once("dialog", (d) => d.accept());
    await page.locator(`tr[data-name="${name}"] button:has-text("Delete")`).click();
    await page.waitForURL(`${server.url}/ui/namespaces`);
    await until(async () => {
      const r = await api("GET", `/api/v1/namespaces/${name}`);
      return r.status === 404 || !!r.json.metadata.deletionTimestamp;
    }, "the namespace deleted");
    // pause, resume
    await page.goto(`${server.url}/ui/workloads`);
    const row = page.locator(`tr[data-deployment="${NS}/web"]`);
    await row.locator('button:has-text("Pause")').click();
    await page.waitForURL(`${server.url}/ui/workloads`);
    expect((await api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/web`)).json.spec.paused).toBe(true);
    await expect(row.locator(".badge.warn").textContent()).resolves.toBe("paused");
    await row.locator('button:has-text("Resume")').click();
    await page.waitForURL(`${server.url}/ui/workloads`);
    expect((await api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/web`)).json.spec.paused).toBeFalsy();
    await ctx.close();
  }, 60_000);

  it("shows a Deployment's revisions and rolls back to one (kubectl rollout undo --to-revision)", async () => {
    const ctx = await newContext();
    const page = await signIn(ctx, server.adminToken);
    const path = `/apis/apps/v1/namespaces/${NS}/deployments/web`;
    // the restart earlier made revision 2
    await until(async () => (await api("GET", path)).json.metadata.annotations?.["deployment.kubernetes.io/revision"] === "2", "revision 2");
    await page.goto(`${server.url}/ui/workloads`);
    await page.click(`tr[data-deployment="${NS}/web"] a[href="/ui/deployments/${NS}/web"]`);
    await page.waitForURL(`${server.url}/ui/deployments/${NS}/web`);
    await expect(page.locator("tr[data-revision]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-revision")))).resolves.toEqual(["2", "1"]);
    expect(await page.locator('tr[data-revision="2"] button').count()).toBe(0);
    await shot(page, "deployment-history");
    page.once("dialog", (d) => d.accept());
    await page.locator('tr[data-revision="1"] button:has-text("Roll back")').click();
    await page.waitForURL(`${server.url}/ui/deployments/${NS}/web`);
    await expect(page.locator(".flash.ok").textContent()).resolves.toBe("deployment.apps/web rolled back to revision 1");
    const d = (await api("GET", path)).json;
    expect(d.spec.template.metadata.annotations?.["kubectl.kubernetes.io/restartedAt"]).toBeUndefined();
    expect(d.spec.template.metadata.labels).toEqual({ app: "web" });
    // the controller takes revision 1's ReplicaSet back as revision 3, as Kubernetes does
    await until(async () => (await api("GET", path)).json.metadata.annotations?.["deployment.kubernetes.io/revision"] === "3", "revision 3");
    await ctx.close();
  }, 60_000);

  it("renders the overview on a phone-sized screen, and the other pages for the screenshots", async () => {
    const ctx = await newContext({ width: 390, height: 844 });
    const page = await signIn(ctx, server.adminToken);
    const cards = page.locator("section.card.node");
    await expect(cards.count()).resolves.toBe(2);
    // one card per row, none wider than the screen
    const boxes = await Promise.all([0, 1].map((i) => cards.nth(i).boundingBox()));
    for (const b of boxes) expect(b!.x + b!.width).toBeLessThanOrEqual(390);
    expect(boxes[1]!.y).toBeGreaterThan(boxes[0]!.y);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(page, "overview-phone");
    // the heartbeat shown is the node Lease's renewal (every 2 s here), not the Ready condition's, written once at registration
    const meta = await cards.nth(0).locator(".meta").textContent();
    const seconds = Number(/heartbeat (\d+)s ago/.exec(meta!)![1]);
    expect(seconds).toBeLessThan(15);
    for (const p of ["nodes", "events"]) {
      await page.goto(`${server.url}/ui/${p}`);
      await expect(page.locator("h1").textContent()).resolves.toBe(p[0].toUpperCase() + p.slice(1));
      await shot(page, `${p}-phone`);
    }
    await ctx.close();
  }, 60_000);

  it("drains a node as kubectl drain --ignore-daemonsets --delete-emptydir-data: a PodDisruptionBudget's 429 is reported", async () => {
    const node = nodes[1].name;
    const pinned = (name: string) => {
      const d = deployment(name, 1);
      (d.spec.template.spec as any).nodeSelector = { "kubernetes.io/hostname": node };
      (d.spec.template.spec as any).volumes = [{ name: "scratch", emptyDir: {} }];
      return d;
    };
    for (const name of ["movable", "guarded"]) expect((await api("POST", `/apis/apps/v1/namespaces/${NS}/deployments`, pinned(name))).status).toBe(201);
    const ds = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agentish", namespace: NS },
      spec: {
        selector: { matchLabels: { app: "agentish" } },
        template: { metadata: { labels: { app: "agentish" } }, spec: { containers: [{ name: "main", image: "kubeflare/busybox:test" }] } },
      },
    };
    expect((await api("POST", `/apis/apps/v1/namespaces/${NS}/daemonsets`, ds)).status).toBe(201);
    const pdb = {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "guarded", namespace: NS },
      spec: { minAvailable: 1, selector: { matchLabels: { app: "guarded" } } },
    };
    expect((await api("POST", `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets`, pdb)).status).toBe(201);
    const running = async (app: string) => (await podsOf(app)).find((p) => p.spec.nodeName === node && p.status?.phase === "Running");
    const [movable, guarded, daemon] = await Promise.all(["movable", "guarded", "agentish"].map((a) => until(() => running(a), `${a} running on ${node}`)));
    await until(
      async () => (await api("GET", `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/guarded`)).json.status?.currentHealthy === 1,
      "the budget's status",
    );

    // a viewer (allowed to read nodes, as view does not) sees the node but no Drain button
    const nodeReader = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: `node-reader-${process.pid}` },
      rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] }],
    };
    expect((await api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", nodeReader)).status).toBe(201);
    const readNodes = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `readers-nodes-${process.pid}` },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: nodeReader.metadata.name },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "readers" }],
    };
    expect((await api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", readNodes)).status).toBe(201);
    const viewer = await newContext();
    const vpage = await signIn(viewer, VIEWER);
    await vpage.goto(`${server.url}/ui/nodes`);
    await expect(vpage.locator(`section[data-node="${node}"]`).count()).resolves.toBe(1);
    expect(await vpage.locator("main button").count()).toBe(0);
    await viewer.close();

    const ctx = await newContext();
    const page = await signIn(ctx, server.adminToken);
    await page.goto(`${server.url}/ui/nodes`);
    page.once("dialog", (d) => d.accept());
    await page.locator(`section[data-node="${node}"] button:has-text("Drain")`).click();
    await page.waitForURL(`${server.url}/ui/nodes`);
    const flash = (await page.locator(".flash.error").textContent())!;
    expect(flash).toContain(`node/${node} cordoned`);
    expect(flash).toContain(`Warning: ignoring DaemonSet-managed Pods: ${NS}/${daemon.metadata.name}`);
    expect(flash).toContain(`pod/${movable.metadata.name} evicted`);
    expect(flash).toMatch(
      new RegExp(`error when evicting pods/"${guarded.metadata.name}" -n "${NS}": 429 Cannot evict pod as it would violate the pod's disruption budget`),
    );
    expect(flash).not.toContain("drained");
    await shot(page, "nodes-drain");
    expect((await api("GET", `/api/v1/nodes/${node}`)).json.spec.unschedulable).toBe(true);
    const gone = await api("GET", `/api/v1/namespaces/${NS}/pods/${movable.metadata.name}`);
    expect(gone.status === 404 || !!gone.json.metadata.deletionTimestamp).toBe(true);
    for (const p of [guarded, daemon])
      expect((await api("GET", `/api/v1/namespaces/${NS}/pods/${p.metadata.name}`)).json.metadata.deletionTimestamp).toBeUndefined();

    // the budget lifted, a second drain evicts the rest and says the node is drained
    expect((await api("DELETE", `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/guarded`)).status).toBe(200);
    await page.goto(`${server.url}/ui/nodes`);
    page.once("dialog", (d) => d.accept());
    await page.locator(`section[data-node="${node}"] button:has-text("Drain")`).click();
    await page.waitForURL(`${server.url}/ui/nodes`);
    const ok = (await page.locator(".flash.ok").textContent())!;
    expect(ok).toContain(`pod/${guarded.metadata.name} evicted`);
    expect(ok).toMatch(new RegExp(`node/${node} drained$`));
    // a pod no controller manages stops a drain (kubectl drain without --force): nothing is evicted
    const bare = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "bare", namespace: NS },
      spec: { nodeName: node, containers: [{ name: "c", image: "kubeflare/busybox:test" }] },
    };
    expect((await api("POST", `/api/v1/namespaces/${NS}/pods`, bare)).status).toBe(201);
    page.once("dialog", (d) => d.accept());
    await page.locator(`section[data-node="${node}"] button:has-text("Drain")`).click();
    await page.waitForURL(`${server.url}/ui/nodes`);
    await expect(page.locator(".flash.error").textContent()).resolves.toContain(
      `cannot delete Pods that declare no controller (use kubectl drain --force to override): ${NS}/bare`,
    );
    expect((await api("GET", `/api/v1/namespaces/${NS}/pods/bare`)).json.metadata.deletionTimestamp).toBeUndefined();
    expect((await api("DELETE", `/api/v1/namespaces/${NS}/pods/bare?gracePeriodSeconds=0`)).status).toBe(200);
    // leave the node as it was
    await page.locator(`section[data-node="${node}"] button:has-text("Uncordon")`).click();
    await page.waitForURL(`${server.url}/ui/nodes`);
    for (const [kind, name] of [
      ["deployments", "movable"],
      ["deployments", "guarded"],
      ["daemonsets", "agentish"],
    ])
      expect((await api("DELETE", `/apis/apps/v1/namespaces/${NS}/${kind}/${name}`)).status).toBe(200);
    await ctx.close();
  }, 120_000);

  it("shows write buttons per resource and namespace as RBAC allows: a ServiceAccount bound to edit in one namespace", async () => {
    const other = `dash-other-${process.pid}`;
    expect((await api("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: other } })).status).toBe(201);
    expect(
      (await api("POST", `/apis/apps/v1/namespaces/${other}/deployments`, { ...deployment("elsewhere", 0), metadata: { name: "elsewhere", namespace: other } }))
        .status,
    ).toBe(201);
    expect(
      (await api("POST", `/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "editor" } })).status,
    ).toBe(201);
    const subject = [{ kind: "ServiceAccount", name: "editor", namespace: NS }];
    const rb = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "editor-edit", namespace: NS },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
      subjects: subject,
    };
    expect((await api("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, rb)).status).toBe(201);
    const crb = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `editor-view-${process.pid}` },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
      subjects: subject,
    };
    expect((await api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", crb)).status).toBe(201);
    const tr = await api("POST", `/api/v1/namespaces/${NS}/serviceaccounts/editor/token`, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: {},
    });
    expect(tr.status).toBe(201);
    const ctx = await newContext();
    const page = await signIn(ctx, tr.json.status.token);
    await page.goto(`${server.url}/ui/workloads`);
    const mine = page.locator(`tr[data-deployment="${NS}/web"]`);
    const theirs = page.locator(`tr[data-deployment="${other}/elsewhere"]`);
    await expect(theirs.count()).resolves.toBe(1);
    await expect(mine.locator("button").allTextContents()).resolves.toEqual(expect.arrayContaining(["Scale", "Restart", "Delete"]));
    expect(await theirs.locator("button").count()).toBe(0);
    await shot(page, "workloads-namespace-editor");
    // what it may do in its namespace works
    await mine.locator('button[aria-label="scale up"]').click();
    await page.waitForURL(`${server.url}/ui/workloads`);
    await expect(page.locator(".flash.ok").textContent()).resolves.toContain("scaled to");
    // no node or namespace buttons (cluster-scoped), but Apply (it may write in its namespace)
    await page.goto(`${server.url}/ui/nodes`);
    expect(await page.locator("main button").count()).toBe(0);
    await page.goto(`${server.url}/ui/namespaces`);
    expect(await page.locator("main button").count()).toBe(0);
    await page.goto(`${server.url}/ui/apply`);
    await expect(page.locator('form[action="/ui/apply"] button[type=submit]').count()).resolves.toBe(1);
    // the viewer may write nowhere: no Apply button
    const viewer = await newContext();
    const vpage = await signIn(viewer, VIEWER);
    await vpage.goto(`${server.url}/ui/apply`);
    expect(await vpage.locator('form[action="/ui/apply"] button[type=submit]').count()).toBe(0);
    await viewer.close();
    await ctx.close();
  }, 60_000);
});
