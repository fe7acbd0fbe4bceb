/**
 * Limits on decoded request bodies, checked before anything recursive touches them.
 *
 *  - Nesting depth. kube-apiserver refuses JSON nested deeper than 10000 levels (Go's
 *    encoding/json and apimachinery's util/json: "exceeded max depth of 10000"). In
 *    JavaScript, V8's own JSON.stringify overflows the stack a few thousand levels
 *    down, and every recursive walk of an object (cloning, validation, patches) would
 *    too, so Kubeflare's limit is MAX_DEPTH levels: far deeper than any real object
 *    (a Deployment's managedFields go about 15 deep), and safe for every walk.
 *  - Numbers. JSON.parse turns a literal such as 1e999 into Infinity, and YAML's .inf
 *    and .nan are Infinity and NaN; JSON.stringify would store them as null. Go's
 *    decoders refuse such values (strconv.ParseFloat: value out of range; JSON has no
 *    Inf or NaN), and so does Kubeflare: a value never turns into null.
 *
 * Every function here is iterative and linear in its input.
 */

/** The deepest nesting of objects and arrays a body may have. */
export const MAX_DEPTH = 1000;

/** What a JSON text scan found wrong, if anything. */
export interface JsonTextProblem {
  kind: "depth" | "number";
  /** the offending number literal (kind "number") */
  literal?: string;
  /** character offset */
  offset: number;
}

const isNumberChar = (c: number) => (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || c === 69 || c === 101; // 0-9 + - . E e

/**
 * How deep a YAML text's flow collections (`[ ]`, `{ }`) may nest before it is parsed.
 * The YAML parser recurses per level and overflows the stack at about 800 levels; a
 * stack overflow that lands inside V8's regular-expression compiler is a fatal error of
 * the whole process, not a RangeError. So a text is measured first, counting every
 * bracket (quotes and comments are not told apart: a bracket in a string only makes the
 * measure higher, never lower) and never below zero.
 */
export const YAML_MAX_FLOW_DEPTH = 512;

/** Whether `text` opens more than `max` brackets that are not yet closed at some point (see YAML_MAX_FLOW_DEPTH). */
export const flowDepthOver = (text: string, max = YAML_MAX_FLOW_DEPTH): boolean => {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 91 || c === 123) {
      if (++depth > max) return true;
    } else if ((c === 93 || c === 125) && depth > 0) depth--;
  }
  return false;
};

/**
 * One pass over a JSON text, before it is parsed: nesting deeper than `maxDepth`, or a
 * number literal that is not a finite double. Strings are skipped (with their escapes);
 * syntax errors are left to JSON.parse.
 */
export const scanJsonText = (text: string, maxDepth = MAX_DEPTH): JsonTextProblem | undefined => {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // a string: skip to its closing quote
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
    } else if (c === 123 || c === 91) {
      if (++depth > maxDepth) return { kind: "depth", offset: i };
    } else if (c === 125 || c === 93) {
      depth--;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      const start = i;
      let exp = false;
      while (i + 1 < n && isNumberChar(text.charCodeAt(i + 1))) {
        i++;
        const d = text.charCodeAt(i);
        if (d === 69 || d === 101) exp = true;
      }
      // only a literal with an exponent, or longer than any finite double's digits, can overflow
      if (exp || i - start > 300) {
        const literal = text.slice(start, i + 1);
        const v = Number(literal);
        if (!Number.isFinite(v) && !Number.isNaN(v)) return { kind: "number", literal, offset: start };
      }
    }
  }
  return undefined;
};

/** What a walk of a decoded value found wrong: too deep, or a number that is not finite. */
export interface ValueProblem {
  kind: "depth" | "number";
  /** where, as keys and indices */
  path: PropertyKey[];
  /** the number (kind "number") */
  value?: number;
}

interface Frame {
  value: unknown;
  depth: number;
  parent?: Frame;
  key?: PropertyKey;
}

const pathOf = (f: Frame): PropertyKey[] => {
  const out: PropertyKey[] = [];
  for (let x: Frame | undefined = f; x?.parent; x = x.parent) out.push(x.key!);
  return out.reverse();
};

/**
 * Walk a decoded value (iteratively): nesting deeper than `maxDepth`, or a number that
 * is not finite (Infinity, NaN). The first problem in document order, with its path.
 */
export const checkValue = (v: unknown, maxDepth = MAX_DEPTH): ValueProblem | undefined => {
  const stack: Frame[] = [{ value: v, depth: 0 }];
  while (stack.length) {
    const f = stack.pop()!;
    const x = f.value;
    if (typeof x === "number") {
      if (!Number.isFinite(x)) return { kind: "number", path: pathOf(f), value: x };
    } else if (x !== null && typeof x === "object") {
      const depth = f.depth + 1;
      if (depth > maxDepth) return { kind: "depth", path: pathOf(f) };
      if (Array.isArray(x)) {
        for (let i = x.length - 1; i >= 0; i--) stack.push({ value: x[i], depth, parent: f, key: i });
      } else {
        const keys = Object.keys(x);
        for (let i = keys.length - 1; i >= 0; i--) stack.push({ value: (x as Record<string, unknown>)[keys[i]], depth, parent: f, key: keys[i] });
      }
    }
  }
  return undefined;
};

/** How Go prints a float that JSON cannot carry: +Inf, -Inf, NaN. */
export const goFloat = (v: number): string => (Number.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
