#!/usr/bin/env node
// `npm run bench [-- NAME ...]`: runs every bench/<name>.bench.ts (or the named ones) in turn,
// prints their figures and writes them all to bench-results.json. Benchmarks are measurements,
// never assertions: tests stay free of timing.
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = path.join(root, 'bench');
const wanted = process.argv.slice(2);
const files = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace('.bench.ts', '')))
  .sort();
if (files.length === 0) {
  console.error(`no benchmarks matched ${wanted.join(', ') || '(any)'} in ${benchDir}`);
  process.exit(2);
}
const results = {};
for (const file of files) {
  const name = file.replace('.bench.ts', '');
  process.stderr.write(`[bench] ${name} ...\n`);
  const t0 = performance.now();
  const mod = await import(pathToFileURL(path.join(benchDir, file)).href);
  const figures = await mod.run();
  results[name] = { ...figures, benchSeconds: Number(((performance.now() - t0) / 1000).toFixed(1)) };
  console.log(`\n## ${name}`);
  for (const [k, v] of Object.entries(results[name])) console.log(`  ${k.padEnd(44)} ${v}`);
}
writeFileSync(path.join(root, 'bench-results.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log('\nwrote bench-results.json');
