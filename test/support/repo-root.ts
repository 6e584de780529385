import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository's root (where tsconfig.build.json is), from wherever the compiled test runs. */
export function repoRoot(): string {
  let dir = process.cwd();
  while (!existsSync(join(dir, 'tsconfig.build.json'))) {
    const up = dirname(dir);
    assert.notEqual(up, dir, 'run the tests from the repository');
    dir = up;
  }
  return dir;
}
