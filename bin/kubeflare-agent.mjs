#!/usr/bin/env node
// The kubeflare-agent command (TypeScript sources run through tsx's loader).
import { register } from "tsx/esm/api";

register();
const { main } = await import("../agent/main.ts");
const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);
