/**
 * IPv4 and IPv6 CIDR blocks as Go's net.ParseCIDR (netutils' "sloppy" form, as the
 * legacy API fields accept them: leading zeros in IPv4 octets, host bits set), with
 * addresses as BigInts so one piece of code serves both families. Pure code: the
 * NetworkPolicy validation and the agent's policy rules use it.
 */

export interface IPNet {
  family: 4 | 6;
  /** the network address (host bits cleared) */
  base: bigint;
  prefix: number;
}

const V4_PART = /^\d{1,3}$/;

/** An IPv4 address (leading zeros allowed, as netutils.ParseIPSloppy) as a BigInt. */
const parseV4 = (s: string): bigint | undefined => {
  const parts = s.split(".");
  if (parts.length !== 4 || !parts.every((p) => V4_PART.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256n + BigInt(Number(p)), 0n);
};

/** An IPv6 address (with :: and an IPv4 tail) as a BigInt. */
const parseV6 = (s: string): bigint | undefined => {
  if (!s.includes(":") || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === "") return [];
    const out: number[] = [];
    const parts = h.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseV4(p);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(Number.parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const n = head.length + tail.length;
  if (halves.length === 2 ? n > 7 : n !== 8) return undefined;
  const all = [...head, ...new Array(8 - n).fill(0), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
};

/** An IP address of either family, or undefined. */
export const parseIP = (s: string): { family: 4 | 6; value: bigint } | undefined => {
  if (typeof s !== "string") return undefined;
  const v4 = parseV4(s);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseV6(s);
  return v6 === undefined ? undefined : { family: 6, value: v6 };
};

const bits = (family: 4 | 6) => (family === 4 ? 32 : 128);

/** `address/prefix` of either family (host bits are cleared), or undefined. */
export const parseIPNet = (s: string): IPNet | undefined => {
  if (typeof s !== "string") return undefined;
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const ip = parseIP(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(p)) return undefined;
  const prefix = Number(p);
  const width = bits(ip.family);
  if (prefix > width) return undefined;
  const host = (1n << BigInt(width - prefix)) - 1n;
  return { family: ip.family, base: ip.value & ~host, prefix };
};

/** Is `inner` a strict subset of `outer` (same family, longer prefix, inside)? */
export const strictSubnet = (outer: IPNet, inner: IPNet): boolean =>
  outer.family === inner.family &&
  inner.prefix > outer.prefix &&
  inner.base >> BigInt(bits(outer.family) - outer.prefix) === outer.base >> BigInt(bits(outer.family) - outer.prefix);

const formatV4 = (n: bigint) => [24n, 16n, 8n, 0n].map((s) => Number((n >> s) & 255n)).join(".");

const formatV6 = (n: bigint): string => {
  const g = [...Array(8)].map((_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  // the longest run of two or more zero groups becomes ::
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
};

/** The canonical text of a block: 10.0.0.0/8, 2001:db8::/64. */
export const formatIPNet = (n: IPNet): string => `${n.family === 4 ? formatV4(n.base) : formatV6(n.base)}/${n.prefix}`;
