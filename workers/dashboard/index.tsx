/**
 * The hosted dashboard (issue #19): server-rendered pages (hono/jsx) at `/` and under
 * `/ui/`, mounted by the API app on both runtimes (workers/api/app.ts). It is a client
 * like kubectl: the user signs in with a bearer token, and every read and write goes to
 * the API with that token (kube.ts), so authorization, validation and admission are the
 * API's, and a viewer's write is refused there (403), whatever the page shows.
 */
import { type Context, Hono } from "hono";
import type { Child } from "hono/jsx";
import { flowDepthOver, YAML_MAX_FLOW_DEPTH } from "../../shared/validation/limits";
import { YAML_MAX_CHARS, yamlDocuments, yamlError } from "../../shared/validation/yaml";
import { accessOf, ask } from "./access";
import type { Vars } from "./kit";
import { workloadRoutes } from "./workloads";
import { NODE_LEASES, NODE_METRICS, nodeRoutes } from "./nodes";
import { terminalAssets, terminalRoutes } from "./terminal";
import { CSS, JS } from "./assets";
import { collectionPath, Kube, KubeError, statusText, TABLE_ACCEPT } from "./kube";
import { Layout } from "./layout";
import { leasesByNode, nodeCards, problems, usageByNode } from "./model";
import { ApplyPage, CreateNamespace, NamespacesPage, type ApplyResult, Events, eventTime, KubeTable, LoginPage, Overview, PodPage, PodsFilters } from "./pages";
import {
  checkLoginCsrf,
  clearSession,
  csrfToken,
  deriveKeys,
  type Keys,
  loginCsrf,
  randomId,
  readSession,
  sameString,
  setFlash,
  takeFlash,
  writeSession,
} from "./session";
import { deleteCookie } from "hono/cookie";

export interface DashboardOptions {
  /** what session and CSRF keys are derived from (session.ts) */
  secret: string;
  /** the API, called in-process with the user's token */
  api: (req: Request, c: Context) => Promise<Response>;
}

export type { Vars } from "./kit";

/** Largest form accepted (a pasted manifest), as the API's default body limit is a few MiB. */
export const MAX_FORM_BYTES = 2 * 1024 * 1024;
const MAX_DOCUMENTS = 200;
const FIELD_MANAGER = "kubeflare-dashboard";

const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "X-Frame-Options": "DENY",
};

/** The body of a form POST, read up to a limit (null: too large). */
const readForm = async (req: Request): Promise<Record<string, string> | null> => {
  if (Number(req.headers.get("Content-Length") ?? "0") > MAX_FORM_BYTES) return null;
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_FORM_BYTES) {
        await reader.cancel().catch(() => {});
        return null;
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  const text = new TextDecoder().decode(bytes);
  const ct = req.headers.get("Content-Type") ?? "";
  if (ct && !ct.startsWith("application/x-www-form-urlencoded")) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(text)) if (!(k in out)) out[k] = v;
  return out;
};

const enc = encodeURIComponent;

export const dashboard = (o: DashboardOptions) => {
  const app = new Hono<{ Variables: Vars }>();
  let keys: Promise<Keys> | undefined;
  const getKeys = () => (keys ??= deriveKeys(o.secret));
  const kubeFor = (c: Context, token: string) => new Kube((req) => o.api(req, c), token);

  const isDashboard = (c: Context) => c.req.path === "/" || c.req.path === "/ui" || c.req.path.startsWith("/ui/");

  app.use("*", async (c, next) => {
    if (!isDashboard(c)) return next();
    // an API client asking for `/` (kubectl, curl with a token) gets the API's answer, not a page
    if (c.req.path === "/" && c.req.header("Authorization")) return next();
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
    if (!c.res.headers.has("Cache-Control")) c.res.headers.set("Cache-Control", "no-store");
  });

  app.get("/ui/app.css", (c) => c.body(CSS, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=300" }));
  app.get("/ui/app.js", (c) => c.body(JS, 200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=300" }));

  terminalAssets(app);

  const html = async (c: Context, el: Child, status = 200) => c.html(`<!doctype html>${await (el as any).toString()}`, status as any);

  // sign-in
  app.get("/ui/login", async (c) => {
    if (await readSession(c, await getKeys())) return c.redirect("/", 303);
    return html(c, <Layout title="Sign in">{<LoginPage csrf={loginCsrf(c)} />}</Layout>);
  });
  app.post("/ui/login", async (c) => {
    const form = await readForm(c.req.raw);
    if (!form) return c.text("form too large", 413);
    if (!checkLoginCsrf(c, form._csrf)) return c.text("Forbidden: the sign-in form's CSRF token is missing or wrong; load the sign-in page again", 403);
    const again = (error: string, status: number) => html(c, <Layout title="Sign in">{<LoginPage csrf={loginCsrf(c)} error={error} />}</Layout>, status);
    const token = (form.token ?? "").trim();
    if (!token || /\s/.test(token) || token.length > 4096) return again("Enter a bearer token (one line, no spaces).", 400);
    const kube = kubeFor(c, token);
    const res = await kube.raw("GET", "/api");
    if (res.status === 401) return again("That token was not accepted (401 Unauthorized): check it and try again.", 401);
    if (!res.ok) return again(`The API refused the sign-in: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`, 502);
    // whether this user may write, asked as kubectl auth can-i would be answered: a dry-run create (nothing is stored)
    const probe = await kube.raw("POST", "/api/v1/namespaces?dryRun=All", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { generateName: "dashboard-can-write-" },
    });
    await probe.body?.cancel();
    await writeSession(c, await getKeys(), { token, sid: randomId(), canWrite: probe.ok });
    deleteCookie(c, "kf_login_csrf", { path: "/" });
    return c.redirect("/", 303);
  });

  // every other page needs a session; every POST its CSRF token
  app.use("*", async (c, next) => {
    if (!isDashboard(c) || (c.req.path === "/" && c.req.header("Authorization"))) return next();
    const k = await getKeys();
    const session = await readSession(c, k);
    const live = c.req.header("X-Live") === "1";
    if (!session) {
      if (c.req.method === "GET" && !live) return c.redirect("/ui/login", 303);
      return c.text("Unauthorized: sign in first", 401);
    }
    const csrf = await csrfToken(k, session.sid);
    c.set("session", session);
    c.set("csrf", csrf);
    c.set("kube", kubeFor(c, session.token));
    c.set("can", accessOf(c.get("kube")));
    if (c.req.method === "POST") {
      const form = await readForm(c.req.raw);
      if (!form) return c.text("Payload Too Large: the form is larger than 2 MiB", 413);
      const sent = form._csrf ?? c.req.header("X-CSRF-Token") ?? "";
      if (!sameString(sent, csrf)) return c.text("Forbidden: CSRF token missing or wrong; reload the page and try again", 403);
      c.set("form", form);
    } else if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      return c.text("Method Not Allowed", 405);
    }
    await next();
  });

  /** A page: the frame around `body`; a live refresh (X-Live) gets the live region alone. */
  const page = async (c: Context<{ Variables: Vars }>, title: string, path: string, body: Child, status = 200, head?: Child) =>
    html(
      c,
      <Layout title={title} path={path} csrf={c.get("csrf")} canWrite={c.get("session").canWrite} flash={takeFlash(c)} head={head}>
        <h1>{title}</h1>
        {body}
      </Layout>,
      status,
    );
  /** A page whose `region` refreshes itself (the client re-fetches it with X-Live); `before`/`after` stay put (forms being filled in). */
  const liveRegion = async (
    c: Context<{ Variables: Vars }>,
    title: string,
    path: string,
    region: () => Promise<Child>,
    extra: { before?: Child; after?: Child } = {},
  ) => {
    const live = c.req.header("X-Live") === "1";
    try {
      const inner = await region();
      if (live) return html(c, inner as Child);
      const self = c.req.method === "GET" ? c.req.url.slice(new URL(c.req.url).origin.length) : path;
      return page(
        c,
        title,
        path,
        <>
          {extra.before}
          <div data-live={self}>{inner}</div>
          {extra.after}
        </>,
      );
    } catch (e) {
      if (live) return c.text(statusText(e), e instanceof KubeError ? (e.code as any) : 500);
      return page(c, title, path, <div class="flash error">{statusText(e)}</div>, e instanceof KubeError ? e.code : 500);
    }
  };

  app.post("/ui/logout", (c) => {
    clearSession(c);
    return c.redirect("/ui/login", 303);
  });
  app.get("/ui", (c) => c.redirect("/", 303));
  app.get("/ui/", (c) => c.redirect("/", 303));

  // the cluster overview
  app.get("/", async (c, next) => {
    if (!c.get("session")) return next();
    return liveRegion(c, "Cluster", "/", async () => {
      const kube = c.get("kube");
      const [nodes, pods, deployments, leases, metrics] = await Promise.all([
        kube.list("/api/v1/nodes"),
        kube.list("/api/v1/pods"),
        kube.list("/apis/apps/v1/deployments"),
        kube.list(NODE_LEASES).catch(() => []),
        kube.list(NODE_METRICS).catch(() => []),
      ]);
      const { cards, unscheduled } = nodeCards(nodes, pods, leasesByNode(leases), usageByNode(metrics));
      const counts = { nodes: nodes.length, pods: pods.length, deployments: deployments.length, problems: problems(nodes, pods, deployments) };
      return <Overview d={{ cards, unscheduled, counts }} />;
    });
  });

  /** Do a write, flash what happened (the API's Status on failure), and go back to the page. */
  const act = async (c: Context<{ Variables: Vars }>, back: string, f: () => Promise<string | { kind: "ok" | "error"; text: string }>) => {
    try {
      const r = await f();
      if (typeof r === "string") setFlash(c, "ok", r);
      else setFlash(c, r.kind, r.text);
    } catch (e) {
      setFlash(c, "error", e instanceof KubeError ? `${e.code} ${e.status.reason ?? ""}: ${statusText(e)}` : statusText(e));
    }
    return c.redirect(back, 303);
  };

  // workloads: Deployments (scale, restart, pause, history, roll back, delete), ReplicaSets, RCs (workloads.tsx)
  workloadRoutes(app, { liveRegion, act, page });

  // pods
  app.get("/ui/pods", async (c) => {
    const namespace = c.req.query("namespace") ?? "";
    const labelSelector = c.req.query("labelSelector") ?? "";
    const node = c.req.query("node") ?? "";
    let namespaces: string[] = [];
    try {
      namespaces = (await c.get("kube").list("/api/v1/namespaces")).map((n) => n.metadata.name).sort();
    } catch {}
    const filters = <PodsFilters namespaces={namespaces} namespace={namespace} labelSelector={labelSelector} node={node} />;
    return liveRegion(
      c,
      "Pods",
      "/ui/pods",
      async () => {
        const q = new URLSearchParams();
        if (labelSelector) q.set("labelSelector", labelSelector);
        if (node) q.set("fieldSelector", `spec.nodeName=${node}`);
        const path = `${collectionPath("v1", "pods", namespace || undefined)}${q.size ? `?${q}` : ""}`;
        const table = await c.get("kube").get(path, { Accept: TABLE_ACCEPT });
        return (
          <KubeTable
            table={table}
            wide
            namespaced={!namespace}
            link={(r) => r.object?.metadata && `/ui/pods/${enc(r.object.metadata.namespace)}/${enc(r.object.metadata.name)}`}
          />
        );
      },
      { before: filters },
    );
  });
  app.get("/ui/pods/:ns/:name", async (c) => {
    const { ns, name } = c.req.param();
    const title = `Pod ${ns}/${name}`;
    try {
      const kube = c.get("kube");
      const pod = await kube.get(`${collectionPath("v1", "pods", ns)}/${enc(name)}`);
      const events = (await kube.list(collectionPath("v1", "events", ns)))
        .filter((e) => e.involvedObject?.kind === "Pod" && e.involvedObject?.name === name)
        .sort((a, b) => (eventTime(b) ?? "").localeCompare(eventTime(a) ?? ""));
      const [canExec, metrics] = await Promise.all([
        c.get("can")("create", "", "pods/exec", ns),
        kube.get(`/apis/metrics.k8s.io/v1beta1/namespaces/${enc(ns)}/pods/${enc(name)}`).catch(() => undefined),
      ]);
      return page(c, title, "/ui/pods", <PodPage pod={pod} events={events} container={c.req.query("container")} canExec={canExec} metrics={metrics} />);
    } catch (e) {
      return page(c, title, "/ui/pods", <div class="flash error">{statusText(e)}</div>, e instanceof KubeError ? e.code : 500);
    }
  });
  // the log viewer's stream: the API's pods/log with follow, passed through as it comes (kubectl logs -f)
  app.get("/ui/pods/:ns/:name/log", async (c) => {
    const { ns, name } = c.req.param();
    const q = new URLSearchParams({ follow: "true", tailLines: "500" });
    const container = c.req.query("container");
    if (container) q.set("container", container);
    const res = await c.get("kube").raw("GET", `${collectionPath("v1", "pods", ns)}/${enc(name)}/log?${q}`);
    if (!res.ok) {
      let msg = `HTTP ${res.status}`;
      try {
        msg = (await res.json()).message ?? msg;
      } catch {}
      return c.text(`[${msg}]\n`, 200);
    }
    // Content-Encoding identity: otherwise the runtime gzips it and holds small chunks back (workers/api/rest.ts STREAM_HEADERS)
    return new Response(res.body, {
      status: 200,
      headers: {
        "Content-Type": "text/plain; charset=utf-8",
        "Cache-Control": "no-store, no-transform",
        "Content-Encoding": "identity",
        "X-Accel-Buffering": "no",
      },
    });
  });

  // events
  app.get("/ui/events", (c) =>
    liveRegion(c, "Events", "/ui/events", async () => {
      const warnings = c.req.query("type") === "Warning";
      const events = (await c.get("kube").list("/api/v1/events"))
        .filter((e) => !warnings || e.type === "Warning")
        .sort((a, b) => (eventTime(b) ?? "").localeCompare(eventTime(a) ?? ""))
        .slice(0, 300);
      return (
        <>
          <p class="filters">
            <a href="/ui/events">all</a> · <a href="/ui/events?type=Warning">warnings only</a>
          </p>
          <Events events={events} />
        </>
      );
    }),
  );

  // nodes: cards, cordon, drain, join tokens (nodes.tsx)
  nodeRoutes(app, { liveRegion, act, page });
  // a terminal into a container (terminal.tsx)
  terminalRoutes(app, { liveRegion, act, page });

  // namespaces
  app.get("/ui/namespaces", async (c) => {
    const may = await ask(c.get("can"), { create: ["create", "", "namespaces"], delete: ["delete", "", "namespaces"] });
    return liveRegion(
      c,
      "Namespaces",
      "/ui/namespaces",
      async () => {
        const namespaces = (await c.get("kube").list("/api/v1/namespaces")).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
        return <NamespacesPage namespaces={namespaces} csrf={c.get("csrf")} canWrite={may.delete} />;
      },
      { after: may.create ? <CreateNamespace csrf={c.get("csrf")} /> : null },
    );
  });
  app.post("/ui/namespaces", (c) =>
    act(c, "/ui/namespaces", async () => {
      const name = c.get("form").name ?? "";
      await c.get("kube").call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
      return `namespace/${name} created`;
    }),
  );
  app.post("/ui/namespaces/:name/delete", (c) =>
    act(c, "/ui/namespaces", async () => {
      const name = c.req.param("name");
      await c.get("kube").call("DELETE", `/api/v1/namespaces/${enc(name)}`);
      return `namespace/${name} deleted`;
    }),
  );

  // apply YAML
  /** whether to offer Apply: the user may write something in some namespace it can see (SelfSubjectRulesReviews) */
  const mayApply = async (c: Context<{ Variables: Vars }>) => {
    if (c.get("session").canWrite) return true;
    const can = c.get("can");
    const names = await c
      .get("kube")
      .list("/api/v1/namespaces")
      .then((l) => l.map((n) => n.metadata.name as string))
      .catch(() => ["default"]);
    return (await Promise.all(names.slice(0, 50).map((n) => can.anyWrite(n)))).some(Boolean);
  };
  app.get("/ui/apply", async (c) => page(c, "Apply YAML", "/ui/apply", <ApplyPage csrf={c.get("csrf")} yaml="" canWrite={await mayApply(c)} />));
  app.post("/ui/apply", async (c) => {
    const yaml = c.get("form").yaml ?? "";
    const results = await applyManifests(c.get("kube"), yaml);
    const failed = results.some((r) => !r.ok);
    return page(
      c,
      "Apply YAML",
      "/ui/apply",
      <ApplyPage csrf={c.get("csrf")} yaml={failed ? yaml : ""} results={results} canWrite={await mayApply(c)} />,
      failed ? 422 : 200,
    );
  });

  return app;
};

/** Each document of a manifest applied server-side (as `kubectl apply --server-side --force-conflicts`), with the API's answer. */
export const applyManifests = async (kube: Kube, text: string): Promise<ApplyResult[]> => {
  const results: ApplyResult[] = [];
  let docs: ReturnType<typeof yamlDocuments>;
  // the parser holds the event loop (shared/validation/yaml.ts): kubectl apply -f takes larger manifests
  if (text.length > YAML_MAX_CHARS)
    return [{ doc: 0, ok: false, text: `at most ${YAML_MAX_CHARS} characters at once (this is ${text.length}): use kubectl apply -f` }];
  // measured before the parser recurses into it (shared/validation/limits.ts)
  if (flowDepthOver(text)) return [{ doc: 0, ok: false, text: `YAML: exceeded max depth of ${YAML_MAX_FLOW_DEPTH} (flow collections)` }];
  try {
    docs = yamlDocuments(text);
  } catch (e) {
    return [{ doc: 0, ok: false, text: `YAML: ${(e as Error).message}` }];
  }
  if (docs.length > MAX_DOCUMENTS) return [{ doc: 0, ok: false, text: `at most ${MAX_DOCUMENTS} documents at once` }];
  const discovery = new Map<string, Promise<any[]>>();
  const resources = (gv: string) => {
    let p = discovery.get(gv);
    if (!p) {
      p = kube.get(gv.includes("/") ? `/apis/${gv}` : `/api/${gv}`).then((d) => d.resources ?? []);
      discovery.set(gv, p);
    }
    return p;
  };
  let i = -1;
  for (const doc of docs) {
    i++;
    const problem = yamlError(doc, text);
    if (problem) {
      results.push({ doc: i, ok: false, text: `YAML: ${problem}` });
      continue;
    }
    let obj: any;
    try {
      obj = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      results.push({ doc: i, ok: false, text: `YAML: ${(e as Error).message}` });
      continue;
    }
    if (obj === null || obj === undefined) continue;
    if (typeof obj !== "object" || Array.isArray(obj) || typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
      results.push({ doc: i, ok: false, text: "error: a manifest needs apiVersion and kind" });
      continue;
    }
    const name = obj.metadata?.name;
    try {
      const r = (await resources(obj.apiVersion).catch(() => [])).find((x: any) => x.kind === obj.kind && !String(x.name).includes("/"));
      if (!r) throw new Error(`no matches for kind "${obj.kind}" in version "${obj.apiVersion}"`);
      if (typeof name !== "string" || !name) throw new Error("error: metadata.name is required to apply an object");
      const ns = r.namespaced ? (obj.metadata.namespace ?? "default") : undefined;
      const res = await kube.raw(
        "PATCH",
        `${collectionPath(obj.apiVersion, r.name, ns)}/${enc(name)}?fieldManager=${FIELD_MANAGER}&force=true`,
        JSON.stringify(obj),
        { "Content-Type": "application/apply-patch+yaml" },
      );
      const body = await res.text();
      if (!res.ok) {
        let status: any = {};
        try {
          status = JSON.parse(body);
        } catch {}
        throw new KubeError(res.status, status?.message ? status : { message: body.slice(0, 500) });
      }
      const group = obj.apiVersion.includes("/") ? `.${obj.apiVersion.split("/")[0]}` : "";
      results.push({ doc: i, ok: true, text: `${obj.kind.toLowerCase()}${group}/${name} ${res.status === 201 ? "created" : "configured"}` });
    } catch (e) {
      results.push({ doc: i, ok: false, text: e instanceof KubeError ? `${e.code} ${e.status.reason ?? ""}: ${statusText(e)}` : statusText(e) });
    }
  }
  if (!results.length) results.push({ doc: 0, ok: false, text: "nothing to apply: the manifest is empty" });
  return results;
};
