#!/usr/bin/env node
// Runs the TypeScript CLI (src/cli/ddpsim.ts) in this very process, through tsx's loader: a signal to this
// PID reaches the CLI itself, which stops and takes its harness processes with it (no child to forward to).
import { register } from "tsx/esm/api";

register();
const { cli } = await import("../src/cli/ddpsim.ts");
await cli(process.argv.slice(2));
