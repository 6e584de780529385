import type { DataSource, MigrationInterface } from 'typeorm';
import { migrationLockTimeoutOf } from './data-source-options';
import { MIGRATIONS } from './migrations';

// Arbitrary fixed key: every instance of this service serializes on the same advisory lock.
const MIGRATION_LOCK_KEY = 7320401;
// MIGRATION_LOCK_TIMEOUT_MS's default, for DataSources not built by buildDataSourceOptions
const DEFAULT_LOCK_TIMEOUT_MS = 10000;

type MigrationClass = new () => MigrationInterface;

function versionOf(m: MigrationInterface, cls: MigrationClass): string {
  return m.name ?? cls.name;
}

/** Settings of a migration run; unset ones come from the DataSource's config (MIGRATION_LOCK_TIMEOUT_MS). */
export interface MigrationRunOptions {
  /** how long one DDL statement may wait for a table lock once the advisory lock is held */
  lockTimeoutMs?: number;
}

type Runner = ReturnType<DataSource['createQueryRunner']>;

interface PgClientLike {
  connectionParameters?: { query_timeout?: number };
  end?: () => Promise<void>;
}

function clientOf(q: Runner): PgClientLike | undefined {
  // the checked-out pg client (protected in TypeORM's typings); the embedded driver's has neither field
  return (q as unknown as { databaseConnection?: PgClientLike }).databaseConnection;
}

/**
 * pg's client-side `query_timeout` (statement timeout + 5 s) is read per query from the client's
 * parameters: switch it off on this connection while it migrates, since an index build or the
 * wait for another instance's migration is no network partition.
 */
function suspendReadTimeout(q: Runner): () => void {
  const params = clientOf(q)?.connectionParameters;
  if (!params) {
    return () => undefined;
  }
  const saved = params.query_timeout;
  params.query_timeout = undefined;
  return () => {
    params.query_timeout = saved;
  };
}

function isLockTimeout(err: unknown): boolean {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  return (e?.driverError ?? e)?.code === '55P03';
}

async function withMigrationLock<T>(ds: DataSource, opts: MigrationRunOptions, fn: (q: Runner, lockTimeoutMs: number) => Promise<T>): Promise<T> {
  const lockTimeoutMs = Math.max(1, Math.trunc(opts.lockTimeoutMs ?? migrationLockTimeoutOf(ds.options) ?? DEFAULT_LOCK_TIMEOUT_MS));
  const q = ds.createQueryRunner();
  await q.connect();
  const restoreReadTimeout = suspendReadTimeout(q);
  let clean = false;
  try {
    // DB_STATEMENT_TIMEOUT_MS is a request budget: a migration (an index on a large adopted table)
    // and the wait below for another instance's migration may take longer. lock_timeout is 0 while
    // waiting, since pg_advisory_lock is a heavyweight lock that lock_timeout would cut.
    await q.query('SET statement_timeout = 0');
    await q.query('SET lock_timeout = 0');
    // Session-level lock on a dedicated connection: ten instances starting at once run one at a time.
    await q.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      // DDL queued behind a long transaction would queue every request behind itself: give up instead
      await q.query(`SET lock_timeout = ${lockTimeoutMs}`);
      await q.query(`CREATE TABLE IF NOT EXISTS ecoflow_schema_migrations (
        version varchar(100) PRIMARY KEY,
        applied_at timestamptz NOT NULL)`);
      return await fn(q, lockTimeoutMs);
    } finally {
      await q.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    try {
      // back to the connection's defaults (the pool's statement_timeout) before it serves requests
      await q.query('RESET statement_timeout');
      await q.query('RESET lock_timeout');
      clean = true;
    } catch {
      // a connection we cannot reset must not go back to the pool
    }
    restoreReadTimeout();
    if (!clean) {
      await clientOf(q)?.end?.().catch(() => undefined);
    }
    await q.release();
  }
}

/** Runs one migration step; a lock_timeout becomes an error that says what to do. */
async function step(q: Runner, version: string, lockTimeoutMs: number, body: () => Promise<void>): Promise<void> {
  await q.startTransaction();
  try {
    await body();
    await q.commitTransaction();
  } catch (err) {
    await q.rollbackTransaction();
    if (isLockTimeout(err)) {
      throw new Error(
        `Migration ${version} stopped after waiting ${lockTimeoutMs} ms (MIGRATION_LOCK_TIMEOUT_MS) for a lock on a table it changes; ` +
          'nothing of it was applied. Another session holds that lock (a long transaction or query): let it finish, or raise MIGRATION_LOCK_TIMEOUT_MS, and migrate again.',
        { cause: err },
      );
    }
    throw err;
  }
}

/** Applies every pending migration, each in its own transaction. Returns the versions applied. */
export async function runMigrations(ds: DataSource, migrations: MigrationClass[] = MIGRATIONS, opts: MigrationRunOptions = {}): Promise<string[]> {
  return withMigrationLock(ds, opts, async (q, lockTimeoutMs) => {
    const rows = (await q.query('SELECT version FROM ecoflow_schema_migrations')) as { version: string }[];
    const done = new Set(rows.map((r) => r.version));
    const applied: string[] = [];
    for (const cls of migrations) {
      const m = new cls();
      const version = versionOf(m, cls);
      if (done.has(version)) {
        continue;
      }
      await step(q, version, lockTimeoutMs, async () => {
        await m.up(q);
        await q.query('INSERT INTO ecoflow_schema_migrations (version, applied_at) VALUES ($1, now())', [version]);
      });
      applied.push(version);
    }
    return applied;
  });
}

/** Reverts the newest applied migration. Returns its version, or null when none is applied. */
export async function revertLastMigration(ds: DataSource, migrations: MigrationClass[] = MIGRATIONS, opts: MigrationRunOptions = {}): Promise<string | null> {
  return withMigrationLock(ds, opts, async (q, lockTimeoutMs) => {
    const rows = (await q.query('SELECT version FROM ecoflow_schema_migrations ORDER BY applied_at DESC, version DESC LIMIT 1')) as { version: string }[];
    if (!rows.length) {
      return null;
    }
    const version = rows[0].version;
    const cls = migrations.find((c) => versionOf(new c(), c) === version);
    if (!cls) {
      throw new Error(`Cannot revert ${version}: this build does not contain it`);
    }
    await step(q, version, lockTimeoutMs, async () => {
      await new cls().down(q);
      await q.query('DELETE FROM ecoflow_schema_migrations WHERE version = $1', [version]);
    });
    return version;
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
