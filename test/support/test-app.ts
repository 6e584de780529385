import type { Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory';
import { TokenService } from '../../src/auth/token.service';
import { createLogger } from '../../src/common/logger';
import { AppConfig, loadConfig } from '../../src/config/config';
import { MigrationService } from '../../src/database/migration.service';
import { Role, User } from '../../src/users/user.entity';
import { createTestDatabase, REAL_POSTGRES, REAL_REDIS_URL, TestDatabase } from './database';
import { scanBody } from './leak-scan';

export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';

/**
 * Every response of every test goes through the leak scan (stack traces, SQL, driver errors,
 * upstream bodies, the JWT secret); a hit fails the request's test at once. Per test file the
 * count is written for docs/reliability.md (render-report.ts).
 */
const suiteScan = { file: basename(process.argv[1] ?? 'unknown').replace(/\.test\.js$/, ''), scanned: 0, leaks: [] as string[] };
process.on('exit', () => {
  if (suiteScan.scanned === 0) {
    return;
  }
  const dir = join(__dirname, '..', 'reliability', 'results', REAL_POSTGRES ? 'real' : 'embedded', 'suite-scan');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${suiteScan.file}.json`), JSON.stringify(suiteScan));
});

/** String values a request sent, which the API may legitimately echo, then or later (stored names). */
function sentStrings(o: RequestOptions, out: Set<string>): void {
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      out.add(v);
    } else if (v && typeof v === 'object') {
      Object.values(v).forEach(walk);
    }
  };
  walk(o.body);
  if (typeof o.raw === 'string') {
    out.add(o.raw);
  }
}

export interface RequestOptions {
  body?: unknown;
  /** raw body, sent as is (with `headers['content-type']`) */
  raw?: string | Buffer | FormData;
  token?: string;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  /** the body's bytes (images) */
  bytes: Buffer;
  /** parsed JSON, or undefined when the body is empty or not JSON */
  body: any;
}

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  ds: DataSource;
  baseUrl: string;
  db: TestDatabase;
  /** every JSON log line the service wrote, for assertions on logging */
  logs: Record<string, unknown>[];
  request(method: string, path: string, opts?: RequestOptions): Promise<TestResponse>;
  createUser(fields?: Partial<Pick<User, 'email' | 'role' | 'isActive' | 'firstName' | 'lastName' | 'password'>>): Promise<User>;
  tokenFor(user: Pick<User, 'id'>): string;
  /** an ADMIN user and its access token, created on first use */
  admin(): Promise<{ user: User; token: string }>;
  /** a USER (operator) and its access token, created on first use */
  operator(): Promise<{ user: User; token: string }>;
  /** POST as the ADMIN, assert 201, return the created object (fixtures for resource tests) */
  create(path: string, body: unknown): Promise<any>;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** extra modules mounted next to the app's own (test-only routes) */
  extraModules?: Type[];
  /** reuse an existing database instead of creating one (two instances on one database) */
  db?: TestDatabase;
  /** skip migrations (for tests of the migration step itself) */
  skipMigrations?: boolean;
}

/**
 * Starts the real application (production wiring from createApp) on an ephemeral port,
 * on its own database, and with Redis when TEST_REDIS_URL is set (own key prefix).
 */
export async function startTestApp(opts: StartOptions = {}): Promise<TestApp> {
  const db = opts.db ?? (await createTestDatabase());
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: '0',
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'info',
    ...db.env,
    ...(REAL_REDIS_URL ? { REDIS_URL: REAL_REDIS_URL } : {}),
    ...opts.env,
  };
  // own Redis namespace per app, unless a test pins one to make two instances share it
  if (!process.env.REDIS_KEY_PREFIX_FIXED) {
    process.env.REDIS_KEY_PREFIX = `ecoflow-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
  }
  env.REDIS_KEY_PREFIX ??= process.env.REDIS_KEY_PREFIX ?? 'ecoflow-test:';
  const config = loadConfig(env);
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) {
          try {
            logs.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            logs.push({ message: line });
          }
        }
      }
      cb();
    },
  });
  const logger = createLogger(config.logLevel, sink);
  const app = await createApp(config, logger, { extraModules: opts.extraModules });
  if (!opts.skipMigrations) {
    await app.get(MigrationService).migrateOnStartup();
  }
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  const ds = app.get(DataSource);
  const tokens = app.get(TokenService);
  let counter = 0;
  const sent = new Set<string>();
  const cache: Partial<Record<Role, { user: User; token: string }>> = {};

  const t: TestApp = {
    app,
    config,
    ds,
    baseUrl,
    db,
    logs,
    async request(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      let body: string | Buffer | FormData | undefined;
      if (o.raw !== undefined) {
        body = o.raw;
      } else if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      if (o.token) {
        headers.authorization = `Bearer ${o.token}`;
      }
      const res = await fetch(baseUrl + path, { method, headers, body: body as RequestInit['body'], redirect: 'manual' });
      const bytes = Buffer.from(await res.arrayBuffer());
      const text = bytes.toString('utf8');
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      suiteScan.scanned += 1;
      sentStrings(o, sent);
      const leaks = scanBody(text, [TEST_JWT_SECRET], [...sent]);
      if (leaks.length > 0) {
        suiteScan.leaks.push(`${method} ${path} → ${res.status}: ${leaks.join(', ')}`);
        throw new Error(`response to ${method} ${path} (${res.status}) leaks internals: ${leaks.join(', ')}\n${text.slice(0, 500)}`);
      }
      return { status: res.status, headers: res.headers, text, bytes, body: parsed };
    },
    async createUser(fields = {}) {
      counter += 1;
      const email = fields.email ?? `user${counter}-${randomBytes(3).toString('hex')}@example.com`;
      const repo = ds.getRepository(User);
      return repo.save(
        repo.create({
          password: fields.password ?? '!unusable',
          lastLogin: null,
          isSuperuser: false,
          username: email,
          firstName: fields.firstName ?? '',
          lastName: fields.lastName ?? '',
          email,
          isStaff: false,
          isActive: fields.isActive ?? true,
          dateJoined: new Date(),
          role: fields.role ?? 'USER',
          ecoPoints: 0,
        }),
      );
    },
    tokenFor(user) {
      return tokens.sign('access', user.id).token;
    },
    async admin() {
      if (!cache.ADMIN) {
        const user = await t.createUser({ role: 'ADMIN' });
        cache.ADMIN = { user, token: t.tokenFor(user) };
      }
      return cache.ADMIN;
    },
    async operator() {
      if (!cache.USER) {
        const user = await t.createUser({ role: 'USER' });
        cache.USER = { user, token: t.tokenFor(user) };
      }
      return cache.USER;
    },
    async create(path, body) {
      const r = await t.request('POST', path, { token: (await t.admin()).token, body });
      if (r.status !== 201) {
        throw new Error(`fixture POST ${path} answered ${r.status}: ${r.text}`);
      }
      return r.body;
    },
    async close() {
      await app.close();
      if (!opts.db) {
        await db.drop();
      }
    },
  };
  return t;
}
