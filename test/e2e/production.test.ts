import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, REAL_POSTGRES, REAL_REDIS_URL, TestDatabase } from '../support/database';
import { TEST_JWT_SECRET } from '../support/test-app';
import { repoRoot } from '../support/repo-root';

/**
 * The entrypoint exactly as the image runs it: `npm run build` (tsc -p tsconfig.build.json, here
 * into a temporary outDir so parallel runs never share dist/), then `node dist/main.js` as a child
 * process with only the environment given here.
 */
const root = repoRoot();

interface Service {
  child: ChildProcess;
  port: number;
  logs: Record<string, unknown>[];
  rawLines: string[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
  at: number;
}

/** One request on its own connection, the body optionally sent in chunks spaced `gapMs` apart. */
function send(port: number, method: string, path: string, opts: { chunks?: string[]; gapMs?: number; onStarted?: () => void } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const chunks = opts.chunks ?? [];
    const length = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
    const req = http.request(
      { host: '127.0.0.1', port, method, path, agent: false, headers: chunks.length ? { 'content-type': 'application/json', 'content-length': length } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, at: Date.now() });
        });
      },
    );
    req.on('error', reject);
    if (!chunks.length) {
      req.end();
      opts.onStarted?.();
      return;
    }
    let i = 0;
    const next = (): void => {
      req.write(chunks[i]);
      if (i === 0) {
        opts.onStarted?.();
      }
      i += 1;
      if (i < chunks.length) {
        setTimeout(next, opts.gapMs ?? 0);
      } else {
        req.end();
      }
    };
    next();
  });
}

describe('production entrypoint (node dist/main.js)', () => {
  let work: string;
  let db: TestDatabase | null = null;
  let detector: http.Server;
  let detectorUrl: string;
  let healthHits = 0;
  const services: ChildProcess[] = [];

  before(async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.build, 'tsc -p tsconfig.build.json', 'the build below reproduces `npm run build`');
    work = mkdtempSync(join(tmpdir(), 'ecoflow-prod-'));
    symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'), 'dir');
    const tsc = spawnSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(work, 'dist'), '--tsBuildInfoFile', join(work, 'dist/.tsbuildinfo')],
      { encoding: 'utf8', timeout: 120000 },
    );
    // tsc emits even with type errors; `npm run check` is what gates those
    assert.ok(existsSync(join(work, 'dist/main.js')), `build produced dist/main.js\n${tsc.stdout}${tsc.stderr}`);
    assert.ok(existsSync(join(work, 'dist/database/cli.js')), 'build produced the migrations CLI');

    // the detector's /health answers slowly: an upstream call still running at SIGTERM
    detector = http.createServer((req, res) => {
      if (req.url === '/health') {
        healthHits += 1;
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"status":"online"}');
        }, 1200);
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => detector.listen(0, '127.0.0.1', () => r()));
    detectorUrl = `http://127.0.0.1:${(detector.address() as AddressInfo).port}/predict`;
    if (REAL_POSTGRES) {
      db = await createTestDatabase();
    }
  });

  after(async () => {
    for (const c of services) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGKILL');
      }
    }
    await new Promise<void>((r) => detector.close(() => r()));
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  /** Only what is passed here: no TEST_* or developer variables leak into the child. */
  const envOf = (vars: Record<string, string>): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, ...vars });

  const runToExit = (vars: Record<string, string>): { status: number | null; stderr: string; stdout: string } => {
    const r = spawnSync(process.execPath, ['dist/main.js'], { cwd: work, env: envOf(vars), encoding: 'utf8', timeout: 30000 });
    return { status: r.status, stderr: r.stderr, stdout: r.stdout };
  };

  const start = async (vars: Record<string, string>): Promise<Service> => {
    const child = spawn(process.execPath, ['dist/main.js'], { cwd: work, env: envOf(vars), stdio: ['ignore', 'pipe', 'pipe'] });
    services.push(child);
    const logs: Record<string, unknown>[] = [];
    const rawLines: string[] = [];
    let err = '';
    let buf = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening" line within 90 s\n${err}`)), 90000);
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        buf += c;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          rawLines.push(line);
          try {
            const entry = JSON.parse(line) as Record<string, unknown>;
            logs.push(entry);
            if (entry.message === 'ecoflow-backend listening') {
              clearTimeout(timer);
              resolve(entry.port as number);
            }
          } catch {
            logs.push({ message: line });
          }
        }
      });
      void exited.then(({ code }) => {
        clearTimeout(timer);
        reject(new Error(`service exited with ${code} before listening\n${err}`));
      });
    });
    return { child, port, logs, rawLines, stderr: () => err, exited };
  };

  /** stdout as JSON lines; every line must parse. */
  const jsonLines = (stdout: string): Record<string, unknown>[] =>
    stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('refuses to start in production without JWT_SECRET: exit code 1 and one JSON line with severity ERROR', () => {
    const r = runToExit({ NODE_ENV: 'production', DATABASE_URL: 'postgres://app:pw@127.0.0.1:1/app', CROWD_PREDICT_URL: detectorUrl });
    assert.equal(r.status, 1);
    const lines = jsonLines(r.stdout);
    assert.equal(lines.length, 1, r.stdout);
    assert.equal(lines[0].severity, 'ERROR');
    assert.match(String(lines[0].message), /^Invalid configuration: .*JWT_SECRET is required in production/);
    assert.equal(r.stderr, '', 'nothing else, no stack trace');
    assert.doesNotMatch(r.stderr + r.stdout, /:pw@/, 'the database password is not echoed');
  });

  it('refuses the embedded database in production with a clear message', () => {
    const r = runToExit({ NODE_ENV: 'production', JWT_SECRET: TEST_JWT_SECRET, CROWD_PREDICT_URL: detectorUrl });
    assert.equal(r.status, 1);
    const [line] = jsonLines(r.stdout);
    assert.equal(line.severity, 'ERROR');
    assert.match(String(line.message), /a database is required in production: set DATABASE_URL or USE_CLOUD_SQL/);
  });

  it('keeps the plain one-line configuration message in development', () => {
    const r = runToExit({ PORT: 'abc', SENSOR_AUTH: 'maybe' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'Invalid configuration: PORT must be an integer 1-65535 (got "abc"); SENSOR_AUTH must be "required" or "off" (got "maybe")\n');
  });

  it('the migration command reports configuration errors the same way', () => {
    const r = spawnSync(process.execPath, ['dist/database/cli.js', 'run'], { cwd: work, env: envOf({ NODE_ENV: 'production' }), encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 1);
    const lines = jsonLines(r.stdout);
    assert.equal(lines.length, 1, r.stdout);
    assert.equal(lines[0].severity, 'ERROR');
    assert.match(String(lines[0].message), /^Invalid configuration: /);
    assert.equal(r.stderr, '');
  });

  /**
   * A database that accepts connections and never answers (a hung host, a stuck proxy): startup
   * waits for it up to DB_CONNECT_TIMEOUT_MS (here a minute). SIGTERM must still end the process
   * within Cloud Run's 10 s (spec §11 "Signals"), with a log line, for the service and for the
   * migration job's command alike.
   */
  for (const [what, script] of [
    ['the service', ['dist/main.js']],
    ['the migration command', ['dist/database/cli.js', 'run']],
  ] as const) {
    it(`SIGTERM while ${what} waits for a database that does not answer: exit 1 within 10 s with a log line`, async () => {
      const held: net.Socket[] = [];
      const silent = net.createServer((c) => held.push(c));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
      try {
        const silentUrl = `postgres://app:pw@127.0.0.1:${(silent.address() as AddressInfo).port}/app`;
        const child = spawn(process.execPath, [...script], {
          cwd: work,
          env: envOf({ NODE_ENV: 'production', PORT: '0', DATABASE_URL: silentUrl, DB_CONNECT_TIMEOUT_MS: '60000', JWT_SECRET: TEST_JWT_SECRET, CROWD_PREDICT_URL: detectorUrl }),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        services.push(child);
        let out = '';
        let err = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
        child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
          child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
        );
        // wait until it is connected and waiting for the database's answer
        const deadline = Date.now() + 60000;
        while (held.length === 0) {
          assert.ok(Date.now() < deadline, `never connected to the database\n${out}${err}`);
          assert.equal(child.exitCode, null, `exited before connecting\n${out}${err}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(child.exitCode, null, 'still waiting for the database');
        const sigtermAt = Date.now();
        child.kill('SIGTERM');
        const exit = await exited;
        assert.ok(exit.at - sigtermAt < 10000, `exited ${exit.at - sigtermAt} ms after SIGTERM`);
        assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 1, signal: null }, `${out}${err}`);
        const line = jsonLines(out).find((l) => l.signal === 'SIGTERM');
        assert.ok(line, `a log line for the signal\n${out}`);
        assert.equal(line.severity, 'WARNING');
        assert.match(String(line.message), /^SIGTERM during .*: exiting with code 1$/);
        assert.equal(err, '');
      } finally {
        for (const c of held) {
          c.destroy();
        }
        await new Promise<void>((r) => silent.close(() => r()));
      }
    });
  }

  it('starts, answers /health/ready, and on SIGTERM finishes in-flight requests and exits 0 within 10 s', async () => {
    // production needs a real database; embedded mode proves the same sequence in development
    const vars: Record<string, string> = {
      NODE_ENV: REAL_POSTGRES ? 'production' : 'development',
      PORT: '0',
      JWT_SECRET: TEST_JWT_SECRET,
      CROWD_PREDICT_URL: detectorUrl,
      // debug: Nest's own lines too, checked below for a single "context" key
      LOG_LEVEL: 'debug',
      ...(db ? db.env : { EMBEDDED_DB_DIR: 'memory' }),
      ...(REAL_REDIS_URL ? { REDIS_URL: REAL_REDIS_URL, REDIS_KEY_PREFIX: `ecoflow-prodtest:${process.pid}:` } : {}),
    };
    const svc = await start(vars);

    const ready = await send(svc.port, 'GET', '/health/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready' });
    if (REAL_POSTGRES) {
      assert.equal(ready.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains', 'production headers are on');
    }

    // a slow upload (body trickling in over ~1.2 s) and a slow upstream call, both in flight at SIGTERM
    let uploadStarted!: () => void;
    const uploading = new Promise<void>((r) => (uploadStarted = r));
    const body = JSON.stringify({ padding: 'x'.repeat(3000) });
    const parts = [body.slice(0, 1000), body.slice(1000, 2000), body.slice(2000)];
    // to a route that reads its body (POST /api/status/ takes none and is answered 405 at once)
    const upload = send(svc.port, 'POST', '/auth/login/', { chunks: parts, gapMs: 600, onStarted: uploadStarted });
    const hitsBefore = healthHits;
    const health = send(svc.port, 'GET', '/api/health/');
    await uploading;
    while (healthHits === hitsBefore) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 50));

    const sigtermAt = Date.now();
    svc.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await assert.rejects(send(svc.port, 'GET', '/health/live'), /ECONNREFUSED|ECONNRESET/, 'no new connections once draining');

    const [up, hr, exit] = await Promise.all([upload, health, svc.exited]);
    assert.equal(up.status, 400, `the whole upload was read and answered: ${JSON.stringify(up.body)}`);
    assert.ok(up.body.email && up.body.password, 'login answered for the body it read: email and password missing');
    assert.ok(up.at - sigtermAt > 800, 'the upload was still running well after SIGTERM');
    assert.equal(hr.status, 200, JSON.stringify(hr.body));
    assert.equal(hr.body.checks.crowd_api.status, 'OK', 'the slow upstream call completed');
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, svc.stderr());
    assert.ok(exit.at - sigtermAt < 10000, `exited ${exit.at - sigtermAt} ms after SIGTERM`);
    assert.ok(exit.at >= Math.max(up.at, hr.at) - 50, 'exit came after the in-flight responses');
    const messages = svc.logs.map((l) => l.message);
    assert.ok(messages.includes('shutdown started: readiness off, draining in-flight requests'));
    assert.ok(messages.includes('shutdown complete'));
    for (const raw of svc.rawLines) {
      assert.ok((raw.match(/"context":/g) ?? []).length <= 1, `one "context" key per line: ${raw}`);
    }
  });
});
