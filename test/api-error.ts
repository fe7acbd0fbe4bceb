/** Test helper: the ApiError a call throws (fails the test when it throws none, or something else). */
import { expect } from "vitest";
import { ApiError } from "../shared/status";

export const apiError = (f: () => unknown): ApiError => {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
};

/** An HTTP answer that must be a Kubernetes Status failure with this code and reason. */
export const expectStatus = (r: { status: number; json: any; text?: string }, code: number, reason: string) => {
  expect(r.status, r.text?.slice(0, 500) ?? JSON.stringify(r.json)).toBe(code);
  expect(r.json).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason });
};
