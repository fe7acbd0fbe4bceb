/** Test helper: the ApiError a call throws (fails the test when it throws none, or something else). */
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
