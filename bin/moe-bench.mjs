#!/usr/bin/env node
// The CLI runs the TypeScript sources directly through tsx, so it works right after `npm ci`
// with no build step; engine workers are started the same way (see src-main/host/worker-entry.mjs).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/cli.ts');
process.exitCode = await main(process.argv);
