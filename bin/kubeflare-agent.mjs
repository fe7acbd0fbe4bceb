#!/usr/bin/env node
// The kubeflare-agent command. It runs as one bundle that esbuild builds from the
// TypeScript sources when it starts (well under a second), so the long-running agent
// carries neither a TypeScript loader nor the parts of dockerode it never uses (ssh2
// for ssh:// Docker hosts, gRPC for BuildKit sessions): on a small box that is about
// half of its memory. If esbuild cannot run here, the sources run through tsx instead.
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

async function bundle() {
  const { build } = await import("esbuild");
  const stub = join(root, "agent", "stub.cjs");
  const out = await build({
    entryPoints: [join(root, "agent", "main.ts")],
    bundle: true,
    write: false,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "silent",
    alias: { ssh2: stub, "cpu-features": stub, "@grpc/grpc-js": stub, "@grpc/proto-loader": stub },
    // bundled CommonJS packages require() Node's built-ins
    banner: { js: `import { createRequire as __kfRequire } from "node:module"; const require = __kfRequire(${JSON.stringify(join(root, "package.json"))});` },
  });
  const code = out.outputFiles[0].contents;
  const name = `agent-${createHash("sha256").update(code).digest("hex").slice(0, 16)}.mjs`;
  for (const dir of [join(root, "node_modules", ".cache", "kubeflare-agent"), join(tmpdir(), "kubeflare-agent")]) {
    try {
      mkdirSync(dir, { recursive: true });
      const tmp = join(dir, `.${name}.${process.pid}`);
      writeFileSync(tmp, code);
      renameSync(tmp, join(dir, name)); // atomic: agents starting side by side never read half a file
      return join(dir, name);
    } catch {
      // not writable: try the next place
    }
  }
  throw new Error("no writable cache directory for the agent bundle");
}

let main;
try {
  ({ main } = await import(pathToFileURL(await bundle()).href));
} catch (e) {
  if (process.env.KUBEFLARE_AGENT_DEBUG) console.error(`kubeflare-agent: running the sources through tsx (${e.message})`);
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../agent/main.ts"));
}
const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);
