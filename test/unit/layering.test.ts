import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../support/repo-root';

/**
 * The layering rules of docs/architecture.md, checked on the source (issue 13): data access lives
 * in `*.repository.ts` files (and the database infrastructure under src/database/), services take
 * typed input, and entity ids are numbers without casts.
 */
const src = join(repoRoot(), 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Lines matching `pattern`, as `path:line: text`, in the files `keep` selects. */
function offenders(pattern: RegExp, keep: (path: string) => boolean): string[] {
  const out: string[] = [];
  for (const f of files(src)) {
    const rel = relative(src, f);
    if (!keep(rel)) {
      continue;
    }
    readFileSync(f, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (pattern.test(line) && !/^\s*(\/\/|\*)/.test(line)) {
          out.push(`${rel}:${i + 1}: ${line.trim()}`);
        }
      });
  }
  return out;
}

const dataLayer = (rel: string): boolean => rel.endsWith('.repository.ts') || rel.startsWith('database/');

describe('layering (docs/architecture.md)', () => {
  it('keeps DataSource, getRepository, query builders and SQL text in repositories and src/database/', () => {
    const found = offenders(/\bDataSource\b|getRepository\(|@InjectRepository|createQueryBuilder\(|\.query\(|\b(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b .*\b(FROM|SET|VALUES|WHERE)\b/, (rel) => !dataLayer(rel));
    assert.deepEqual(found, []);
  });

  it('gives services typed input: no `body: unknown` parameter in a service', () => {
    assert.deepEqual(
      offenders(/\bbody: unknown\b/, (rel) => rel.endsWith('.service.ts')),
      [],
    );
  });

  it('needs no Number() cast on an entity id', () => {
    assert.deepEqual(
      offenders(/Number\([^)]*\.(id|zoneId|cameraId|organizationId|userId)\)/, () => true),
      [],
    );
  });
});
