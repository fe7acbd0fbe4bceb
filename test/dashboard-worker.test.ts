/**
 * The dashboard on the Worker (the bundled Worker in Miniflare): the sign-in page, a
 * signed-in overview, and the session sealed with a key from ADMIN_TOKEN (or
 * DASHBOARD_SECRET). Plain HTTP, no browser: the pages are the same code as on Node.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkerTarget } from "./targets";

let t: Awaited<ReturnType<typeof startWorkerTarget>>;

beforeAll(async () => {
  t = await startWorkerTarget({ bindings: { VIEWER_TOKENS: "worker-viewer-token" } });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

/** The cookies a response sets, as `name=value` pairs for the next request. */
const cookiesOf = (res: Response): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(";");
    const i = pair.indexOf("=");
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
};
const cookieHeader = (c: Record<string, string>) =>
  Object.entries(c)
    .map(([k, v]) => `${k}=${v}`)
    .join("; ");

const signIn = async (token: string) => {
  const form = await t.fetch("/ui/login", { token: null });
  expect(form.status).toBe(200);
  const html = await form.text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1];
  const jar = cookiesOf(form);
  expect(jar.kf_login_csrf).toBe(csrf);
  const res = await t.fetch("/ui/login", {
    token: null,
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookieHeader(jar) },
    body: new URLSearchParams({ _csrf: csrf, token }).toString(),
  });
  return { res, jar: { ...jar, ...cookiesOf(res) } };
};

describe("dashboard on the Worker (Miniflare)", () => {
  it("serves the sign-in page, refuses a wrong token and shows the overview to a signed-in user", async () => {
    const anon = await t.fetch("/", { token: null, redirect: "manual" });
    expect(anon.status).toBe(303);
    expect(anon.headers.get("location")).toBe("/ui/login");
    const css = await t.fetch("/ui/app.css", { token: null });
    expect(css.headers.get("content-type")).toContain("text/css");
    // the terminal's xterm.js is in the Worker bundle, served by the Worker itself
    const xterm = await t.fetch("/ui/xterm.mjs", { token: null });
    expect(xterm.headers.get("content-type")).toContain("text/javascript");
    expect((await xterm.text()).length).toBeGreaterThan(100_000);

    const wrong = await signIn("not-the-token");
    expect(wrong.res.status).toBe(401);
    expect(await wrong.res.text()).toContain("That token was not accepted");
    expect(wrong.jar.kf_session).toBeUndefined();

    expect(
      (
        await t.fetch("/api/v1/nodes", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: "edge-box" } }),
        })
      ).status,
    ).toBe(201);
    const ok = await signIn(t.token);
    expect(ok.res.status).toBe(303);
    expect(ok.jar.kf_session).toBeTruthy();
    // http here, so not Secure; HttpOnly and SameSite=Strict always
    const set = ok.res.headers.getSetCookie().find((c) => c.startsWith("kf_session="))!;
    expect(set).toContain("HttpOnly");
    expect(set).toContain("SameSite=Strict");
    const page = await t.fetch("/", { token: null, headers: { Cookie: cookieHeader(ok.jar) } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('data-node="edge-box"');
    expect(html).toMatch(/<b>1<\/b><span>nodes<\/span>/);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    // only the terminal page loads xterm
    expect(html).not.toContain("xterm");
    // a session cookie changed by one character, or sealed under another secret, is no session
    const sealed = ok.jar.kf_session;
    const flipped = sealed.slice(0, -3) + (sealed.at(-3) === "A" ? "B" : "A") + sealed.slice(-2);
    const tampered = await t.fetch("/", { token: null, redirect: "manual", headers: { Cookie: `kf_session=${flipped}` } });
    expect(tampered.status).toBe(303);
    expect(tampered.headers.get("location")).toBe("/ui/login");
    // a live refresh is the region alone
    const live = await t.fetch("/", { token: null, headers: { Cookie: cookieHeader(ok.jar), "X-Live": "1" } });
    expect(await live.text()).not.toContain("<html");
    // an API client asking for / with its token still gets the API's answer
    expect((await t.fetch("/")).headers.get("content-type")).toContain("application/json");
  }, 60_000);

  it("streams a pod's log to the log viewer, and lists workloads, through the Worker", async () => {
    const admin = await signIn(t.token);
    const json = { "Content-Type": "application/json" };
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "logger" }, spec: { containers: [{ name: "main", image: "busybox" }] } };
    expect((await t.fetch("/api/v1/namespaces/default/pods", { method: "POST", headers: json, body: JSON.stringify(pod) })).status).toBe(201);
    const line = { time: new Date().toISOString(), stream: "stdout", text: "hello from the edge" };
    const up = await t.fetch("/api/v1/namespaces/default/pods/logger/log", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ container: "main", attempt: 0, lines: [line] }),
    });
    expect(up.status).toBeLessThan(300);
    const ctrl = new AbortController();
    const res = await t.fetch("/ui/pods/default/logger/log?container=main", { token: null, headers: { Cookie: cookieHeader(admin.jar) }, signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("hello from the edge")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain("hello from the edge");
    ctrl.abort();
    await reader.cancel().catch(() => {});
    const work = await (await t.fetch("/ui/workloads", { token: null, headers: { Cookie: cookieHeader(admin.jar) } })).text();
    expect(work).toContain("<h2>Deployments</h2>");
    expect(work).toContain("<h2>ReplicaSets</h2>");
  }, 60_000);

  it("a viewer's write is refused by the API; a POST without the CSRF token is refused outright", async () => {
    const v = await signIn("worker-viewer-token");
    expect(v.res.status).toBe(303);
    const page = await t.fetch("/ui/nodes", { token: null, headers: { Cookie: cookieHeader(v.jar) } });
    const html = await page.text();
    expect(html).toContain("restricted");
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1];
    const post = (body: string) =>
      t.fetch("/ui/nodes/edge-box/cordon", {
        token: null,
        method: "POST",
        redirect: "manual",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookieHeader(v.jar) },
        body,
      });
    expect((await post("")).status).toBe(403);
    const refused = await post(`_csrf=${encodeURIComponent(csrf)}`);
    expect(refused.status).toBe(303);
    expect(decodeURIComponent(cookiesOf(refused).kf_flash)).toContain("403 Forbidden");
    expect((await (await t.fetch("/api/v1/nodes/edge-box")).json()).spec?.unschedulable).toBeUndefined();
  }, 60_000);
});
