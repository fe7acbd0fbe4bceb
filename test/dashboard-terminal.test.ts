/**
 * The dashboard's terminal (#19) in Chromium, on both runtimes (the Node server, and the
 * bundled Worker in Miniflare over HTTPS): a real NodeAgent joined with a node credential
 * runs a pod on Docker, and xterm.js on the pod's terminal page speaks kubectl's
 * WebSocket exec protocol through /ui/exec (the session's token on the API's exec path,
 * through the agent tunnel). Also: who may not open it (no CSRF token, another Origin, a
 * viewer's session), the node's usage bars from metrics.k8s.io, the terminal page's weight,
 * and screenshots (test-artifacts/dashboard/).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeAgent } from "../agent/agent";
import { ApiClient } from "../agent/api";
import { DockerRuntime } from "../agent/runtime/docker";
import { docker, IMAGE } from "./agent-e2e/engines";
import { eventually } from "./kubectl";
import { apiOf, refused, type TunnelEnv } from "./tunnel-suite";
import { hostAgentOptions, joinNode, printAgentLogOnFailure, startControlPlane, stopHostAgent } from "./host-agent";

const SHOTS = join(import.meta.dirname, "..", "test-artifacts", "dashboard");
const NS = "default";
const up = await docker.available();
if (!up && process.env.CI) throw new Error(`CI must run the dashboard terminal tests: Docker not reachable or ${IMAGE} missing`);

let browser: Browser;
beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  if (up) browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
});
afterAll(async () => {
  await browser?.close();
});

for (const runtime of ["node", "worker"] as const) {
  describe.skipIf(!up)(`dashboard terminal in Chromium (${runtime}, a real agent on Docker)`, () => {
    const NODE = `dterm-${runtime}-${process.pid}`;
    let dir: string;
    let env: TunnelEnv;
    let close: () => Promise<void>;
    let agent: NodeAgent;
    let viewerToken: string;
    let logs = "";
    let api: ReturnType<typeof apiOf>;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `kf-dterm-${runtime}-`));
      ({ env, close } = await startControlPlane(runtime));
      api = apiOf(env);
      agent = new NodeAgent({
        api: new ApiClient({ server: env.url, token: await joinNode(api, NODE), caPem: env.ca }),
        runtime: new DockerRuntime(),
        nodeName: NODE,
        ...hostAgentOptions(dir),
        log: (m: string) => {
          logs = (logs + m + "\n").slice(-20_000);
        },
      });
      await agent.start();
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "shell", namespace: NS },
        spec: {
          nodeName: NODE,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 1,
          containers: [{ name: "main", image: IMAGE, imagePullPolicy: "Never", command: ["sleep", "infinity"] }],
        },
      };
      const created = await api("POST", `/api/v1/namespaces/${NS}/pods`, pod);
      expect(created.status, created.text).toBe(201);
      await eventually(async () => (await api("GET", `/api/v1/namespaces/${NS}/pods/shell`)).json?.status?.phase === "Running", 60_000);
      // a viewer: a ServiceAccount bound to view (reads pods, may not exec), by RBAC
      expect(
        (await api("POST", `/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "looker" } })).status,
      ).toBe(201);
      const crb = {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: "looker-view" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "ServiceAccount", name: "looker", namespace: NS }],
      };
      expect((await api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", crb)).status).toBe(201);
      const tr = await api("POST", `/api/v1/namespaces/${NS}/serviceaccounts/looker/token`, {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: {},
      });
      expect(tr.status, tr.text).toBe(201);
      viewerToken = tr.json.status.token;
    }, 180_000);

    afterAll(() => stopHostAgent(agent, docker, NODE, close, dir), 60_000);
    printAgentLogOnFailure(NODE, () => logs);

    const newContext = (viewport = { width: 1280, height: 900 }) => browser.newContext({ ignoreHTTPSErrors: true, viewport });
    const signIn = async (ctx: BrowserContext, token: string): Promise<Page> => {
      const page = await ctx.newPage();
      await page.goto(`${env.url}/ui/login`);
      await page.fill("#token", token);
      await page.click("button[type=submit]");
      await page.waitForURL(`${env.url}/`);
      return page;
    };
    /** the terminal's screen, a line per row (xterm's DOM renderer draws a div per row, spaces as no-break spaces) */
    const screenText = (page: Page) =>
      page.$$eval(".xterm-rows > div", (rows) => rows.map((r) => (r.textContent ?? "").replace(/\u00a0/g, " ").trimEnd()).join("\n"));

    /** a WebSocket to the terminal's endpoint from outside the browser: the status it is refused with */
    const refusal = async (path: string, headers: Record<string, string>) => (await refused(env, path, ["v5.channel.k8s.io"], undefined, headers)).status;

    it("types into a shell in the container and sees its output (echo hi-$((6*7)) → hi-42)", async () => {
      const ctx = await newContext();
      const page = await signIn(ctx, env.admin);
      await page.goto(`${env.url}/ui/pods/${NS}/shell`);
      await page.click("#open-terminal");
      await page.waitForURL(`${env.url}/ui/pods/${NS}/shell/terminal`);
      await eventually(async () => (await page.locator("#term-status").textContent()) === "connected", 30_000);
      await page.locator(".xterm").click();
      await page.keyboard.type("echo hi-$((6*7))\n");
      await eventually(async () => /^hi-42$/m.test(await screenText(page)), 20_000).catch(async (e) => {
        throw new Error(`${(e as Error).message}; the terminal shows: ${JSON.stringify(await screenText(page))}`);
      });
      // a resize reaches the container's terminal (channel 4): stty size says the new rows and columns
      const size = () => page.evaluate(() => ({ cols: (window as any).term.cols as number, rows: (window as any).term.rows as number }));
      const before = await size();
      await page.setViewportSize({ width: 900, height: 700 });
      // the page fits the terminal on the window's resize event: its new size is the one to see (read at once, it was still the old one)
      const { cols, rows } = await eventually(async () => {
        const now = await size();
        return (now.cols !== before.cols || now.rows !== before.rows) && now;
      }, 20_000);
      // (the resize goes to the engine on its own while the typed line goes straight to the shell: a
      // first `stty size` may still see the old size, so it is asked again until the new one shows)
      await eventually(async () => {
        await page.keyboard.type("stty size\n");
        await new Promise((r) => setTimeout(r, 500));
        return (await screenText(page)).includes(`${rows} ${cols}`);
      }, 20_000).catch(async (e) => {
        throw new Error(`${(e as Error).message}; wanted ${rows} ${cols}; the terminal shows: ${JSON.stringify(await screenText(page))}`);
      });
      await page.setViewportSize({ width: 1280, height: 900 });
      await shot(page, `terminal-${runtime}`);
      if (runtime === "node") {
        // the terminal page's weight as served (uncompressed): HTML, app.css/js, xterm and its glue
        const bytes = await page.evaluate(async () => {
          const get = async (u: string) => (await (await fetch(u)).arrayBuffer()).byteLength;
          const files = ["/ui/app.css", "/ui/app.js", "/ui/xterm.css", "/ui/terminal.css", "/ui/terminal.js", "/ui/xterm.mjs", "/ui/addon-fit.mjs"];
          const out: Record<string, number> = { html: await get(location.pathname) };
          for (const f of files) out[f.slice(4)] = await get(f);
          return out;
        });
        writeFileSync(join(SHOTS, "page-weight-terminal.json"), JSON.stringify(bytes));
        expect(bytes["xterm.mjs"]).toBeGreaterThan(100_000);
      }
      // exit: the exec's Status ends the session
      await page.keyboard.type("exit\n");
      await eventually(async () => (await page.locator("#term-status").textContent()) === "exited", 20_000);
      await ctx.close();
    }, 90_000);

    it("refuses the terminal's WebSocket without the CSRF token, from another Origin, and to a viewer (the API's 403)", async () => {
      const ctx = await newContext();
      const page = await signIn(ctx, env.admin);
      await page.goto(`${env.url}/ui/pods/${NS}/shell/terminal`);
      const exec = (await page.locator("#term").getAttribute("data-exec"))!;
      const cookie = (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
      const origin = env.url;
      const noCsrf = exec.replace(/&csrf=[^&]+/, "");
      expect(noCsrf).not.toEqual(exec);
      expect(await refusal(noCsrf, { Cookie: cookie, Origin: origin })).toBe(403);
      expect(await refusal(exec, { Cookie: cookie, Origin: "https://evil.example" })).toBe(403);
      expect(await refusal(exec, { Origin: origin })).toBe(401);
      await ctx.close();
      // a viewer: no Terminal button; its own session and CSRF token reach the API, which refuses the exec
      const vctx = await newContext();
      const vpage = await signIn(vctx, viewerToken);
      await vpage.goto(`${env.url}/ui/pods/${NS}/shell`);
      await expect(vpage.locator("h2").first().textContent()).resolves.toBe("Containers");
      expect(await vpage.locator("#open-terminal").count()).toBe(0);
      await vpage.goto(`${env.url}/ui/pods/${NS}/shell/terminal`);
      const vexec = (await vpage.locator("#term").getAttribute("data-exec"))!;
      const vcookie = (await vctx.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
      expect(await refusal(vexec, { Cookie: vcookie, Origin: origin })).toBe(403);
      await eventually(async () => (await vpage.locator("#term-status").textContent())!.startsWith("could not connect"), 20_000);
      await vctx.close();
    }, 60_000);

    it("shows the node's cpu and memory usage from metrics.k8s.io, also on a phone-sized screen", async () => {
      const ctx = await newContext({ width: 390, height: 844 });
      const page = await signIn(ctx, env.admin);
      await eventually(async () => {
        await page.goto(`${env.url}/ui/nodes`);
        return (await page.locator(`section[data-node="${NODE}"] [data-usage] .bar`).count()) === 2;
      }, 40_000);
      const text = await page.locator(`section[data-node="${NODE}"] [data-usage]`).textContent();
      expect(text).toMatch(/cpu use\s*[\d.]+m?\/[\d.]+/);
      expect(text).toMatch(/mem use\s*[\d.]+(Ki|Mi|Gi)\//);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await shot(page, `node-phone-${runtime}`);
      // the pod page shows the pod's usage too (PodMetrics)
      await eventually(async () => {
        await page.goto(`${env.url}/ui/pods/${NS}/shell`);
        return (await page.locator("dd[data-usage]").count()) === 1;
      }, 40_000);
      await expect(page.locator("dd[data-usage]").textContent()).resolves.toMatch(/^main: cpu \S+, memory \S+$/);
      await ctx.close();
    }, 90_000);

    const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  });
}
