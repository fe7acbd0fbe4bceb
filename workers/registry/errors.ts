/** Store errors become API errors at one boundary: here. */
import type { ResourceInfo } from "../../shared/resources";
import { alreadyExists, ApiError, conflict, expired, notFound } from "../../shared/status";
import { StoreError } from "../store/store";

/** A store error as the API error it means for this object: translated here, once. */
export const apiErrorOf = (e: unknown, info: ResourceInfo, name: string): unknown => {
  if (!(e instanceof StoreError)) return e;
  switch (e.code) {
    case "AlreadyExists":
      return alreadyExists(info.resource, info.group, name);
    case "Conflict":
      return conflict(info.resource, info.group, name);
    case "Taken":
      return conflict(info.resource, info.group, name, "a value it claims was allocated to another object meanwhile; please try again");
    case "NotFound":
      return notFound(info.resource, info.group, name);
    case "Expired":
      return expired(e.message);
  }
};

export const isReason = (e: unknown, reason: string) => e instanceof ApiError && e.reason === reason;
