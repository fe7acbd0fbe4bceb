#!/usr/bin/env node
// `npm start`: the all-in-one control plane (node/main.ts), bundled when it starts
// (bin/bundle.mjs), in this one process: no TypeScript loader in front of the server.
import { load } from "./bundle.mjs";

await load("node/main.ts", "kubeflare");
