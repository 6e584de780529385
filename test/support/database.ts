import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config';
import { buildDataSourceOptions } from '../../src/database/data-source-options';

/**
 * Test databases. With TEST_DATABASE_URL (CI's second pass, e.g. postgres://postgres@127.0.0.1:5432/test)
 * every call creates a fresh, uniquely named PostgreSQL database and drops it afterwards;
 * without it, every call gets its own in-memory PGlite. Either way tests never share rows.
 */
export const REAL_POSTGRES = Boolean(process.env.TEST_DATABASE_URL);
export const REAL_REDIS_URL = process.env.TEST_REDIS_URL || null;

export interface TestDatabase {
  /** env variables that point the service at this database */
  env: Record<string, string>;
  /** the database URL when it is a real server, else null */
  url: string | null;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) {
    return { env: { EMBEDDED_DB_DIR: 'memory' }, url: null, drop: async () => undefined };
  }
  const name = `ecoflow_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: base, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(base);
  u.pathname = `/${name}`;
  const url = u.toString();
  return {
    env: { DATABASE_URL: url },
    url,
    drop: async () => {
      const c = new Client({ connectionString: base, connectionTimeoutMillis: 5000 });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A DataSource on a test database, with the service's own options, not yet migrated. */
export async function openDataSource(db: TestDatabase, extraEnv: Record<string, string> = {}): Promise<DataSource> {
  const config = loadConfig({ NODE_ENV: 'test', ...db.env, ...extraEnv });
  return new DataSource(buildDataSourceOptions(config)).initialize();
}

/** Runs a whole SQL script (several statements) through one connection. */
export async function execScript(ds: DataSource, sql: string): Promise<void> {
  const q = ds.createQueryRunner();
  await q.connect();
  try {
    await q.query(sql);
  } finally {
    await q.release();
  }
}
