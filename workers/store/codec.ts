/** Rows in and out of SQLite: JSON bodies, continue tokens, busy retries. */
import type { KObject } from "../../shared/types";
import { StoreError } from "./types";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const isBusy = (e: unknown) => {
  const code = (e as { code?: string })?.code ?? "";
  return code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED");
};

export const isConstraint = (e: unknown) => ((e as { code?: string })?.code ?? "").startsWith("SQLITE_CONSTRAINT");

export const num = (v: unknown): number => (typeof v === "bigint" ? Number(v) : Number(v ?? 0));

/** Parse a stored object and stamp its revision as metadata.resourceVersion. */
export const decode = (json: unknown, rev: number): KObject => {
  const obj = JSON.parse(String(json)) as KObject;
  obj.metadata = { ...(obj.metadata ?? {}), resourceVersion: String(rev) };
  return obj;
};

/** Objects are stored without resourceVersion: it is the row's revision. */
export const encode = (obj: KObject): string => {
  const { resourceVersion: _rv, ...metadata } = obj.metadata ?? {};
  return JSON.stringify({ ...obj, metadata });
};

export const encodeContinue = (rev: number, namespace: string, name: string) => btoa(JSON.stringify({ v: 1, rev, ns: namespace, name })).replace(/=+$/, "");

export const decodeContinue = (token: string): { rev: number; ns: string; name: string } => {
  try {
    const t = JSON.parse(atob(token));
    if (t?.v !== 1 || typeof t.rev !== "number" || typeof t.ns !== "string" || typeof t.name !== "string") throw 0;
    return t;
  } catch {
    throw new StoreError("Expired", "invalid continue token");
  }
};

/** Run statements, retrying (asynchronously) when another process holds the write lock. */
export const retryBusy = async <T>(f: () => Promise<T>): Promise<T> => {
  for (let attempt = 0; ; attempt++) {
    try {
      return await f();
    } catch (e) {
      if (!isBusy(e) || attempt >= 50) throw e;
      await sleep(Math.min(5 * 2 ** Math.min(attempt, 6), 250) * (0.5 + Math.random()));
    }
  }
};
