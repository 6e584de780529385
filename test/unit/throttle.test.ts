import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import Redis from 'ioredis';
import { MemoryThrottlerStorage } from '../../src/detection/throttle/memory-throttler.storage';
import { RedisThrottlerStorage } from '../../src/detection/throttle/redis-throttler.storage';
import { REAL_REDIS_URL } from '../support/database';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe(MemoryThrottlerStorage.name, () => {
  let now = 1_000_000;
  const clock = (): number => now;

  it('grants one slot per window and reports the remaining seconds, rounded up', async () => {
    const sut = new MemoryThrottlerStorage(clock);
    const first = await sut.increment('z1', 2500);
    assert.equal(first.isBlocked, false);
    now += 100;
    const second = await sut.increment('z1', 2500);
    assert.equal(second.isBlocked, true);
    assert.equal(second.timeToBlockExpire, 3, 'ceil(2400 / 1000)');
    now += 1400;
    assert.equal((await sut.increment('z1', 2500)).timeToBlockExpire, 1, 'ceil(1000 / 1000)');
    assert.equal((await sut.increment('z2', 2500)).isBlocked, false, 'keys are independent');
  });

  it('does not extend the window on rejected hits and frees the slot exactly when it ends', async () => {
    const sut = new MemoryThrottlerStorage(clock);
    await sut.increment('z', 300);
    now += 200;
    assert.equal((await sut.increment('z', 300)).isBlocked, true);
    now += 99;
    assert.equal((await sut.increment('z', 300)).isBlocked, true, '1 ms left');
    now += 1;
    assert.equal((await sut.increment('z', 300)).isBlocked, false, 'free 300 ms after the first claim, not after the rejected ones');
    now += 1;
    assert.equal((await sut.increment('z', 300)).isBlocked, true, 'and claimed again by that request');
  });

  it('never answers Retry-After 0', async () => {
    const sut = new MemoryThrottlerStorage(clock);
    await sut.increment('z', 5);
    now += 4;
    const r = await sut.increment('z', 5);
    assert.equal(r.isBlocked, true);
    assert.equal(r.timeToBlockExpire, 1);
  });

  it('forgets expired slots after a sweep', async () => {
    const sut = new MemoryThrottlerStorage(clock);
    for (let i = 0; i < 50; i += 1) {
      await sut.increment(`zone:${i}`, 1000);
    }
    now += 61_000;
    await sut.increment('fresh', 1000);
    assert.equal((sut as unknown as { slots: Map<string, number> }).slots.size, 1);
  });
});

describe(RedisThrottlerStorage.name, { skip: REAL_REDIS_URL ? false : 'needs TEST_REDIS_URL' }, () => {
  const redis = REAL_REDIS_URL ? new Redis(REAL_REDIS_URL) : null;
  const prefix = `ecoflow-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
  after(async () => {
    if (redis) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) {
        await redis.del(...keys);
      }
      await redis.quit();
    }
  });

  it('claims atomically: of 20 concurrent claims exactly one wins', async () => {
    const sut = new RedisThrottlerStorage(redis!, (k) => prefix + k);
    const results = await Promise.all(Array.from({ length: 20 }, () => sut.increment('throttle:zone:1', 2000)));
    assert.equal(results.filter((r) => !r.isBlocked).length, 1);
    const pttl = await redis!.pttl(`${prefix}throttle:zone:1`);
    assert.ok(pttl > 0 && pttl <= 2000, `the key expires with the window (${pttl} ms)`);
    assert.ok(results.filter((r) => r.isBlocked).every((r) => r.timeToBlockExpire === 2));
  });

  it('frees the slot when the window ends and rejected claims do not extend it', async () => {
    const sut = new RedisThrottlerStorage(redis!, (k) => prefix + k);
    const key = `${prefix}throttle:zone:2`;
    assert.equal((await sut.increment('throttle:zone:2', 1000)).isBlocked, false);
    const before = await redis!.pttl(key);
    await sleep(20);
    assert.equal((await sut.increment('throttle:zone:2', 1000)).isBlocked, true);
    const after = await redis!.pttl(key);
    assert.ok(after < before, `the rejected claim left the expiry alone (${before} → ${after} ms)`);
    await sleep(after + 20);
    assert.equal((await sut.increment('throttle:zone:2', 1000)).isBlocked, false, 'free once the window ended');
  });
});
