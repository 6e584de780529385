import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/common/logger';
import { NestPinoLogger } from '../../src/common/nest-logger';

/** The raw lines a logger writes: JSON.parse would hide a key written twice. */
function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, stream };
}

describe('NestPinoLogger', () => {
  it('writes one "context" key per line (Nest\'s own context goes to nest_context)', () => {
    const { lines, stream } = capture();
    const root = createLogger('trace', stream);
    // exactly as app.factory.ts wires it
    const nest = new NestPinoLogger(root.child({ context: 'Nest' }));
    nest.log('Mapped {/api/status/, GET} route', 'RouterExplorer');
    nest.warn('deprecated option', 'TypeOrmModule');
    nest.error('Unable to connect to the database', 'Error: ECONNREFUSED\n    at x', 'TypeOrmModule');
    nest.debug('debug line', 'InstanceLoader');
    nest.verbose('verbose line');
    assert.equal(lines.length, 5);
    for (const raw of lines) {
      assert.equal((raw.match(/"context":/g) ?? []).length, 1, raw);
      assert.equal((JSON.parse(raw) as { context: string }).context, 'Nest');
    }
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      parsed.map((p) => [p.severity, p.nest_context, p.message]),
      [
        ['DEBUG', 'RouterExplorer', 'Mapped {/api/status/, GET} route'],
        ['WARNING', 'TypeOrmModule', 'deprecated option'],
        ['ERROR', 'TypeOrmModule', 'Unable to connect to the database'],
        ['DEBUG', 'InstanceLoader', 'debug line'],
        ['DEBUG', undefined, 'verbose line'],
      ],
    );
    assert.equal(parsed[2].stack, 'Error: ECONNREFUSED\n    at x');
  });
});
