/** Bundle the Worker (workers/index.ts, or another entry such as the bench's metered one) into one ES module for Miniflare or inspection. */
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

export async function buildWorker(outfile = `${root}/dist/worker.js`, entry = `${root}/workers/index.ts`): Promise<string> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    logLevel: "warning",
    minify: false,
    sourcemap: false,
  });
  return outfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await buildWorker(process.argv[2]);
  console.log(`built ${out}`);
}
