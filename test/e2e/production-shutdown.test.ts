import assert from 'node:assert/strict';
import http from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Lifecycle } from '../../src/common/lifecycle';
import { LOGGER, type AppLogger } from '../../src/common/logger';
import { createShutdownHandler } from '../../src/graceful-shutdown';
import { HealthService } from '../../src/health/health.service';
import { RedisClient } from '../../src/integrations/redis/redis.client';
import { REAL_REDIS_URL } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    assert.ok(Date.now() < end, 'condition not reached in time');
    await sleep(10);
  }
}

/**
 * The deadline side of the shutdown sequence, driven in process with short budgets
 * (production.test.ts covers the clean path through a real SIGTERM to `node dist/main.js`).
 */
describe('graceful shutdown deadlines', () => {
  let t: TestApp;
  let closed = false;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => {
    if (closed) {
      await t.db.drop();
    } else {
      await t.close();
    }
  });

  it('closes idle keep-alive sockets at once, cuts requests still running at the drain deadline, then closes pool and Redis', async () => {
    const port = Number(new URL(t.baseUrl).port);
    // an idle keep-alive connection left over from a finished request
    const agent = new http.Agent({ keepAlive: true });
    let idleSocket!: Socket;
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/api/status/', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('socket', (s) => (idleSocket = s));
      req.on('error', reject);
    });
    let idleClosedAt = 0;
    idleSocket.on('close', () => (idleClosedAt = Date.now()));

    // an upload that never finishes, to a route that reads its body (login; a route without a body
    // such as POST /api/status/ is answered 405 without reading it)
    const stuck = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/auth/login/', agent: false, headers: { 'content-type': 'application/json', 'content-length': '1000' } });
    let stuckError: Error | null = null;
    stuck.on('error', (e) => (stuckError = e));
    stuck.on('response', () => assert.fail('a request that never finished its body got a response'));
    stuck.write('{"a":');
    await sleep(100);

    assert.equal(await t.app.get(HealthService).ready(), true);
    const exits: { code: number; at: number }[] = [];
    const onSignal = createShutdownHandler(t.app, t.app.get<AppLogger>(LOGGER), { drainMs: 1500, closeMs: 3000, exit: (code) => exits.push({ code, at: Date.now() }) });
    const signalAt = Date.now();
    onSignal('SIGTERM');
    closed = true;

    assert.equal(t.app.get(Lifecycle).shuttingDown, true, 'readiness turns false first');
    assert.equal(await t.app.get(HealthService).ready(), false);
    await until(() => idleClosedAt > 0, 1400);
    assert.ok(idleClosedAt - signalAt < 1000, 'the idle keep-alive socket was closed long before the drain deadline');

    onSignal('SIGINT');
    assert.deepEqual(
      exits.map((e) => e.code),
      [1],
      'a second signal exits at once',
    );

    await until(() => exits.length === 2, 6000);
    assert.equal(exits[1].code, 0);
    assert.ok(exits[1].at - signalAt >= 1500, 'the stuck upload got the whole drain budget');
    assert.ok(exits[1].at - signalAt < 4500, 'and no more than drain + close');
    await until(() => stuckError !== null, 2000); // the stuck connection was closed at the deadline
    assert.equal(t.ds.isInitialized, false, 'the database pool is closed');
    if (REAL_REDIS_URL) {
      const redis = t.app.get(RedisClient).redis;
      await until(() => redis?.status === 'end', 1000); // quit() resolves just before the socket closes
    }
    const messages = t.logs.filter((l) => l.context === 'Shutdown').map((l) => l.message);
    assert.deepEqual(messages, [
      'shutdown started: readiness off, draining in-flight requests',
      'second signal during shutdown; exiting now',
      'requests still running at the drain deadline; closing their connections',
      'shutdown complete',
    ]);
    agent.destroy();
  });
});
