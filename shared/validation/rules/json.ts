/** Guards for reading objects of unknown shape: the rules run on whatever was sent. */

export type Obj = Record<string, any>;

export const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
/** The value when it is an object, else {}. */
export const obj = (v: unknown): Obj => (isObj(v) ? v : {});
/** The value when it is an array, else []. */
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** The value when it is a string, else "" (Go's zero value). */
export const str = (v: unknown): string => (typeof v === "string" ? v : "");
/** The value when it is a number, else 0 (Go's zero value). */
export const num = (v: unknown): number => (typeof v === "number" ? v : 0);
export const isNum = (v: unknown): v is number => typeof v === "number";
export const isStr = (v: unknown): v is string => typeof v === "string";
/** The string entries of a map (values of other types are the type check's business). */
export const stringEntries = (v: unknown): [string, string][] => Object.entries(obj(v)).filter((e): e is [string, string] => typeof e[1] === "string");
