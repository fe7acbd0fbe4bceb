/** Bundle the Worker (workers/index.ts) into one ES module for Miniflare (tests) or inspection. */
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

export async function buildWorker(outfile = `${root}/dist/worker.js`): Promise<string> {
  await build({
    entryPoints: [`${root}/workers/index.ts`],
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
