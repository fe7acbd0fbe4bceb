/** EndpointSlices (discovery.k8s.io/v1), written by the endpoints controller. */
import { defineKind } from "./kind";
import { AGE, age, col, NAME } from "./printing";

export const endpointslices = defineKind({
  info: { resource: "endpointslices", singular: "endpointslice", kind: "EndpointSlice", group: "discovery.k8s.io", version: "v1", namespaced: true },
  printer: {
    columns: [
      NAME,
      col("AddressType", "The type of address held in the slice."),
      col("Ports", "The ports the endpoints serve."),
      col("Endpoints", "The first few addresses of the slice."),
      AGE,
    ],
    cells: (o, now) => {
      const ports: any[] = o.ports ?? [];
      const addrs: string[] = (o.endpoints ?? []).flatMap((e: any) => e.addresses ?? []);
      const shown = addrs.length > 3 ? `${addrs.slice(0, 3).join(",")} + ${addrs.length - 3} more...` : addrs.length ? addrs.join(",") : "<unset>";
      return [o.metadata.name, o.addressType ?? "", ports.length ? ports.map((p) => p.port ?? "<unset>").join(",") : "<unset>", shown, age(o, now)];
    },
  },
});
