/** The page frame: header with navigation, flash message, and the page's content. */
import type { Child } from "hono/jsx";

export const NAV = [
  ["/", "Overview"],
  ["/ui/workloads", "Workloads"],
  ["/ui/pods", "Pods"],
  ["/ui/nodes", "Nodes"],
  ["/ui/events", "Events"],
  ["/ui/namespaces", "Namespaces"],
  ["/ui/apply", "Apply YAML"],
] as const;

export interface Frame {
  title: string;
  /** the nav entry to mark */
  path?: string;
  csrf?: string;
  flash?: { kind: "ok" | "error"; text: string };
  /** whether the user may write (shown next to sign out) */
  canWrite?: boolean;
  /** extra stylesheets and scripts of this page (the terminal's) */
  head?: Child;
  children?: Child;
}

export const Layout = ({ title, path, csrf, flash, canWrite, head, children }: Frame) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{title} · Kubeflare</title>
      <link rel="stylesheet" href="/ui/app.css" />
      <script src="/ui/app.js" defer />
      {head}
    </head>
    <body>
      {csrf !== undefined ? (
        <header>
          <a class="brand" href="/">
            Kubeflare
          </a>
          <nav>
            {NAV.map(([href, label]) => (
              <a href={href} class={path === href ? "on" : ""}>
                {label}
              </a>
            ))}
          </nav>
          <span class="badge">{canWrite ? "admin" : "restricted"}</span>
          <form method="post" action="/ui/logout">
            <input type="hidden" name="_csrf" value={csrf} />
            <button type="submit">Sign out</button>
          </form>
        </header>
      ) : null}
      <main>
        {flash ? (
          <div class={`flash ${flash.kind}`} role={flash.kind === "error" ? "alert" : "status"}>
            {flash.text}
          </div>
        ) : null}
        {children}
      </main>
    </body>
  </html>
);

/** A state-changing form: POST with the session's CSRF token. */
export const PostForm = (p: { action: string; csrf: string; confirm?: string; class?: string; children?: Child }) => (
  <form method="post" action={p.action} data-confirm={p.confirm} class={p.class}>
    <input type="hidden" name="_csrf" value={p.csrf} />
    {p.children}
  </form>
);

/** A column heading: its text, or its text and class; false, null or undefined for a column not shown. */
export type Col = string | { label: string; class: string } | false | null | undefined;

/**
 * A table in its scrolling box: one heading row of `cols`, then `children` as the rows. With
 * `empty` set, a muted row saying it first, across `span` columns (by default the columns shown).
 */
export const Table = (p: { cols: Col[]; empty?: string; span?: number; children?: Child }) => {
  const shown = p.cols.filter((c): c is Exclude<Col, false | null | undefined> => typeof c === "string" || !!c);
  return (
    <div class="tablewrap">
      <table>
        <thead>
          <tr>{shown.map((c) => (typeof c === "string" ? <th>{c}</th> : <th class={c.class}>{c.label}</th>))}</tr>
        </thead>
        <tbody>
          {p.empty !== undefined ? (
            <tr>
              <td colspan={p.span ?? shown.length} class="muted">
                {p.empty}
              </td>
            </tr>
          ) : null}
          {p.children}
        </tbody>
      </table>
    </div>
  );
};
