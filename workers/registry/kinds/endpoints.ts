/** Endpoints (core/v1), written by the endpoints controller. */
import type { KObject } from "../../../shared/types";
import { defineKind } from "./kind";
import { AGE, age, col, NAME } from "./printing";

const endpointsCell = (e: KObject) => {
  const out: string[] = [];
  let count = 0;
  for (const ss of e.subsets ?? []) {
    const ports: any[] = ss.ports?.length ? ss.ports : [{}];
    for (const a of ss.addresses ?? []) {
      for (const p of ports) {
        count++;
        if (out.length < 3) out.push(p.port ? `${a.ip}:${p.port}` : a.ip);
      }
    }
  }
  if (!count) return "<none>";
  return count > 3 ? `${out.join(",")} + ${count - 3} more...` : out.join(",");
};

export const endpoints = defineKind({
  info: { resource: "endpoints", singular: "endpoints", kind: "Endpoints", group: "", version: "v1", namespaced: true, shortNames: ["ep"] },
  printer: {
    columns: [NAME, col("Endpoints", "Endpoints of the service"), AGE],
    cells: (e, now) => [e.metadata.name, endpointsCell(e), age(e, now)],
  },
});
