import type { DataSource, MigrationInterface } from 'typeorm';
import { MIGRATIONS } from './migrations';

// Arbitrary fixed key: every instance of this service serializes on the same advisory lock.
const MIGRATION_LOCK_KEY = 7320401;

type MigrationClass = new () => MigrationInterface;

function versionOf(m: MigrationInterface, cls: MigrationClass): string {
  return m.name ?? cls.name;
}

async function withMigrationLock<T>(ds: DataSource, fn: (q: ReturnType<DataSource['createQueryRunner']>) => Promise<T>): Promise<T> {
  const q = ds.createQueryRunner();
  await q.connect();
  try {
    // Session-level lock on a dedicated connection: ten instances starting at once run one at a time.
    await q.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await q.query(`CREATE TABLE IF NOT EXISTS ecoflow_schema_migrations (
        version varchar(100) PRIMARY KEY,
        applied_at timestamptz NOT NULL)`);
      return await fn(q);
    } finally {
      await q.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await q.release();
  }
}

/** Applies every pending migration, each in its own transaction. Returns the versions applied. */
export async function runMigrations(ds: DataSource, migrations: MigrationClass[] = MIGRATIONS): Promise<string[]> {
  return withMigrationLock(ds, async (q) => {
    const rows = (await q.query('SELECT version FROM ecoflow_schema_migrations')) as { version: string }[];
    const done = new Set(rows.map((r) => r.version));
    const applied: string[] = [];
    for (const cls of migrations) {
      const m = new cls();
      const version = versionOf(m, cls);
      if (done.has(version)) {
        continue;
      }
      await q.startTransaction();
      try {
        await m.up(q);
        await q.query('INSERT INTO ecoflow_schema_migrations (version, applied_at) VALUES ($1, now())', [version]);
        await q.commitTransaction();
      } catch (err) {
        await q.rollbackTransaction();
        throw err;
      }
      applied.push(version);
    }
    return applied;
  });
}

/** Reverts the newest applied migration. Returns its version, or null when none is applied. */
export async function revertLastMigration(ds: DataSource, migrations: MigrationClass[] = MIGRATIONS): Promise<string | null> {
  return withMigrationLock(ds, async (q) => {
    const rows = (await q.query('SELECT version FROM ecoflow_schema_migrations ORDER BY applied_at DESC, version DESC LIMIT 1')) as { version: string }[];
    if (!rows.length) {
      return null;
    }
    const cls = migrations.find((c) => versionOf(new c(), c) === rows[0].version);
    if (!cls) {
      throw new Error(`Cannot revert ${rows[0].version}: this build does not contain it`);
    }
    await q.startTransaction();
    try {
      await new cls().down(q);
      await q.query('DELETE FROM ecoflow_schema_migrations WHERE version = $1', [rows[0].version]);
      await q.commitTransaction();
    } catch (err) {
      await q.rollbackTransaction();
      throw err;
    }
    return rows[0].version;
  });
}

/** Versions this build knows that the database has not applied (for /health/ready). */
export async function pendingMigrations(ds: DataSource, migrations: MigrationClass[] = MIGRATIONS): Promise<string[]> {
  const exists = (await ds.query(`SELECT to_regclass('ecoflow_schema_migrations') IS NOT NULL AS present`)) as { present: boolean }[];
  const done = new Set<string>();
  if (exists[0]?.present) {
    for (const r of (await ds.query('SELECT version FROM ecoflow_schema_migrations')) as { version: string }[]) {
      done.add(r.version);
    }
  }
  return migrations.map((c) => versionOf(new c(), c)).filter((v) => !done.has(v));
}
