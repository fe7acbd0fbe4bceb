/** What the dashboard's route modules share: the request's variables and the page helpers of index.tsx. */
import type { Context } from "hono";
import type { Child } from "hono/jsx";
import type { accessOf } from "./access";
import type { Kube } from "./kube";
import type { Session } from "./session";

export type Vars = { session: Session; kube: Kube; csrf: string; form: Record<string, string>; can: ReturnType<typeof accessOf> };
export type Ctx = Context<{ Variables: Vars }>;

export interface PageKit {
  /** a page whose `region` refreshes itself; `before`/`after` stay put */
  liveRegion(c: Ctx, title: string, path: string, region: () => Promise<Child>, extra?: { before?: Child; after?: Child }): Promise<Response>;
  /** do a write, flash what happened (ok, or the error), and go back to `back` */
  act(c: Ctx, back: string, f: () => Promise<string | { kind: "ok" | "error"; text: string }>): Promise<Response>;
  /** a page's frame around `body` */
  page(c: Ctx, title: string, path: string, body: Child, status?: number, head?: Child): Promise<Response>;
}
