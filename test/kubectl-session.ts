/** What the kubectl session tests share: a command that must succeed with nothing on stderr, and kubectl's table output as rows of cells. */
import { expect } from "vitest";
import type { Kubectl } from "./kubectl";

/** Runs `kubectl args` (with `input` on stdin): its stdout; throws when it fails, and expects an empty stderr. */
export const kubectlOk = async (k: Kubectl, args: string | string[], input?: string) => {
  const r = await k(args, { input });
  if (r.code !== 0) throw new Error(`kubectl ${Array.isArray(args) ? args.join(" ") : args} failed (${r.code}): ${r.stderr}${r.stdout}`);
  expect(r.stderr).toBe("");
  return r.stdout;
};

/** kubectl's table output as rows of cells (columns are two or more spaces apart). */
export const rows = (out: string) =>
  out
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s{2,}/));
