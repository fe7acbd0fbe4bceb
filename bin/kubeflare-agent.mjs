#!/usr/bin/env node
// The kubeflare-agent command: agent/main.ts, bundled when it starts (bin/bundle.mjs).
import { load } from "./bundle.mjs";

const { main } = await load("agent/main.ts", "agent");
const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);
