/**
 * A terminal into a container, in the browser: xterm.js (served by Kubeflare itself,
 * xterm-assets.gen.ts, on this page only) speaking kubectl's WebSocket exec protocol
 * (v5.channel.k8s.io or v4: a channel byte, then data; 0 stdin, 1 stdout, 2 stderr,
 * 3 the Status, 4 resize {Width, Height}).
 *
 * A browser can't put an Authorization header on a WebSocket, so the page connects to
 * /ui/exec/<ns>/<pod> on its own origin instead. That upgrade is resolved here
 * (execUpgrade): the sealed session cookie names the user's token; the Origin must be
 * this server's and the query must carry the session's CSRF token (no other site can
 * open it); then the runtime hands the upgrade, now the API's exec path with the user's
 * bearer token, to the very handler kubectl's exec reaches (node/upgrade.ts on Node,
 * workers/tunnel/edge.ts on the Worker). So the API authorizes `create pods/exec` for
 * the user as for kubectl: the dashboard stays a client with the user's permissions.
 */
import type { Hono } from "hono";
import { ApiError } from "../../shared/status";
import type { PageKit, Vars } from "./kit";
import { collectionPath, statusText } from "./kube";
import { csrfToken, deriveKeys, type Keys, sameString, sessionOfCookies } from "./session";

/** xterm's files (xterm-assets.gen.ts: ~0.35 MB of source), loaded when the browser first asks for one, not with the server */
export const XTERM_NAMES = ["xterm.mjs", "xterm.css", "addon-fit.mjs"];

const enc = encodeURIComponent;
export const EXEC_PREFIX = "/ui/exec/";
const EXEC_PATH = /^\/ui\/exec\/([^/]+)\/([^/]+)$/;
/** what the terminal runs in the container */
export const SHELL = "sh";

/** The page's script: xterm in #term, its keystrokes to the exec stream's stdin, stdout and stderr to the screen. */
export const TERMINAL_JS = `import{Terminal}from"/ui/xterm.mjs";import{FitAddon}from"/ui/addon-fit.mjs";
const el=document.getElementById("term"),st=document.getElementById("term-status");
const say=(t)=>{st.textContent=t;st.dataset.state=t;};
const term=new Terminal({cursorBlink:true,fontSize:14,scrollback:5000,theme:{background:"#0b1020"}});
const fit=new FitAddon();term.loadAddon(fit);term.open(el);fit.fit();window.term=term;
const url=new URL(el.dataset.exec,location.href);url.protocol=location.protocol==="https:"?"wss:":"ws:";
const ws=new WebSocket(url,["v5.channel.k8s.io","v4.channel.k8s.io"]);ws.binaryType="arraybuffer";
const te=new TextEncoder(),td=new TextDecoder();
const send=(ch,s)=>{if(ws.readyState!==1)return;const b=te.encode(s),m=new Uint8Array(b.length+1);m[0]=ch;m.set(b,1);ws.send(m);};
const resize=()=>send(4,JSON.stringify({Width:term.cols,Height:term.rows}));
ws.onopen=()=>{say("connected");resize();term.focus();};
ws.onmessage=(e)=>{const d=typeof e.data==="string"?te.encode(e.data):new Uint8Array(e.data);if(!d.length)return;const b=d.subarray(1);
if(d[0]===1||d[0]===2)term.write(b);else if(d[0]===3){let s={};try{s=JSON.parse(td.decode(b));}catch{}say(s.status==="Success"?"exited":"ended: "+(s.message||"error"));}};
ws.onclose=(e)=>{if(!/^(exited|ended)/.test(st.textContent))say(e.code===1006?"could not connect (not allowed, or the pod's node is not reachable)":"closed"+(e.reason?": "+e.reason:""));};
term.onData((s)=>send(0,s));term.onResize(resize);addEventListener("resize",()=>fit.fit());
`;

const TERMINAL_CSS = "#term{height:70vh;min-height:16rem;background:#0b1020;padding:.4rem;border-radius:8px}";

/** The terminal's static files: xterm's modules and stylesheet, and the page's script (no session needed: they hold nothing of the cluster). */
export const terminalAssets = (app: Hono<any>) => {
  const types: Record<string, string> = { mjs: "text/javascript; charset=utf-8", js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8" };
  const files: Record<string, string> = { "terminal.js": TERMINAL_JS, "terminal.css": TERMINAL_CSS };
  const body = async (name: string) => files[name] ?? (await import("./xterm-assets.gen")).XTERM_ASSETS[name];
  for (const name of [...XTERM_NAMES, ...Object.keys(files)]) {
    app.get(`/ui/${name}`, async (c) =>
      c.body(await body(name), 200, { "Content-Type": types[name.split(".").pop()!], "Cache-Control": "public, max-age=3600" }),
    );
  }
};

export const TerminalPage = (p: { pod: any; container: string; csrf: string }) => {
  const ns = p.pod.metadata.namespace;
  const name = p.pod.metadata.name;
  const containers: string[] = (p.pod.spec?.containers ?? []).map((c: any) => c.name);
  const exec = `${EXEC_PREFIX}${enc(ns)}/${enc(name)}?${new URLSearchParams({ container: p.container, csrf: p.csrf })}`;
  return (
    <>
      <p class="muted">
        <a href={`/ui/pods/${enc(ns)}/${enc(name)}`}>← pod</a> · <code>{SHELL}</code> in container{" "}
        {containers.length > 1 ? containers.map((c) => <>{c === p.container ? <b>{c}</b> : <a href={`?container=${enc(c)}`}>{c}</a>} </>) : p.container} ·{" "}
        <span id="term-status">connecting…</span>
      </p>
      <div id="term" data-exec={exec} />
    </>
  );
};

/** The head of the terminal page: xterm's stylesheet and the page's module (only this page loads them). */
export const TerminalHead = () => (
  <>
    <link rel="stylesheet" href="/ui/xterm.css" />
    <link rel="stylesheet" href="/ui/terminal.css" />
    <script type="module" src="/ui/terminal.js" />
  </>
);

export const terminalRoutes = (app: Hono<{ Variables: Vars }>, { page }: PageKit) => {
  app.get("/ui/pods/:ns/:name/terminal", async (c) => {
    const { ns, name } = c.req.param();
    const title = `Terminal ${ns}/${name}`;
    try {
      const pod = await c.get("kube").get(`${collectionPath("v1", "pods", ns)}/${enc(name)}`);
      const container = c.req.query("container") || pod.spec?.containers?.[0]?.name || "";
      return page(c, title, "/ui/pods", <TerminalPage pod={pod} container={container} csrf={c.get("csrf")} />, 200, <TerminalHead />);
    } catch (e) {
      return page(c, title, "/ui/pods", <div class="flash error">{statusText(e)}</div>, 500);
    }
  });
};

const keysBySecret = new Map<string, Promise<Keys>>();

/**
 * A dashboard terminal's WebSocket upgrade, resolved: the API's exec path for it and the
 * signed-in user's token to send it with. Throws the Status to answer with (401 without
 * a session, 403 for a foreign Origin or a wrong CSRF token, 404 for another path).
 * `host` is the Host the request was sent to.
 */
export const execUpgrade = async (
  secret: string,
  req: { url: URL; cookie?: string | null; origin?: string | null; host?: string | null },
): Promise<{ path: string; token: string }> => {
  const m = EXEC_PATH.exec(req.url.pathname);
  if (!m) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
  let origin: URL | undefined;
  try {
    origin = new URL(req.origin ?? "");
  } catch {}
  if (!origin || !req.host || origin.host !== req.host) throw new ApiError(403, "Forbidden", "a dashboard terminal opens from the dashboard's own origin only");
  let keys = keysBySecret.get(secret);
  if (!keys) keysBySecret.set(secret, (keys = deriveKeys(secret)));
  const session = await sessionOfCookies(req.cookie, await keys);
  if (!session) throw new ApiError(401, "Unauthorized", "Unauthorized: sign in to the dashboard first");
  if (!sameString(req.url.searchParams.get("csrf") ?? "", await csrfToken(await keys, session.sid)))
    throw new ApiError(403, "Forbidden", "CSRF token missing or wrong; reload the terminal page");
  const [ns, pod] = [decodeURIComponent(m[1]), decodeURIComponent(m[2])];
  const q = new URLSearchParams({ command: SHELL, stdin: "true", stdout: "true", stderr: "true", tty: "true" });
  const container = req.url.searchParams.get("container");
  if (container) q.set("container", container);
  return { path: `${collectionPath("v1", "pods", ns)}/${enc(pod)}/exec?${q}`, token: session.token };
};
