#!/usr/bin/env node
// Runs the compiled test files (build/test/**/*.test.js) with Node's test runner.
// Usage: node scripts/run-tests.mjs [substring …]   e.g. `npm test -- migrations`
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// BUILD_DIR lets several people compile and test side by side without sharing build/
const root = join(process.env.BUILD_DIR ?? 'build', 'test');
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
};
walk(root);
const filters = process.argv.slice(2);
// the long reliability files first: two at a time, the short ones then fill in around them
// instead of one long file running alone at the end
const rank = (f) => (f.includes(`${join('test', 'reliability')}`) ? 0 : 1);
const selected = files
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
if (selected.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const args = ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', '--test-force-exit', ...selected];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } });
process.exit(r.status ?? 1);
