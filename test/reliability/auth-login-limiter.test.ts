import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PasswordHasher } from '../../src/auth/password-hasher';
import { RedisClient } from '../../src/integrations/redis/redis.client';
import { REAL_POSTGRES, REAL_REDIS_URL } from '../support/database';
import { startTestApp, TestApp, TestResponse } from '../support/test-app';
import { shareRedisPrefix } from '../support/env';

const PASSWORD = 'limiter-pass-123';
const LOCKED = { detail: 'Too many failed login attempts. Try again later.' };
const BAD_CREDENTIALS = { detail: 'No active account found with the given credentials' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Counts the password verifications an app performs (the quantity the limit bounds). */
function countVerifications(t: TestApp): { n: number } {
  const counter = { n: 0 };
  const hasher = t.app.get(PasswordHasher);
  const verify = hasher.verify.bind(hasher);
  const burn = hasher.burn.bind(hasher);
  hasher.verify = (...args: Parameters<typeof verify>) => {
    counter.n += 1;
    return verify(...args);
  };
  hasher.burn = (...args: Parameters<typeof burn>) => {
    counter.n += 1;
    return burn(...args);
  };
  return counter;
}

async function redisReady(t: TestApp): Promise<void> {
  const redis = t.app.get(RedisClient).redis;
  for (let i = 0; redis && redis.status !== 'ready' && i < 100; i += 1) {
    await sleep(20);
  }
}

/**
 * The login limit under concurrency (spec §11): a point is reserved before each password
 * verification, so racing requests cannot verify more than the limit; with Redis the limit holds
 * across instances. On the embedded database both "instances" are one app.
 */
describe('login limit is atomic under concurrency', () => {
  const TWO = REAL_POSTGRES && Boolean(REAL_REDIS_URL);
  let one: TestApp;
  let two: TestApp;
  let hash: string;
  let restoreEnv = (): void => undefined;
  const on = (i: number): TestApp => (i % 2 === 0 ? one : two);
  const login = (t: TestApp, email: string, password: string, ip: string): Promise<TestResponse> =>
    t.request('POST', '/auth/login/', { body: { email, password }, headers: { 'x-forwarded-for': ip } });

  before(async () => {
    // two replicas of one deployment share the Redis key prefix
    restoreEnv = shareRedisPrefix('limiter');
    const env = { TRUST_PROXY: '1', LOGIN_MAX_FAILURES_PER_IP: '20', DB_POOL_MAX: '10' };
    one = await startTestApp({ env });
    two = TWO ? await startTestApp({ env, db: one.db }) : one;
    await redisReady(one);
    await redisReady(two);
    hash = await new PasswordHasher().hash(PASSWORD);
  });
  after(async () => {
    if (two !== one) {
      await two.close();
    }
    await one.close();
    restoreEnv();
  });

  it(`50 parallel wrong passwords for one (email, IP) verify at most 10, then even the right one is 429 (${TWO ? 'two instances, one Redis' : 'one instance'})`, async () => {
    await one.createUser({ email: 'race@example.com', password: hash });
    const counters = [...new Set([one, two])].map(countVerifications);
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => login(on(i), 'Race@Example.com', `wrong-${i}`, '203.0.113.10')));
    const verified = counters.reduce((s, c) => s + c.n, 0);
    const statuses = rs.map((r) => r.status);
    assert.equal(verified, 10, `password verifications: ${verified}`);
    assert.equal(statuses.filter((s) => s === 401).length, 10, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 40, statuses.join(','));
    for (const r of rs) {
      assert.deepEqual(r.body, r.status === 401 ? BAD_CREDENTIALS : LOCKED);
      if (r.status === 429) {
        const retry = Number(r.headers.get('retry-after'));
        assert.ok(retry > 0 && retry <= 900, `Retry-After ${retry}`);
      }
    }
    for (const t of new Set([one, two])) {
      const right = await login(t, 'race@example.com', PASSWORD, '203.0.113.10');
      assert.equal(right.status, 429, right.text);
    }
    assert.equal(counters.reduce((s, c) => s + c.n, 0), 10, 'the 429s did not verify');
    // another IP is unaffected
    assert.equal((await login(two, 'race@example.com', PASSWORD, '203.0.113.11')).status, 200);
  });

  it('password spraying: at most LOGIN_MAX_FAILURES_PER_IP verifications per IP across emails, even in parallel', async () => {
    await one.createUser({ email: 'sprayed@example.com', password: hash });
    const counters = [...new Set([one, two])].map(countVerifications);
    const rs = await Promise.all(Array.from({ length: 60 }, (_, i) => login(on(i), `nobody-${i}@example.com`, 'Winter2024!', '203.0.113.20')));
    const verified = counters.reduce((s, c) => s + c.n, 0);
    const statuses = rs.map((r) => r.status);
    assert.equal(verified, 20, `password verifications: ${verified}`);
    assert.equal(statuses.filter((s) => s === 401).length, 20, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 40, statuses.join(','));
    for (const r of rs.filter((x) => x.status === 429)) {
      assert.deepEqual(r.body, LOCKED);
      assert.ok(Number(r.headers.get('retry-after')) > 0);
    }
    // the IP is blocked for every account, the real one with its right password included
    const right = await login(one, 'sprayed@example.com', PASSWORD, '203.0.113.20');
    assert.equal(right.status, 429);
    assert.deepEqual(right.body, LOCKED);
    // other clients are not
    assert.equal((await login(two, 'sprayed@example.com', PASSWORD, '203.0.113.21')).status, 200);
  });

  it('a success refunds only its own point: it does not reset the per-IP failure count', async () => {
    await one.createUser({ email: 'mixed@example.com', password: hash });
    const ip = '203.0.113.30';
    for (let i = 0; i < 19; i++) {
      assert.equal((await login(on(i), `spray-${i}@example.com`, 'wrong-password', ip)).status, 401, `failure ${i + 1}`);
    }
    assert.equal((await login(one, 'mixed@example.com', PASSWORD, ip)).status, 200);
    assert.equal((await login(two, 'spray-last@example.com', 'wrong-password', ip)).status, 401, 'the 20th failure');
    const r = await login(one, 'mixed@example.com', PASSWORD, ip);
    assert.equal(r.status, 429, r.text);
    assert.deepEqual(r.body, LOCKED);
  });
});
