/** CronJobs (batch/v1): `kubectl get cronjobs` columns; the schedule is checked by validation (shared/cron.ts). */
import { defineKind } from "./kind";
import { AGE, age, col, containersCell, imagesCell, NAME, selectorString, since, templateColumns } from "./printing";

export const cronjobs = defineKind({
  info: {
    resource: "cronjobs",
    singular: "cronjob",
    kind: "CronJob",
    group: "batch",
    version: "v1",
    namespaced: true,
    shortNames: ["cj"],
    categories: ["all"],
    subresources: ["status"],
    hasStatus: true,
  },
  printer: {
    columns: [
      NAME,
      col("Schedule", "The schedule in Cron format."),
      col("Timezone", "The time zone of the schedule."),
      col("Suspend", "Whether new runs are held."),
      col("Active", "Running Jobs.", { type: "integer" }),
      col("Last Schedule", "When a Job was last scheduled."),
      AGE,
      ...templateColumns(),
    ],
    cells: (o, now) => {
      const template = { spec: { template: o.spec?.jobTemplate?.spec?.template } };
      return [
        o.metadata.name,
        o.spec?.schedule ?? "",
        o.spec?.timeZone || "<none>",
        o.spec?.suspend ? "True" : "False",
        (o.status?.active ?? []).length,
        o.status?.lastScheduleTime ? since(o.status.lastScheduleTime, now) : "<none>",
        age(o, now),
        containersCell(template as never),
        imagesCell(template as never),
        selectorString(o.spec?.jobTemplate?.spec?.selector),
      ];
    },
  },
  strategy: {
    tracksGeneration: true,
    prepareForCreate: (cj) => {
      cj.status = {};
    },
  },
});
