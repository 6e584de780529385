import { types } from 'pg';
import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { createEmbeddedDriver } from './pglite-pool';
import { ReadTimeoutSubscriber } from './read-timeout.subscriber';

// int8 (ids, COUNT(*)) as numbers, as PGlite already does; every id fits in 2^53.
types.setTypeParser(types.builtins.INT8, (v: string) => Number(v));

export interface DataSourceHooks {
  /** called for errors on idle pooled connections (Cloud SQL restarts, network cuts) */
  onPoolError?: (err: Error) => void;
}

// Migration settings travel with the options object (TypeORM keeps it as DataSource#options), so
// the migrator finds MIGRATION_LOCK_TIMEOUT_MS whichever entry point built the DataSource.
const migrationLockTimeouts = new WeakMap<DataSourceOptions, number>();

/** MIGRATION_LOCK_TIMEOUT_MS of the config these options were built from, if they were. */
export function migrationLockTimeoutOf(options: DataSourceOptions): number | undefined {
  return migrationLockTimeouts.get(options);
}

/**
 * TypeORM options for the configured database: embedded PGlite by default, real Postgres
 * (URL, host or Cloud SQL socket directory) when configured. Shared by the app and ormconfig.ts.
 */
export function buildDataSourceOptions(config: AppConfig, hooks: DataSourceHooks = {}): DataSourceOptions {
  const options = optionsFor(config, hooks);
  migrationLockTimeouts.set(options, config.db.migrationLockTimeoutMs);
  return options;
}

function optionsFor(config: AppConfig, hooks: DataSourceHooks): DataSourceOptions {
  const db = config.db;
  const common = {
    type: 'postgres' as const,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: false, // our own runner, serialized by an advisory lock (database/migrator.ts)
    logging: false,
  };
  if (db.kind === 'embedded') {
    return {
      ...common,
      driver: createEmbeddedDriver({ dataDir: db.dataDir }),
      extra: { connectionTimeoutMillis: db.connectTimeoutMs },
    };
  }
  return {
    ...common,
    subscribers: [ReadTimeoutSubscriber],
    ...(db.url
      ? { url: db.url }
      : { host: db.host ?? undefined, port: db.port, database: db.database ?? undefined, username: db.user ?? undefined, password: db.password ?? undefined }),
    applicationName: 'ecoflow-backend',
    poolErrorHandler: (err: Error) => hooks.onPoolError?.(err),
    extra: {
      max: db.poolMax,
      // never pg's default of waiting forever for a connection or a pool slot
      connectionTimeoutMillis: db.connectTimeoutMs,
      // below Cloud SQL's / load balancers' idle cut-off, so we close first
      idleTimeoutMillis: db.idleTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10000,
      // request budgets; the migrator lifts both on its own connection (migrator.ts)
      statement_timeout: db.statementTimeoutMs,
      query_timeout: db.statementTimeoutMs + 5000,
      // a stuck lock must not pin a pooled connection for ever
      idle_in_transaction_session_timeout: Math.max(db.statementTimeoutMs * 2, 60000),
    },
  };
}
