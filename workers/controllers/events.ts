import { fnv1aHex } from "../../shared/hash";
import type { KObject } from "../../shared/types";
import type { ControllerClient } from "./client";
import { isConflict } from "./client";
import { newEvent } from "../../shared/events";
import { rfc3339 } from "../../shared/time";

export interface EventRecorder {
  /** Record (or count again) a core/v1 Event about `obj`. Never throws. */
  record(obj: KObject, type: "Normal" | "Warning", reason: string, message: string): Promise<void>;
}

/**
 * Events as Kubernetes' recorder writes them: one Event per (object, type, reason,
 * message), named `<object>.<hash>`; repeats bump `count` and `lastTimestamp`.
 */
export const eventRecorder = (api: ControllerClient, component: string, now: () => Date): EventRecorder => ({
  async record(obj, type, reason, message) {
    const namespace = obj.metadata.namespace || "default";
    const name = `${obj.metadata.name}.${fnv1aHex(`${obj.metadata.uid}/${type}/${reason}/${message}`)}`;
    const at = now();
    const ts = rfc3339(at);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const existing = await api.get("events", namespace, name);
        if (existing) {
          try {
            await api.update("events", { ...existing, count: (existing.count ?? 1) + 1, lastTimestamp: ts });
            return;
          } catch (e) {
            if (isConflict(e)) continue;
            throw e;
          }
        }
        await api.create("events", namespace, newEvent(obj, { name, type, reason, message, source: { component }, first: at }));
        return;
      }
    } catch (e) {
      // events are best effort, as in Kubernetes
      console.error(`event ${reason} for ${obj.metadata.name} not recorded: ${(e as Error).message}`);
    }
  },
});
