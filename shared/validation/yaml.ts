import { type Document, isMap, isScalar, isSeq, parseAllDocuments } from "yaml";

/**
 * The longest YAML text (one that is not JSON) parsed on a request's path. The parser
 * runs on the event loop at well under 1 MB a second on this 2-core box (20,000 keys,
 * 230 KB: 0.1-0.5 s), so a 3 MiB YAML body would hold every other request for seconds;
 * JSON (what kubectl and the client libraries send, also as apply-patch+yaml) is parsed
 * natively and keeps the 3 MiB body limit.
 */
export const YAML_MAX_CHARS = 256 * 1024;

/**
 * The documents of a YAML stream, parsed once. The parser's own check for keys set
 * twice in a mapping compares each key with every earlier one of its mapping (40,000
 * keys in one mapping took 50 s), so it is off, and yamlError finds them in one pass.
 * Deep block nesting can still overflow the parser's stack: callers catch what it throws.
 */
export const yamlDocuments = (text: string): Document.Parsed[] => {
  const docs = parseAllDocuments(text, { uniqueKeys: false });
  return Array.isArray(docs) ? docs : [docs];
};

/** The document's first problem: the parser's first error, or a key set twice in one mapping (go-yaml's words), or undefined. */
export const yamlError = (doc: Document.Parsed, text: string): string | undefined => {
  if (doc.errors.length) return doc.errors[0].message;
  // depth-first without recursion: the parser has already built however deep a tree it managed
  const stack: unknown[] = [doc.contents];
  while (stack.length) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          const key = String(pair.key.value);
          if (seen.has(key)) return `line ${lineAt(text, pair.key.range?.[0] ?? 0)}: key ${JSON.stringify(key)} already set in map`;
          seen.add(key);
        } else stack.push(pair.key);
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return undefined;
};

const lineAt = (text: string, offset: number): number => {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
};
