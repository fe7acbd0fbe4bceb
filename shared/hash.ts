/**
 * FNV-1a, 32 bits (Go's hash/fnv New32a): the one non-cryptographic hash of the
 * house, for stable short names and seeds (event names, pod-template-hash, the
 * scheduler's tie-break seed, the OpenAPI cache-busting hash).
 */
const OFFSET_BASIS = 0x811c9dc5;
const PRIME = 0x01000193;

/**
 * FNV-1a over a string's UTF-16 code units (each unit XORed in whole, so for ASCII
 * this is FNV-1a over its bytes), or over a list of bytes. An unsigned 32-bit number.
 */
export const fnv1a = (data: string | ArrayLike<number>): number => {
  let h = OFFSET_BASIS;
  if (typeof data === "string") {
    for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data.charCodeAt(i), PRIME) >>> 0;
  } else {
    for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i], PRIME) >>> 0;
  }
  return h;
};

/** FNV-1a of a string as 8 lowercase hex digits (e.g. the suffix of an aggregated event's name). */
export const fnv1aHex = (s: string): string => fnv1a(s).toString(16).padStart(8, "0");
