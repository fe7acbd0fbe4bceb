/**
 * CronJob schedules as Kubernetes reads them (robfig/cron's standard parser): five
 * fields (minute hour day-of-month month day-of-week) or a macro, in the CronJob's
 * timeZone (default UTC). The arithmetic is croner's; this module adds Kubernetes'
 * rules (five fields only, no TZ= prefix, the macros it knows) and its messages.
 */
import { Cron } from "croner";

/** robfig/cron's descriptors (the `@every` form is not a schedule Kubernetes accepts) */
export const CRON_MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const expand = (schedule: string): string => CRON_MACROS[schedule.trim()] ?? schedule.trim();

/** Why `schedule` is not a valid CronJob schedule, or undefined when it is. */
export const scheduleError = (schedule: string): string | undefined => {
  const s = schedule.trim();
  if (/^(CRON_)?TZ=/.test(s)) return "cannot use TZ or CRON_TZ in schedule, use timeZone field instead";
  if (s.startsWith("@") && !CRON_MACROS[s]) return `unrecognized descriptor: ${s}`;
  const fields = expand(s).split(/\s+/).filter(Boolean);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(" ")}]`;
  try {
    new Cron(fields.join(" "), { paused: true, legacyMode: true });
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
};

/** Whether the runtime knows the IANA time zone `tz`. */
export const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return tz.trim() !== "" && !/^(local)$/i.test(tz);
  } catch {
    return false;
  }
};

export interface Schedule {
  /** the first run strictly after `after` */
  next(after: Date): Date | undefined;
  /** the last run at or before `at` */
  latest(at: Date): Date | undefined;
}

/** A parsed schedule (throws on an invalid one: validate with scheduleError first). */
export const cronSchedule = (schedule: string, timeZone?: string): Schedule => {
  const cron = new Cron(expand(schedule), { paused: true, legacyMode: true, timezone: timeZone || "Etc/UTC" });
  return {
    next: (after) => cron.nextRun(after) ?? undefined,
    latest: (at) => {
      // a run exactly at `at` counts: look back from just after it
      const [t] = cron.previousRuns(1, new Date(at.getTime() + 1));
      return t ?? undefined;
    },
  };
};
