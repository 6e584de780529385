import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RedisClient } from '../../src/integrations/redis/redis.client';
import { Metrics } from '../../src/observability/metrics.service';
import { CrowdServer, startCrowdServer } from '../doubles/crowd-server';
import { REAL_REDIS_URL } from '../support/database';
import { jpeg } from '../support/images';
import { createSite, detect } from '../support/sensor';
import { startTestApp, TestApp } from '../support/test-app';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// long enough that two requests sent back to back fall into one window even on a loaded CI
// machine; the exact Retry-After arithmetic is unit-tested with a fake clock
const WINDOW_MS = 3000;

async function counter(t: TestApp, name: string): Promise<number> {
  const metric = await t.app.get(Metrics).registry.getSingleMetric(name)!.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

async function redisReady(t: TestApp): Promise<void> {
  const client = t.app.get(RedisClient).redis;
  for (let i = 0; client && client.status !== 'ready' && i < 100; i += 1) {
    await sleep(20);
  }
}

describe(`per-zone detection throttle (${REAL_REDIS_URL ? 'Redis' : 'in-process'} store)`, () => {
  let t: TestApp;
  let crowd: CrowdServer;
  let img: Buffer;

  before(async () => {
    crowd = await startCrowdServer();
    crowd.setDefault({ count: 1 });
    t = await startTestApp({ env: { CROWD_PREDICT_URL: crowd.predictUrl, SENSOR_THROTTLE_MS: String(WINDOW_MS) } });
    await redisReady(t);
    img = await jpeg(32, 32);
  });
  after(async () => {
    await t.close();
    await crowd.close();
  });

  it('rejects a second upload 100 ms later with 429 and Retry-After, leaves other zones alone, and reopens after the window', async () => {
    const a = await createSite(t);
    const b = await createSite(t);
    const rejectedBefore = await counter(t, 'sensor_throttle_rejections_total');
    const calls = crowd.received.length;

    const first = await detect(t, { key: a.key, zoneId: a.zone.id, file: img });
    const firstAt = Date.now();
    assert.equal(first.status, 200);
    await sleep(100);
    const second = await detect(t, { key: a.key, zoneId: a.zone.id, file: img });
    assert.equal(second.status, 429);
    assert.deepEqual(second.body, { error: 'Rate limit exceeded' });
    const retryAfter = Number(second.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW_MS / 1000, `Retry-After ${retryAfter}`);
    assert.equal(crowd.received.length, calls + 1, 'a throttled upload never reaches the detector');
    assert.equal(await counter(t, 'sensor_throttle_rejections_total'), rejectedBefore + 1);

    const other = await detect(t, { key: b.key, zoneId: b.zone.id, file: img });
    assert.equal(other.status, 200, 'another zone has its own slot');

    await sleep(Math.max(0, firstAt + WINDOW_MS + 30 - Date.now()));
    const third = await detect(t, { key: a.key, zoneId: a.zone.id, file: img });
    assert.equal(third.status, 200, 'accepted again after the window');
  });

  it('requests rejected before step 9 claim nothing', async () => {
    const s = await createSite(t);
    const other = await createSite(t);
    const early = [
      await detect(t, { key: s.key, zoneId: s.zone.id }), // 400 missing file
      await detect(t, { key: s.key, zoneId: s.zone.id, cameraId: 'x', file: img }), // 400 integer
      await detect(t, { key: s.key, zoneId: s.zone.id, file: Buffer.from('text') }), // 415
      await detect(t, { key: other.key, zoneId: s.zone.id, file: img }), // 403 other zone
      await detect(t, { key: s.key, zoneId: 987654321, file: img }), // 404
      await detect(t, { key: 'wrong', zoneId: s.zone.id, file: img }), // 401
    ];
    assert.deepEqual(
      early.map((r) => r.status),
      [400, 400, 415, 403, 404, 401],
    );
    const ok = await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
    assert.equal(ok.status, 200, 'the zone slot was still free');
  });

  it('keeps the slot claimed when a later step fails', async () => {
    const s = await createSite(t);
    crowd.enqueue({ status: 500, body: { error: 'boom' } });
    const failed = await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
    assert.equal(failed.status, 502);
    const retry = await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
    assert.equal(retry.status, 429);
  });

  it('lets exactly one of several simultaneous uploads for a zone through', async () => {
    const s = await createSite(t);
    const rs = await Promise.all(Array.from({ length: 5 }, () => detect(t, { key: s.key, zoneId: s.zone.id, file: img })));
    assert.deepEqual(rs.map((r) => r.status).sort(), [200, 429, 429, 429, 429]);
  });

  it('stores the slot in Redis under the key prefix', { skip: REAL_REDIS_URL ? false : 'needs TEST_REDIS_URL' }, async () => {
    const s = await createSite(t);
    const redis = t.app.get(RedisClient);
    assert.equal((await detect(t, { key: s.key, zoneId: s.zone.id, file: img })).status, 200);
    const pttl = await redis.redis!.pttl(redis.key('throttle', 'zone', s.zone.id));
    assert.ok(pttl > 0 && pttl <= WINDOW_MS, `slot expires with the window (${pttl} ms)`);
  });
});

describe('throttle with SENSOR_THROTTLE_MS=0', () => {
  it('is disabled', async () => {
    const crowd = await startCrowdServer();
    crowd.setDefault({ count: 1 });
    const t = await startTestApp({ env: { CROWD_PREDICT_URL: crowd.predictUrl, SENSOR_THROTTLE_MS: '0' } });
    try {
      const s = await createSite(t);
      const img = await jpeg(16, 16);
      const statuses = [];
      for (let i = 0; i < 3; i += 1) {
        statuses.push((await detect(t, { key: s.key, zoneId: s.zone.id, file: img })).status);
      }
      assert.deepEqual(statuses, [200, 200, 200]);
    } finally {
      await t.close();
      await crowd.close();
    }
  });
});

describe('throttle when Redis is unreachable', () => {
  let t: TestApp;
  let crowd: CrowdServer;

  before(async () => {
    crowd = await startCrowdServer();
    crowd.setDefault({ count: 1 });
    t = await startTestApp({ env: { CROWD_PREDICT_URL: crowd.predictUrl, SENSOR_THROTTLE_MS: '10000', REDIS_URL: 'redis://127.0.0.1:1' } });
  });
  after(async () => {
    await t.close();
    await crowd.close();
  });

  it('fails open to the in-process store: detections work, the throttle still holds, never a 500', async () => {
    const s = await createSite(t);
    const img = await jpeg(16, 16);
    const fallbacksBefore = await counter(t, 'throttle_store_fallbacks_total');
    const first = await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const second = await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
    assert.equal(second.status, 429);
    const retryAfter = Number(second.headers.get('retry-after'));
    assert.ok(retryAfter >= 8 && retryAfter <= 10, `ceil(remaining ms / 1000) of a 10 s window (${retryAfter})`);
    assert.ok((await counter(t, 'throttle_store_fallbacks_total')) >= fallbacksBefore + 2);
    assert.ok(t.logs.some((l) => l.severity === 'WARNING' && /redis/i.test(String(l.message))), 'the outage is logged');
  });
});

describe('two instances sharing Redis', { skip: REAL_REDIS_URL ? false : 'needs TEST_REDIS_URL' }, () => {
  let one: TestApp;
  let two: TestApp;
  let crowd: CrowdServer;
  const savedFixed = process.env.REDIS_KEY_PREFIX_FIXED;
  const savedPrefix = process.env.REDIS_KEY_PREFIX;

  before(async () => {
    crowd = await startCrowdServer();
    crowd.setDefault({ count: 1, delayMs: 20 });
    process.env.REDIS_KEY_PREFIX_FIXED = '1';
    process.env.REDIS_KEY_PREFIX = `ecoflow-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
    const env = { CROWD_PREDICT_URL: crowd.predictUrl, SENSOR_THROTTLE_MS: '5000' };
    one = await startTestApp({ env });
    two = await startTestApp({ env, db: one.db });
    await Promise.all([redisReady(one), redisReady(two)]);
  });
  after(async () => {
    await two.close();
    await one.close();
    await crowd.close();
    process.env.REDIS_KEY_PREFIX_FIXED = savedFixed;
    process.env.REDIS_KEY_PREFIX = savedPrefix;
    if (savedFixed === undefined) {
      delete process.env.REDIS_KEY_PREFIX_FIXED;
    }
    if (savedPrefix === undefined) {
      delete process.env.REDIS_KEY_PREFIX;
    }
  });

  it('lets exactly one of two simultaneous uploads for a zone through', async () => {
    const img = await jpeg(16, 16);
    for (let i = 0; i < 5; i += 1) {
      const s = await createSite(one);
      const [a, b] = await Promise.all([detect(one, { key: s.key, zoneId: s.zone.id, file: img }), detect(two, { key: s.key, zoneId: s.zone.id, file: img })]);
      assert.deepEqual([a.status, b.status].sort(), [200, 429], `round ${i}`);
    }
  });
});
