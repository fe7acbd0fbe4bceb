// How Kubeflare's commands run: one bundle (split into chunks: a part per large package
// or directory, and what is loaded on demand, see build and parts) that esbuild builds from the TypeScript sources, so the long-running process carries neither a TypeScript loader nor the parts
// of dockerode it never uses (ssh2 for ssh:// Docker hosts, gRPC for BuildKit sessions).
// The bundle is cached under node_modules/.cache/kubeflare by a key of the sources'
// names, sizes and modification times; a missing one is built by a short-lived child
// process (two esbuild passes, a second or two), so the command itself never loads esbuild. Native
// modules (libsql) stay outside the bundle and load from node_modules. If the bundle
// cannot be built here, the sources run through tsx instead.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCES = ["agent", "node", "workers", "shared", "package-lock.json", "bin/bundle.mjs"];

/** A key that changes whenever a source file does (name, size, mtime). */
const sourceKey = (entry) => {
  const h = createHash("sha256").update(entry);
  const walk = (rel) => {
    const p = join(root, rel);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const e of readdirSync(p).sort()) walk(join(rel, e));
    else h.update(`${rel}\0${st.size}\0${st.mtimeMs}\n`);
  };
  for (const s of SOURCES) walk(s);
  return h.digest("hex").slice(0, 16);
};

/** a module's group: its package (node_modules/<name>, the innermost) or, for our sources, its directory */
const groupOf = (path) => {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(path);
  return m ? m[1] : dirname(path);
};

/**
 * Extra entry points that cut the bundle into parts of a package or a directory each:
 * the modules through which a group of at least PART_MIN bytes is imported from outside
 * it. esbuild puts the modules that the same entry points reach into one chunk, so a
 * group becomes a chunk (or a few) of its own, and what the process imports at startup
 * comes in many files rather than one of 3 MB. That is for memory: V8 parses a module's
 * whole top level at once (some 7 bytes of parser memory per byte of source), and glibc
 * keeps what that parse freed for the process's lifetime, fragmented by what was
 * allocated meanwhile; with parts, the parses follow one another in the same, far
 * smaller, memory (`kubeflare --help`, everything loaded: one 3.2 MB chunk kept 22 MB
 * of malloc heap, in parts 5-6 MB; 90 → 76 MB resident). The parts' own entry files
 * (part-N.mjs) are written too: a dynamic import() of such a module loads its file.
 */
const PART_MIN = 65_536;
function parts(metafile) {
  const size = new Map();
  for (const o of Object.values(metafile.outputs))
    for (const [path, i] of Object.entries(o.inputs)) size.set(groupOf(path), (size.get(groupOf(path)) ?? 0) + i.bytesInOutput);
  const doors = new Set();
  for (const [path, input] of Object.entries(metafile.inputs))
    for (const i of input.imports)
      if (!i.external && i.kind !== "dynamic-import" && metafile.inputs[i.path] && groupOf(i.path) !== groupOf(path) && size.get(groupOf(i.path)) >= PART_MIN)
        doors.add(i.path);
  return Object.fromEntries([...doors].sort().map((path, n) => [`part-${n}`, join(root, path)]));
}

/**
 * The child's work: build `entry` into the directory `dir` (atomically): main.mjs and the
 * chunks it imports on demand (code splitting), so the parts a process rarely needs
 * (SPDY streams, the ingress proxy and its certificate code, metrics) are neither read
 * nor compiled until it does. Whitespace is minified (the sources' comments and
 * indentation were half the bundle, held in memory as long as the process runs);
 * names stay, so stack traces still read.
 */
async function build(entry, dir) {
  const { build } = await import("esbuild");
  const stub = join(root, "agent", "stub.cjs");
  const tmp = `${dir}.${process.pid}`;
  const options = {
    bundle: true,
    write: false,
    absWorkingDir: root,
    outdir: tmp,
    splitting: true,
    chunkNames: "chunk-[hash]",
    outExtension: { ".js": ".mjs" },
    minifyWhitespace: true,
    legalComments: "none",
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "silent",
    external: ["libsql", "esbuild"],
    alias: { ssh2: stub, "cpu-features": stub, "@grpc/grpc-js": stub, "@grpc/proto-loader": stub },
    // bundled CommonJS packages require() Node's built-ins
    banner: { js: `import { createRequire as __kfRequire } from "node:module"; const require = __kfRequire(${JSON.stringify(join(root, "package.json"))});` },
  };
  const main = { main: join(root, entry) };
  // first the module graph alone, to cut it into parts (see parts)
  const graph = await build({ ...options, entryPoints: main, metafile: true });
  const out = await build({ ...options, entryPoints: { ...main, ...parts(graph.metafile) } });
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const f of out.outputFiles) writeFileSync(f.path, f.contents);
  try {
    renameSync(tmp, dir); // atomic: commands starting side by side never read half a bundle
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, "main.mjs"))) throw e; // else another process built it first
  }
}

/** Import `entry` bundled (or through tsx when no bundle can be made) and return its module. */
export async function load(entry, name) {
  // node/db.ts finds the migrations next to the sources, not next to the bundle
  process.env.KUBEFLARE_MIGRATIONS_DIR ||= join(root, "migrations");
  // in node_modules, so that the external packages resolve from the bundle
  const dir = join(root, "node_modules", ".cache", "kubeflare", `${name}-${sourceKey(entry)}`);
  const file = join(dir, "main.mjs");
  try {
    if (!existsSync(file)) execFileSync(process.execPath, [fileURLToPath(import.meta.url), entry, dir], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    if (process.env.KUBEFLARE_DEBUG) console.error(`${name}: running the sources through tsx (${String(e.stderr ?? e.message).trim()})`);
    const { register } = await import("tsx/esm/api");
    register();
    return await import(pathToFileURL(join(root, entry)).href);
  }
  return await import(pathToFileURL(file).href);
}

// run as the child: node bin/bundle.mjs <entry> <file>
if (process.argv[1] === fileURLToPath(import.meta.url)) await build(process.argv[2], process.argv[3]);
