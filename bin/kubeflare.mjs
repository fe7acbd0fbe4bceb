#!/usr/bin/env node
// `npm start`: the all-in-one control plane (node/main.ts), bundled when it starts
// (bin/bundle.mjs), in this one process: no TypeScript loader in front of the server.
import { setFlagsFromString } from "node:v8";
import { load } from "./bundle.mjs";

// V8 sized for memory rather than speed (issue #14, goal 5): its heap grows less ahead of
// what is live (with 100 pods: 90 MB of heap for 40 MB live by default, 43 MB with this;
// the process 200 → 153 MB resident, `npm run bench -- allinone`). Set before any of the
// server is loaded; `node --no-optimize-for-size bin/kubeflare.mjs` keeps V8's defaults.
const v8Flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
if (!v8Flags.some((a) => /^--(no-)?optimize[-_]for[-_]size\b/.test(a))) setFlagsFromString("--optimize-for-size");

await load("node/main.ts", "kubeflare");
