import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';

/**
 * A `pg`-compatible driver module for TypeORM backed by one embedded PGlite database.
 *
 * PGlite is a single session. typeorm-pglite hands that one session to every TypeORM
 * "connection" at once, so two concurrent transactions would interleave their statements
 * (one request's ROLLBACK undoing another's writes). This pool instead lends the session
 * to one query runner at a time, like a pg pool of size 1, and waits at most
 * `connectionTimeoutMillis` for it. See docs/decisions/0001-embedded-database.md.
 *
 * `@electric-sql/pglite` is a development dependency, loaded only when the embedded database is
 * opened: production refuses the embedded database, and its 27 MB stay out of the image
 * (`npm ci --omit=dev`).
 */
export interface EmbeddedDriverOptions {
  /** directory for the data files; null keeps the database in memory (tests) */
  dataDir: string | null;
}

async function loadPGlite(): Promise<typeof PGlite> {
  try {
    return (await import('@electric-sql/pglite')).PGlite;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'MODULE_NOT_FOUND') {
      throw new Error('the embedded database needs @electric-sql/pglite, a development dependency: install with `npm ci` (without --omit=dev), or set DATABASE_URL');
    }
    throw err;
  }
}

type QueryCallback = (err: Error | null, result?: unknown) => void;

interface PgLikeResult {
  command: string;
  rows: unknown[];
  rowCount: number;
  fields: unknown[];
}

/** The driver module TypeORM loads, plus LISTEN for the event signal (events/event-signal.ts). */
export interface EmbeddedDriver {
  Pool: new (config: { connectionTimeoutMillis?: number }) => EventEmitter;
  /** LISTEN on the session, between transactions; resolves to the unlisten function */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
}

export function isEmbeddedDriver(driver: unknown): driver is EmbeddedDriver {
  return typeof (driver as { listen?: unknown } | null)?.listen === 'function' && typeof (driver as { Pool?: unknown }).Pool === 'function';
}

/**
 * An in-memory database starts from a copy of a freshly initialized, empty cluster, cached in the
 * temp directory per PGlite version: loading it takes ~1.3 s where initdb takes ~3 s, which the
 * test suite (a fresh database per app) pays hundreds of times. Any failure falls back to initdb.
 */
async function createInMemory(PGliteClass: typeof PGlite): Promise<PGlite> {
  const version = pgliteVersion();
  const file = join(tmpdir(), `ecoflow-pglite-empty-${version}.tar`);
  if (version !== 'unknown') {
    try {
      return await PGliteClass.create({ loadDataDir: new Blob([readFileSync(file)]) });
    } catch {
      // not cached yet (or unreadable): initialize and cache below
    }
  }
  const db = await PGliteClass.create({});
  if (version !== 'unknown') {
    try {
      const dump = Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer());
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, dump);
      renameSync(tmp, file); // atomic: a concurrent reader sees the whole file or none
    } catch {
      // no cache this time; the database itself is fine
    }
  }
  return db;
}

/** The installed PGlite's version (its package.json is not an exported subpath), or 'unknown'. */
function pgliteVersion(): string {
  try {
    let dir = dirname(require.resolve('@electric-sql/pglite'));
    for (let i = 0; i < 4; i++, dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === '@electric-sql/pglite' && pkg.version) {
          return pkg.version;
        }
      } catch {
        // not here: one level up
      }
    }
  } catch {
    // not resolvable: no cache
  }
  return 'unknown';
}

export function createEmbeddedDriver(opts: EmbeddedDriverOptions): EmbeddedDriver {
  let db: Promise<PGlite> | null = null;
  const open = (): Promise<PGlite> => {
    if (!db) {
      if (opts.dataDir) {
        mkdirSync(opts.dataDir, { recursive: true });
      }
      const dataDir = opts.dataDir;
      db = loadPGlite().then((PGliteClass) => (dataDir ? PGliteClass.create({ dataDir }) : createInMemory(PGliteClass)));
    }
    return db;
  };

  const run = async (sql: string, params?: unknown[]): Promise<PgLikeResult> => {
    const pg = await open();
    const command = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
    if (params && params.length > 0) {
      const r = await pg.query(sql, params);
      return { command, rows: r.rows, rowCount: r.affectedRows ?? r.rows.length, fields: r.fields };
    }
    // exec runs multi-statement strings; TypeORM wants the last statement's result
    const all = await pg.exec(sql);
    const last = all[all.length - 1];
    return { command, rows: last?.rows ?? [], rowCount: last?.affectedRows ?? last?.rows.length ?? 0, fields: last?.fields ?? [] };
  };

  class Client extends EventEmitter {
    query(sql: string | { text: string; values?: unknown[] }, params?: unknown[] | QueryCallback, cb?: QueryCallback): Promise<PgLikeResult> {
      const text = typeof sql === 'string' ? sql : sql.text;
      const values = typeof params === 'function' ? undefined : (params ?? (typeof sql === 'string' ? undefined : sql.values));
      const callback = typeof params === 'function' ? params : cb;
      const p = run(text, values);
      if (callback) {
        p.then((r) => callback(null, r), (e: Error) => callback(e));
      }
      return p;
    }
  }

  let current: Pool | null = null;

  class Pool extends EventEmitter {
    private busy = false;
    private readonly waiters: Array<{ grant: () => void; timer?: NodeJS.Timeout }> = [];
    private readonly client = new Client();
    private readonly timeoutMs: number;

    constructor(config: { connectionTimeoutMillis?: number } = {}) {
      super();
      this.timeoutMs = config.connectionTimeoutMillis ?? 10000;
    }

    get totalCount(): number {
      return 1;
    }
    get idleCount(): number {
      return this.busy ? 0 : 1;
    }
    get waitingCount(): number {
      return this.waiters.length;
    }

    /** @internal the session between two transactions (a LISTEN inside one would follow its fate) */
    acquire(): Promise<() => void> {
      let released = false;
      const release = (): void => {
        if (released) {
          return;
        }
        released = true;
        const next = this.waiters.shift();
        if (next) {
          clearTimeout(next.timer);
          next.grant();
        } else {
          this.busy = false;
        }
      };
      if (!this.busy) {
        this.busy = true;
        return Promise.resolve(release);
      }
      return new Promise((resolve, reject) => {
        const waiter: { grant: () => void; timer?: NodeJS.Timeout } = { grant: () => resolve(release) };
        waiter.timer = setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) {
            this.waiters.splice(i, 1);
          }
          reject(new Error('timeout exceeded when trying to connect'));
        }, this.timeoutMs);
        waiter.timer.unref();
        this.waiters.push(waiter);
      });
    }

    connect(cb?: (err: Error | null, client?: Client, release?: (err?: unknown) => void) => void): Promise<Client> {
      const p = (async () => {
        await open();
        return this.acquire();
      })();
      return p.then(
        (release) => {
          const client = this.client;
          // pg exposes release() on the client itself; TypeORM uses the callback's
          (client as unknown as { release: () => void }).release = release;
          cb?.(null, client, release);
          return client;
        },
        (err: Error) => {
          cb?.(err);
          throw err;
        },
      );
    }

    async query(sql: string, params?: unknown[] | QueryCallback, cb?: QueryCallback): Promise<PgLikeResult> {
      const release = await this.acquire();
      try {
        return await this.client.query(sql, params, cb);
      } finally {
        release();
      }
    }

    end(cb?: (err?: Error | null) => void): Promise<void> {
      const p = db ? db.then((d) => d.close()) : Promise.resolve();
      db = null;
      return p.then(
        () => cb?.(null),
        (e: Error) => {
          cb?.(e);
        },
      );
    }
  }

  const listen = async (channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> => {
    const pg = await open();
    const release = current ? await current.acquire() : () => undefined;
    try {
      const unlisten = await pg.listen(channel, onNotify);
      return async () => {
        const again = current ? await current.acquire() : () => undefined;
        try {
          await unlisten();
        } finally {
          again();
        }
      };
    } finally {
      release();
    }
  };

  // TypeORM creates the one pool; LISTEN takes the session from it between transactions
  class TrackedPool extends Pool {
    constructor(config: { connectionTimeoutMillis?: number } = {}) {
      super(config);
      current = this as Pool;
    }
  }

  return { Pool: TrackedPool, listen };
}
