import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PasswordHasher } from '../../src/auth/password-hasher';
import { Metrics } from '../../src/observability/metrics.service';
import { REAL_REDIS_URL } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';

const PASSWORD = 'throttle-pass-1';

async function fail(t: TestApp, email: string, ip: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const r = await t.request('POST', '/auth/login/', { body: { email, password: 'wrong-password' }, headers: { 'x-forwarded-for': ip } });
    assert.equal(r.status, 401, `failure ${i + 1}: ${r.text}`);
  }
}

describe('login brute-force limit when Redis fails', () => {
  let t: TestApp;
  before(async () => {
    // nothing listens on port 1: every Redis command fails, as in an outage
    t = await startTestApp({ env: { REDIS_URL: 'redis://127.0.0.1:1', TRUST_PROXY: '1' } });
    await t.createUser({ email: 'outage@example.com', password: await new PasswordHasher().hash(PASSWORD) });
  });
  after(async () => t.close());

  it('falls back to in-process counters, still locks out, and counts the fallbacks', async () => {
    await fail(t, 'outage@example.com', '198.51.100.1', 10);
    const r = await t.request('POST', '/auth/login/', { body: { email: 'outage@example.com', password: PASSWORD }, headers: { 'x-forwarded-for': '198.51.100.1' } });
    assert.equal(r.status, 429);
    assert.deepEqual(r.body, { detail: 'Too many failed login attempts. Try again later.' });
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    const metrics = t.app.get(Metrics).registry;
    const fallbacks = await metrics.getSingleMetric('throttle_store_fallbacks_total')!.get();
    assert.ok(fallbacks.values[0].value >= 11, `fallbacks: ${JSON.stringify(fallbacks.values)}`);
    const rejected = await metrics.getSingleMetric('login_throttle_rejections_total')!.get();
    assert.equal(rejected.values[0].value, 1);
  });
});

describe('login brute-force limit shared by two instances through Redis', { skip: REAL_REDIS_URL ? false : 'needs TEST_REDIS_URL' }, () => {
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    // both instances must use the same key prefix, as two replicas of one deployment do
    process.env.REDIS_KEY_PREFIX_FIXED = '1';
    process.env.REDIS_KEY_PREFIX = `ecoflow-test:shared:${randomBytes(4).toString('hex')}:`;
    a = await startTestApp({ env: { TRUST_PROXY: '1' } });
    b = await startTestApp({ db: a.db, env: { TRUST_PROXY: '1' } });
    await a.createUser({ email: 'shared@example.com', password: await new PasswordHasher().hash(PASSWORD) });
  });
  after(async () => {
    await b.close();
    await a.close();
    delete process.env.REDIS_KEY_PREFIX_FIXED;
  });

  it('counts failures on either instance toward one limit', async () => {
    await fail(a, 'shared@example.com', '198.51.100.2', 5);
    await fail(b, 'SHARED@example.com', '198.51.100.2', 5);
    const r = await a.request('POST', '/auth/login/', { body: { email: 'shared@example.com', password: PASSWORD }, headers: { 'x-forwarded-for': '198.51.100.2' } });
    assert.equal(r.status, 429);
    // a success on the other IP clears only its own pair
    const other = await b.request('POST', '/auth/login/', { body: { email: 'shared@example.com', password: PASSWORD }, headers: { 'x-forwarded-for': '198.51.100.3' } });
    assert.equal(other.status, 200);
    assert.equal((await b.request('POST', '/auth/login/', { body: { email: 'shared@example.com', password: PASSWORD }, headers: { 'x-forwarded-for': '198.51.100.2' } })).status, 429);
  });
});
