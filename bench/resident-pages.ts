/**
 * The physical pages a set of processes has resident, each page counted once: the memory a
 * process tree really takes. Summing the processes' VmRSS counts a page every process maps
 * once per process: `npm start` is two Node processes (npm and the server), and both map the
 * pages of the same node binary and C libraries. Read from /proc/<pid>/pagemap (the page
 * frame numbers need root; without it the kernel reports zeros and this returns undefined).
 */
import { closeSync, openSync, readFileSync, readSync } from "node:fs";

const PAGE = 4096;
const PRESENT = 1n << 63n;
const PFN_MASK = (1n << 55n) - 1n;

/** the resident page frames of `pid` (ranges with Rss 0 in smaps are skipped); undefined without root */
export function residentFrames(pid: number): Set<bigint> | undefined {
  const frames = new Set<bigint>();
  const ranges: [number, number][] = [];
  let cur: [number, number] | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (m) {
      cur = [Number.parseInt(m[1]!, 16), Number.parseInt(m[2]!, 16)];
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && cur && Number(rss[1]) > 0) ranges.push(cur);
  }
  const fd = openSync(`/proc/${pid}/pagemap`, "r");
  let present = 0;
  try {
    for (const [start, end] of ranges) {
      // in slices, so a huge mapping (V8's reservations) never needs one huge buffer
      for (let page = start / PAGE; page < end / PAGE; page += 65_536) {
        const n = Math.min(65_536, end / PAGE - page);
        const buf = Buffer.alloc(n * 8);
        const got = readSync(fd, buf, 0, buf.length, page * 8);
        for (let i = 0; i + 8 <= got; i += 8) {
          const e = buf.readBigUInt64LE(i);
          if (!(e & PRESENT)) continue;
          present++;
          const pfn = e & PFN_MASK;
          if (pfn) frames.add(pfn);
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return present && !frames.size ? undefined : frames;
}

/** the union of the resident frames of `pids`; undefined without root */
const framesOf = (pids: number[]): Set<bigint> | undefined => {
  const all = new Set<bigint>();
  for (const p of pids) {
    const f = residentFrames(p);
    if (!f) return undefined;
    for (const x of f) all.add(x);
  }
  return all;
};

/** MB of the distinct frames of `pids` */
export function distinctMB(pids: number[]): number | undefined {
  const all = framesOf(pids);
  return all && (all.size * PAGE) / 1e6;
}

/** MB of the frames of `own` that none of `others` has */
export function ownMB(own: number[], others: number[]): number | undefined {
  const mine = framesOf(own);
  const theirs = framesOf(others);
  if (!mine || !theirs) return undefined;
  let n = 0;
  for (const x of mine) if (!theirs.has(x)) n++;
  return (n * PAGE) / 1e6;
}
