import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { REAL_POSTGRES } from '../support/database';
import { TcpProxy } from '../support/tcp-proxy';
import { startTestApp, TestApp } from '../support/test-app';

describe('health endpoints', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  it('/api/health/ reports each dependency and is DEGRADED without the detector', async () => {
    const r = await t.request('GET', '/api/health/');
    assert.equal(r.status, 503);
    assert.equal(r.body.overall_status, 'DEGRADED');
    assert.equal(r.body.database, 'OK');
    assert.equal(r.body.external_service, 'DOWN');
    assert.equal(r.body.checks.database.status, 'OK');
    assert.equal(typeof r.body.checks.database.latency_ms, 'number');
    assert.equal(r.body.checks.crowd_api.status, 'NOT_CONFIGURED');
    assert.equal(r.body.checks.gemini.status, 'NOT_CONFIGURED');
  });

  it('/health/live and /health/ready answer 200 once migrated', async () => {
    assert.deepEqual((await t.request('GET', '/health/live')).body, { status: 'alive' });
    const ready = await t.request('GET', '/health/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready' });
  });
});

describe('health with the detector up', () => {
  let t: TestApp;
  let detector: import('node:http').Server;
  before(async () => {
    const http = await import('node:http');
    detector = http.createServer((req, res) => {
      res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
      res.end('{"status":"online"}');
    });
    await new Promise<void>((r) => detector.listen(0, '127.0.0.1', () => r()));
    const port = (detector.address() as net.AddressInfo).port;
    t = await startTestApp({ env: { CROWD_PREDICT_URL: `http://127.0.0.1:${port}/predict`, GEMINI_API_KEY: 'k' } });
  });
  after(async () => {
    await t.close();
    detector.close();
  });

  it('is OK when database and detector answer', async () => {
    const r = await t.request('GET', '/api/health');
    assert.equal(r.status, 200);
    assert.equal(r.body.overall_status, 'OK');
    assert.equal(r.body.external_service, 'OK');
    assert.equal(r.body.checks.crowd_api.status, 'OK');
    assert.equal(r.body.checks.gemini.status, 'CONFIGURED');
  });
});

describe('health when the database goes away', { skip: !REAL_POSTGRES && 'needs a real PostgreSQL server (TEST_DATABASE_URL)' }, () => {
  let t: TestApp;
  let proxy: TcpProxy;
  let db: import('../support/database').TestDatabase;
  before(async () => {
    const { createTestDatabase } = await import('../support/database');
    db = await createTestDatabase();
    const u = new URL(db.url!);
    proxy = new TcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
    await proxy.start();
    u.host = `127.0.0.1:${proxy.port}`;
    t = await startTestApp({ db: { ...db, env: { DATABASE_URL: u.toString() } }, env: { DB_CONNECT_TIMEOUT_MS: '500' } });
  });
  after(async () => {
    await t.close();
    await proxy.cut();
    await db.drop();
  });

  it('answers 503 DEGRADED while the database is down and recovers without a restart', async () => {
    assert.equal((await t.request('GET', '/health/ready')).status, 200);
    const port = proxy.port;
    await proxy.cut();
    await new Promise((r) => setTimeout(r, 5100)); // past the 5 s health cache
    const started = Date.now();
    const down = await t.request('GET', '/api/health/');
    assert.ok(Date.now() - started < 3000, 'the check is bounded by its timeout');
    assert.equal(down.status, 503);
    assert.equal(down.body.overall_status, 'DEGRADED');
    assert.equal(down.body.database, 'DOWN');
    assert.doesNotMatch(down.text, /ECONNREFUSED|timeout exceeded|Error/);
    const notReady = await t.request('GET', '/health/ready');
    assert.equal(notReady.status, 503);
    assert.deepEqual(notReady.body, { status: 'not_ready' });

    await proxy.start(port);
    await new Promise((r) => setTimeout(r, 5100));
    const up = await t.request('GET', '/api/health/');
    assert.equal(up.body.database, 'OK');
    assert.equal((await t.request('GET', '/health/ready')).status, 200);
  });
});
