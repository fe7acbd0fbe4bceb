/** Secrets (core/v1): stringData becomes data; `immutable`. */
import { keepImmutable } from "./configmaps";
import { defineKind } from "./kind";
import { AGE, age, col, NAME } from "./printing";

const base64 = (s: string): string => {
  const bytes = new TextEncoder().encode(s);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
};

export const secrets = defineKind({
  info: { resource: "secrets", singular: "secret", kind: "Secret", group: "", version: "v1", namespaced: true },
  printer: {
    columns: [NAME, col("Type", "The type of secret"), col("Data", "Number of data entries", { type: "integer" }), AGE],
    cells: (o, now) => [o.metadata.name, o.type ?? "Opaque", Object.keys(o.data ?? {}).length, age(o, now)],
  },
  strategy: {
    fieldLabels: ["type"],
    // stringData is write-only: it becomes data
    normalize: (secret) => {
      if (!secret.stringData || typeof secret.stringData !== "object") return;
      secret.data = { ...(secret.data ?? {}) };
      for (const [k, v] of Object.entries(secret.stringData as Record<string, unknown>)) secret.data[k] = base64(String(v));
      delete secret.stringData;
    },
    validateUpdate: keepImmutable,
  },
});
