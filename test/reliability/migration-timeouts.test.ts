import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Client } from 'pg';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { MIGRATIONS } from '../../src/database/migrations';
import { pendingMigrations, runMigrations } from '../../src/database/migrator';
import { createTestDatabase, execScript, openDataSource, REAL_POSTGRES, TestDatabase } from '../support/database';

const FIXTURE = readFileSync(join(process.cwd(), 'test/fixtures/django-schema.sql'), 'utf8');
const VERSION = 'AdoptOrCreateSchema1732300000000';
// every migration: a fresh database applies them all
const ALL = MIGRATIONS.map((m) => new m().name);
const MIGRATION_LOCK_KEY = 7320401; // src/database/migrator.ts
const NO_PG = 'needs real PostgreSQL (TEST_DATABASE_URL): PGlite enforces no statement_timeout and, being one session, cannot hold a lock against another client';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves to the outcome, or to 'still waiting' after `ms`: an old migrator that waits for ever fails fast. */
async function within<T>(ms: number, p: Promise<T>): Promise<{ value?: T; error?: Error; timedOut?: true }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ timedOut: true }>((r) => {
    timer = setTimeout(() => r({ timedOut: true }), ms);
  });
  try {
    return await Promise.race([p.then((value) => ({ value }), (error: Error) => ({ error })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) {
    await c().catch(() => undefined);
  }
});

async function fresh(env: Record<string, string>): Promise<{ db: TestDatabase; ds: DataSource; admin: Client | null }> {
  const db = await createTestDatabase();
  // one pooled connection, so the migration's connection is the one later queries get back
  const ds = await openDataSource(db, { DB_POOL_MAX: '1', DB_CONNECT_TIMEOUT_MS: '120000', ...env });
  // a second session without the service's timeouts: seeds data and holds locks
  const admin = db.url ? new Client({ connectionString: db.url }) : null;
  await admin?.connect();
  cleanups.push(async () => {
    await admin?.end();
    await ds.destroy();
    await db.drop();
  });
  return { db, ds, admin };
}

async function setting(ds: DataSource, name: 'statement_timeout' | 'lock_timeout'): Promise<string> {
  const rows = (await ds.query(`SELECT current_setting('${name}') AS v`)) as { v: string }[];
  return rows[0].v;
}

/** pg's client-side read timeout of the pooled connection (query_timeout), or undefined on the embedded driver. */
async function readTimeout(ds: DataSource): Promise<number | undefined> {
  const q = ds.createQueryRunner();
  try {
    await q.connect();
    const client = (q as unknown as { databaseConnection?: { connectionParameters?: { query_timeout?: number } } }).databaseConnection;
    return client?.connectionParameters?.query_timeout;
  } finally {
    await q.release();
  }
}

describe('migrations are not bound by the request statement timeout', () => {
  it('leave the session settings as they were (both modes)', async () => {
    const { ds } = await fresh({ DB_STATEMENT_TIMEOUT_MS: '200' });
    const before = [await setting(ds, 'statement_timeout'), await setting(ds, 'lock_timeout')];
    assert.deepEqual(await runMigrations(ds), ALL);
    assert.deepEqual([await setting(ds, 'statement_timeout'), await setting(ds, 'lock_timeout')], before);
  });

  describe('on PostgreSQL', { skip: REAL_POSTGRES ? false : NO_PG }, () => {
    it('a migration step slower than DB_STATEMENT_TIMEOUT_MS completes (index build on a large adopted carbon table)', async () => {
      const { ds, admin } = await fresh({ DB_STATEMENT_TIMEOUT_MS: '100' });
      await admin!.query(FIXTURE);
      // scaled-down 20 M-row table: building lims_carbonlog_zone_ts_idx on it takes well over 100 ms
      await admin!.query(`INSERT INTO lims_carbonlog (saved_amount, "timestamp", zone_id)
        SELECT random(), now() - g * interval '1 second', (SELECT min(id) FROM lims_zone) FROM generate_series(1, 400000) g`);
      await admin!.query('ANALYZE lims_carbonlog');
      const t0 = Date.now();
      const out = await within(60000, runMigrations(ds));
      assert.equal(out.error, undefined, `migration failed: ${out.error?.message}`);
      assert.deepEqual(out.value, ALL);
      assert.ok(Date.now() - t0 > 100, 'the migration took longer than the statement timeout it escaped');
      const idx = (await ds.query(`SELECT 1 FROM pg_indexes WHERE indexname = 'lims_carbonlog_zone_ts_idx'`)) as unknown[];
      assert.equal(idx.length, 1);
      // the pooled connection serves requests again under their own budget
      assert.equal(await setting(ds, 'statement_timeout'), '100ms');
      assert.equal(await setting(ds, 'lock_timeout'), '0');
      assert.equal(await readTimeout(ds), 5100);
      // a request-path statement is still cut at 100 ms
      await assert.rejects(ds.query('SELECT pg_sleep(1)'), /statement timeout/);
    });

    it('a slow custom step (pg_sleep) outlasts both the statement timeout and the client read timeout', async () => {
      const { ds } = await fresh({ DB_STATEMENT_TIMEOUT_MS: '100' });
      class Slow1 implements MigrationInterface {
        name = 'Slow1';
        async up(q: QueryRunner): Promise<void> {
          await q.query('SELECT pg_sleep(5.4)'); // > 100 ms statement_timeout and > 5.1 s query_timeout
        }
        async down(): Promise<void> {}
      }
      const out = await within(60000, runMigrations(ds, [Slow1]));
      assert.equal(out.error, undefined, `migration failed: ${out.error?.message}`);
      assert.deepEqual(out.value, ['Slow1']);
      assert.equal(await readTimeout(ds), 5100, 'the read timeout is back on the pooled connection');
    });

    it('an instance waiting on the advisory lock longer than the statement, read and lock timeouts migrates once it is released', async () => {
      // a low lock_timeout too: it bounds DDL, not the wait for the advisory lock
      const { ds, admin } = await fresh({ DB_STATEMENT_TIMEOUT_MS: '100', MIGRATION_LOCK_TIMEOUT_MS: '300' });
      await admin!.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]); // another instance, migrating
      let settled = false;
      const run = runMigrations(ds).finally(() => {
        settled = true;
      });
      const early = await within(5600, run); // past 100 ms and past the 5.1 s read timeout
      assert.ok(early.timedOut, `still waiting while the lock is held, got ${early.error?.message ?? JSON.stringify(early.value)}`);
      assert.equal(settled, false);
      await admin!.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      const out = await within(30000, run);
      assert.equal(out.error, undefined, `migration failed: ${out.error?.message}`);
      assert.deepEqual(out.value, ALL);
      assert.equal(await setting(ds, 'statement_timeout'), '100ms');
    });

    it('DDL waiting behind a held table lock gives up after MIGRATION_LOCK_TIMEOUT_MS with a clear error, applying nothing', async () => {
      const { ds, admin } = await fresh({ MIGRATION_LOCK_TIMEOUT_MS: '300' });
      await execScript(ds, FIXTURE);
      // a long report holding lims_alert: the migration's ALTER TABLE needs ACCESS EXCLUSIVE on it
      await admin!.query('BEGIN');
      await admin!.query('LOCK TABLE lims_alert IN ACCESS SHARE MODE');
      const t0 = Date.now();
      const out = await within(8000, runMigrations(ds));
      const took = Date.now() - t0;
      await admin!.query('ROLLBACK');
      assert.ok(!out.timedOut, 'the migration gave up instead of queueing behind the lock');
      assert.match(out.error?.message ?? '', new RegExp(`Migration ${VERSION} stopped after waiting 300 ms \\(MIGRATION_LOCK_TIMEOUT_MS\\) for a lock`));
      assert.match(out.error?.message ?? '', /nothing of it was applied/);
      assert.ok(took >= 300 && took < 8000, `gave up after ${took} ms`);
      assert.deepEqual(await pendingMigrations(ds), ALL);
      const cols = (await ds.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'lims_alert' AND column_name = 'zone_id'`)) as unknown[];
      assert.equal(cols.length, 0, 'rolled back');
      // the advisory lock was released and the session reset: the next run succeeds
      assert.equal(await setting(ds, 'lock_timeout'), '0');
      await sleep(10);
      assert.deepEqual(await runMigrations(ds), ALL);
    });
  });
});
