import type { ThrottlerStorage } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { record, type ThrottlerStorageRecord } from './memory-throttler.storage';

// One round trip, atomic: claim the slot if free, else report how long it stays taken.
const CLAIM_SCRIPT = `
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return {1, tonumber(ARGV[1])}
end
return {2, redis.call('PTTL', KEYS[1])}
`;

/**
 * The shared slot store: `SET <prefix>throttle:zone:<id> 1 NX PX <ms>`, so every instance on the
 * same Redis sees one window per zone. Errors propagate; the caller falls back to process memory.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(
    private readonly redis: Redis,
    private readonly keyOf: (key: string) => string,
  ) {}

  async increment(key: string, ttl: number, _limit = 1, _blockDuration = ttl, _throttlerName = ''): Promise<ThrottlerStorageRecord> {
    const [hits, remaining] = (await this.redis.eval(CLAIM_SCRIPT, 1, this.keyOf(key), String(ttl))) as [number, number];
    return record(Number(hits), Number(remaining) > 0 ? Number(remaining) : ttl);
  }
}
