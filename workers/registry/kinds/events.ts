/** Events (core/v1). */
import { defineKind } from "./kind";
import { col, type Printer, since, wide } from "./printing";

const printer: Printer = {
  columns: [
    col("Last Seen", "Time when last this event was seen."),
    col("Type", "Type of this event (Normal, Warning), new types could be added in the future."),
    col("Reason", "This should be a short, machine understandable string that gives the reason for this event being generated."),
    col("Object", "The object that this event is about."),
    wide("Subobject", "The subobject that this event is about."),
    wide("Source", "The component reporting this event."),
    col("Message", "A human-readable description of the status of this operation."),
    wide("First Seen", "The time at which the event was first recorded."),
    wide("Count", "The number of times this event has occurred.", { type: "integer" }),
    wide("Name", "Name of the event.", { format: "name" }),
  ],
  cells: (e, now) => {
    const io = e.involvedObject ?? {};
    const last = e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
    const first = e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
    const source = e.source?.component ? (e.source.host ? `${e.source.component}, ${e.source.host}` : e.source.component) : (e.reportingComponent ?? "");
    return [
      since(last, now),
      e.type ?? "",
      e.reason ?? "",
      `${String(io.kind ?? "").toLowerCase()}/${io.name ?? ""}`,
      io.fieldPath ?? "",
      source,
      String(e.message ?? "").trim(),
      since(first, now),
      e.series?.count ?? e.count ?? 1,
      e.metadata.name,
    ];
  },
};

export const events = defineKind({
  info: { resource: "events", singular: "event", kind: "Event", group: "", version: "v1", namespaced: true, shortNames: ["ev"] },
  printer,
  strategy: {
    fieldLabels: [
      "involvedObject.kind",
      "involvedObject.namespace",
      "involvedObject.name",
      "involvedObject.uid",
      "involvedObject.apiVersion",
      "involvedObject.resourceVersion",
      "involvedObject.fieldPath",
      "reason",
      "reportingComponent",
      "source",
      "type",
    ],
  },
});
