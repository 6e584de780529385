import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startCrowdServer, unusedPortUrl, type CrowdServer } from '../doubles/crowd-server';
import { startChildService, type ChildService } from '../support/child-service';
import { createTestDatabase, REAL_POSTGRES, REAL_REDIS_URL, type TestDatabase } from '../support/database';
import { detectForm, jpeg } from '../support/images';
import { until } from '../support/until';

const SKIP = REAL_POSTGRES && REAL_REDIS_URL ? false : 'needs PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL): several worker processes are allowed only there';

interface Reply {
  status: number;
  body: any;
  text: string;
}

/** One request on its own connection (no keep-alive), so the primary hands each to the next worker. */
function send(
  port: number,
  method: string,
  path: string,
  opts: { token?: string; json?: unknown; raw?: { body: Buffer; type: string }; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: Buffer | undefined;
  if (opts.token) {
    headers.authorization = `Bearer ${opts.token}`;
  }
  if (opts.json !== undefined) {
    body = Buffer.from(JSON.stringify(opts.json));
    headers['content-type'] = 'application/json';
  } else if (opts.raw) {
    body = opts.raw.body;
    headers['content-type'] = opts.raw.type;
  }
  if (body) {
    headers['content-length'] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = undefined;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.on('error', reject);
    // a hung request must fail the test, not the file's timeout (which would orphan the service)
    req.setTimeout(opts.timeoutMs ?? 15000, () => req.destroy(new Error(`${method} ${path}: no answer within ${opts.timeoutMs ?? 15000} ms`)));
    req.end(body);
  });
}

async function multipart(zoneId: number, file: Buffer): Promise<{ body: Buffer; type: string }> {
  const r = new Request('http://x/', { method: 'POST', body: detectForm({ zoneId, file }) });
  return { body: Buffer.from(await r.arrayBuffer()), type: r.headers.get('content-type')! };
}

/** The worker processes of a primary, from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (/^\d+$/.test(d)) {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) {
          out.push(Number(d));
        }
      } catch {
        /* gone */
      }
    }
  }
  return out;
}

/** The JSON log lines of the service so far. */
function logLines(svc: ChildService): Record<string, unknown>[] {
  return svc
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}

/** Which workers wrote an access-log line for `method path` (the `worker` field every worker line carries). */
function workersThatServed(svc: ChildService, method: string, path: string): Set<number> {
  const seen = new Set<number>();
  for (const l of logLines(svc)) {
    const req = l.httpRequest as { requestMethod?: string; requestUrl?: string } | undefined;
    if (req?.requestMethod === method && req.requestUrl?.split('?')[0] === path && typeof l.worker === 'number') {
      seen.add(l.worker);
    }
  }
  return seen;
}

/** Resolves when the service exits; fails after 20 s (Cloud Run would SIGKILL it after 10). */
const exitOf = (svc: ChildService): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  svc.proc.exitCode !== null || svc.proc.signalCode !== null
    ? Promise.resolve({ code: svc.proc.exitCode, signal: svc.proc.signalCode })
    : new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the service did not exit within 20 s')), 20000);
        svc.proc.once('exit', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal });
        });
      });

/**
 * WEB_CONCURRENCY=2 (docs/decisions/0010): one instance, two worker processes on one port, on one
 * PostgreSQL and Redis. What the processes share must behave as if there were one: the zone
 * throttle, the login limit, a JWT secret the primary generated, the metrics. Requests go on
 * separate connections so the primary spreads them over both workers (checked in the access log).
 */
describe('several worker processes in one instance', { skip: SKIP }, () => {
  let db: TestDatabase;
  let crowd: CrowdServer;
  let svc: ChildService;
  let image: Buffer;

  before(async () => {
    db = await createTestDatabase();
    crowd = await startCrowdServer();
    crowd.setDefault({ count: 9 }); // capacity 10: DANGER, no Gemini call
    image = await jpeg(64, 48);
    svc = await startChildService({
      NODE_ENV: 'test',
      PORT: '0',
      WEB_CONCURRENCY: '2',
      // no JWT_SECRET: the primary generates one and every worker must use it
      LOG_LEVEL: 'info',
      ...db.env,
      REDIS_URL: REAL_REDIS_URL!,
      REDIS_KEY_PREFIX: `ecoflow-test:cluster:${process.pid}:${Date.now()}:`,
      CROWD_PREDICT_URL: crowd.predictUrl,
    });
  });

  after(async () => {
    if (svc && svc.proc.exitCode === null && svc.proc.signalCode === null) {
      // the workers leave when the primary's IPC channel closes
      svc.proc.kill('SIGKILL');
      await exitOf(svc).catch(() => undefined);
    }
    await crowd?.close();
    await db?.drop();
  });

  it('starts two workers on one port; a token from one is valid on the other; /metrics sums both', async () => {
    assert.equal(childrenOf(svc.proc.pid!).length, 2, 'two worker processes');
    assert.equal(logLines(svc).filter((l) => l.message === 'ecoflow-backend listening').length, 1, 'the instance says "listening" once');
    const reg = await send(svc.port, 'POST', '/auth/register/', { json: { email: 'ops@example.com', password: 'pass-word-123' } });
    assert.equal(reg.status, 201, reg.text);
    const login = await send(svc.port, 'POST', '/auth/login/', { json: { email: 'ops@example.com', password: 'pass-word-123' } });
    assert.equal(login.status, 200, login.text);
    const token = login.body.access as string;
    const statuses: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      statuses.push((await send(svc.port, 'GET', '/organizations/', { token })).status);
    }
    assert.deepEqual(statuses, Array(20).fill(200), 'a random per-process secret would answer 401 on the other worker');
    assert.deepEqual([...workersThatServed(svc, 'GET', '/organizations/')].sort(), [0, 1], 'both workers served');

    const metrics = await send(svc.port, 'GET', '/metrics', { token });
    assert.equal(metrics.status, 200);
    const m = /^http_requests_total\{method="GET",route="\/organizations",status="200"\} (\d+)$/m.exec(metrics.text);
    assert.ok(m, metrics.text.slice(0, 2000));
    assert.equal(Number(m[1]), 20, 'the scrape counts the requests of both workers');
  });

  it('the zone throttle and the login limit hold across the workers', async () => {
    const login = await send(svc.port, 'POST', '/auth/login/', { json: { email: 'ops@example.com', password: 'pass-word-123' } });
    const token = login.body.access as string;
    const org = await send(svc.port, 'POST', '/organizations/', { token, json: { name: 'Cluster', org_type: 'TEST' } });
    assert.equal(org.status, 201, org.text);
    const zone = await send(svc.port, 'POST', '/zones/', { token, json: { name: 'Hall', zone_type: 'ROOM', organization_id: org.body.id, capacity: 10 } });
    assert.equal(zone.status, 201, zone.text);
    const cam = await send(svc.port, 'POST', '/cameras/', { token, json: { name: 'Cam', zone_id: zone.body.id } });
    assert.equal(cam.status, 201, cam.text);
    const form = await multipart(zone.body.id as number, image);
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => send(svc.port, 'POST', '/sensor/detect/', { raw: form, headers: { 'x-device-key': cam.body.device_key as string } })),
    );
    const accepted = answers.filter((a) => a.status === 200);
    assert.equal(accepted.length, 1, `one detection per zone per 2 s: ${JSON.stringify(answers.map((a) => a.status))}`);
    assert.equal(answers.filter((a) => a.status === 429).length, 11);
    assert.deepEqual([...workersThatServed(svc, 'POST', '/sensor/detect/')].sort(), [0, 1], 'both workers saw uploads for the zone');

    // at most 10 password verifications per (email, IP) whichever worker takes them (spec §11)
    const wrong = await Promise.all(Array.from({ length: 14 }, () => send(svc.port, 'POST', '/auth/login/', { json: { email: 'ops@example.com', password: 'wrong-password-1' } })));
    const locked = wrong.filter((w) => w.status === 429).length;
    assert.equal(locked, 4, JSON.stringify(wrong.map((w) => w.status)));
    assert.equal(wrong.filter((w) => w.status === 401).length, 10);
    assert.deepEqual([...workersThatServed(svc, 'POST', '/auth/login/')].sort(), [0, 1]);
  });

  it('a worker that dies is replaced while the other serves; SIGTERM drains both and the instance exits 0', async () => {
    const [victim, survivor] = childrenOf(svc.proc.pid!);
    process.kill(victim, 'SIGKILL');
    // the other worker answers meanwhile (a connection the primary was handing to the victim as it
    // died can be lost, as with any crashed server: a client retries it)
    let during = 0;
    for (let i = 0; i < 5 && during !== 200; i += 1) {
      during = await send(svc.port, 'GET', '/health/live', { timeoutMs: 2000 }).then(
        (r) => r.status,
        () => 0,
      );
    }
    assert.equal(during, 200);
    await until('a replacement worker', async () => childrenOf(svc.proc.pid!).length === 2 && logLines(svc).filter((l) => l.message === 'worker process listening').length === 3);
    const now = childrenOf(svc.proc.pid!);
    assert.ok(now.includes(survivor) && !now.includes(victim), `replaced: ${now.join(',')}`);
    assert.equal(logLines(svc).filter((l) => l.message === 'a worker process exited; starting a replacement').length, 1);

    const exited = exitOf(svc);
    svc.proc.kill('SIGTERM');
    assert.deepEqual(await exited, { code: 0, signal: null });
    const lines = logLines(svc);
    assert.equal(lines.filter((l) => l.message === 'shutdown complete').length, 2, 'each worker drained');
    assert.ok(lines.some((l) => l.message === 'all worker processes stopped'));
  });
});

describe('a worker process that cannot start', { skip: SKIP }, () => {
  it('stops the instance with exit code 1 instead of starting it again and again', async () => {
    const dead = await unusedPortUrl();
    const port = new URL(dead).port;
    const started = Date.now();
    const proc = await startChildService({
      NODE_ENV: 'test',
      PORT: '0',
      WEB_CONCURRENCY: '2',
      LOG_LEVEL: 'info',
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/none`,
      DB_CONNECT_TIMEOUT_MS: '500',
      REDIS_URL: REAL_REDIS_URL!,
    }).then(
      () => assert.fail('it must not start'),
      (err: Error) => err,
    );
    assert.match(proc.message, /service exited with 1/);
    assert.ok(Date.now() - started < 30000);
  });
});
