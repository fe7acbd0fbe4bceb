/**
 * `$(VAR_NAME)` references in env values, command and args, with kubelet's rules
 * (third_party/forked/golang/expansion): `$(NAME)` becomes NAME's value when the
 * mapping knows it and stays as written when it does not; `$$` is a literal `$` (so
 * `$$(NAME)` is a literal `$(NAME)`); a `$` before anything else, an unterminated
 * `$(` and shell syntax (`$NAME`, `${NAME}`) pass through. No nesting, no recursion:
 * a value that holds a reference is not expanded again.
 */

/** The value of a name, or undefined when none of the contexts (searched in order) has it. */
export type Mapping = (name: string) => string | undefined;

/** A mapping over several contexts, the first that has the name winning (kubelet's MappingFuncFor). */
export const mappingFor =
  (...contexts: ReadonlyMap<string, string>[]): Mapping =>
  (name) => {
    for (const c of contexts) {
      const v = c.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  };

/** `input` with its references replaced. */
export const expand = (input: string, mapping: Mapping): string => {
  let out = "";
  let from = 0;
  for (let i = 0; i < input.length; i++) {
    // a `$` at the very end is kept as it is
    if (input[i] !== "$" || i + 1 === input.length) continue;
    out += input.slice(from, i);
    const next = input[i + 1];
    if (next === "$") {
      // an escaped operator
      out += "$";
      i += 1;
    } else if (next === "(") {
      const close = input.indexOf(")", i + 2);
      if (close < 0) {
        // incomplete: keep `$(` and go on after it
        out += "$(";
        i += 1;
      } else {
        const name = input.slice(i + 2, close);
        out += mapping(name) ?? `$(${name})`;
        i = close;
      }
    } else {
      // not an expression: the operator and the character after it (a whole code point)
      const cp = String.fromCodePoint(input.codePointAt(i + 1)!);
      out += `$${cp}`;
      i += cp.length;
    }
    from = i + 1;
  }
  return out + input.slice(from);
};

/**
 * A container's command and args with `$(NAME)` expanded against its final
 * environment (`NAME=value` lines, the later line of a name winning), as kubelet's
 * ExpandContainerCommandAndArgs does; undefined stays undefined (the image's).
 */
export const expandCommandAndArgs = (c: { command?: string[]; args?: string[] }, env: string[]): { command?: string[]; args?: string[] } => {
  const vars = new Map<string, string>();
  for (const line of env) {
    const eq = line.indexOf("=");
    if (eq > 0) vars.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const mapping = mappingFor(vars);
  const each = (xs?: string[]) => (Array.isArray(xs) ? xs.map((x) => expand(String(x), mapping)) : xs);
  return { command: each(c.command), args: each(c.args) };
};
