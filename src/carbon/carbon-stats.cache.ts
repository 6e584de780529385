import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RedisClient } from '../integrations/redis/redis.client';
import { Metrics } from '../observability/metrics.service';

const TTL_MS = 30_000;
/** Written over a key instead of deleting it, so a reader that saw the key before can tell. */
const TOMBSTONE = '~stale:';

// Fill only if neither the key nor the generation changed since the read: a reader that computed
// its stats before a new log was committed must not put them back over the invalidation.
const FILL_IF_UNCHANGED = `
local cur = redis.call('GET', KEYS[1]) or ''
local gen = redis.call('GET', KEYS[2]) or ''
if cur == ARGV[1] and gen == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
  return 1
end
return 0`;

/** What the store held when a read missed; `fill()` writes only if it still holds that. */
export type CacheStamp = { store: 'redis'; raw: string; gen: string } | { store: 'local'; version: number; gen: number };

/**
 * The /carbon/stats/ cache (spec §6): keys `carbon_stats:<zone_id>` and `carbon_stats:all`,
 * 30 s, in Redis when configured, else in process. A Redis error never fails a request:
 * reads miss (the database is read directly) and writes fall back to the local map.
 *
 * Invalidation overwrites a key with a tombstone (and deleting a zone or organization bumps a
 * generation) instead of only deleting it, and a miss is filled with compare-and-set: otherwise
 * a stats read that raced a new carbon log could cache the old figures for the full 30 s.
 */
@Injectable()
export class CarbonStatsCache {
  private readonly local = new Map<string, { value: string; expires: number }>();
  /** per-key invalidation count and the invalidate-everything generation, for the local store */
  private readonly versions = new Map<string, number>();
  private localGen = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly metrics: Metrics,
  ) {}

  private key(zoneId: number | null): string {
    return this.redis.key('carbon_stats', zoneId === null ? 'all' : String(zoneId));
  }

  private get genKey(): string {
    return this.redis.key('carbon_stats_generation');
  }

  private useRedis(): boolean {
    return this.redis.redis !== null && !this.redis.degraded;
  }

  /** The cached stats, or null and a stamp to pass to `fill()` with freshly computed ones. */
  async read<T>(zoneId: number | null): Promise<{ value: T | null; stamp: CacheStamp }> {
    const key = this.key(zoneId);
    if (this.useRedis()) {
      try {
        const [raw, gen] = await this.redis.redis!.mget(key, this.genKey);
        const value = raw === null || raw.startsWith(TOMBSTONE) ? null : (JSON.parse(raw) as T);
        return { value, stamp: { store: 'redis', raw: raw ?? '', gen: gen ?? '' } };
      } catch (err) {
        this.redis.markDegraded(err);
        this.metrics.storeFallback();
      }
    }
    const stamp: CacheStamp = { store: 'local', version: this.versions.get(key) ?? 0, gen: this.localGen };
    const hit = this.local.get(key);
    if (!hit || hit.expires <= Date.now()) {
      this.local.delete(key);
      return { value: null, stamp };
    }
    return { value: JSON.parse(hit.value) as T, stamp };
  }

  /** Caches stats computed after a miss, unless the key was invalidated since `read()`. */
  async fill(zoneId: number | null, stamp: CacheStamp, value: unknown): Promise<boolean> {
    const key = this.key(zoneId);
    const json = JSON.stringify(value);
    if (stamp.store === 'redis') {
      if (!this.useRedis()) {
        return false; // the store changed under us; the next read computes again
      }
      try {
        return (await this.redis.redis!.eval(FILL_IF_UNCHANGED, 2, key, this.genKey, stamp.raw, stamp.gen, json, TTL_MS)) === 1;
      } catch (err) {
        this.redis.markDegraded(err);
        this.metrics.storeFallback();
        return false;
      }
    }
    if (this.useRedis() || (this.versions.get(key) ?? 0) !== stamp.version || this.localGen !== stamp.gen) {
      return false;
    }
    this.local.set(key, { value: json, expires: Date.now() + TTL_MS });
    return true;
  }

  async get<T>(zoneId: number | null): Promise<T | null> {
    return (await this.read<T>(zoneId)).value;
  }

  /** A new carbon log for `zoneId` makes that zone's and the all-zone stats stale. */
  async invalidateZone(zoneId: number): Promise<void> {
    await this.delete([this.key(zoneId), this.key(null)]);
  }

  /** Deleting a zone or organization makes every cached stat suspect. */
  async invalidateAll(): Promise<void> {
    const prefix = this.redis.key('carbon_stats', '');
    this.localGen += 1;
    for (const k of [...this.local.keys()]) {
      if (k.startsWith(prefix)) {
        this.local.delete(k);
      }
    }
    if (this.redis.redis) {
      try {
        // first, so a fill that read before this point fails even for a key not cached yet
        await this.redis.redis.incr(this.genKey);
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, batch] = await this.redis.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
          cursor = next;
          keys.push(...batch);
        } while (cursor !== '0');
        if (keys.length) {
          await this.redis.redis.del(...keys);
        }
      } catch (err) {
        this.redis.markDegraded(err);
        this.metrics.storeFallback();
      }
    }
  }

  private async delete(keys: string[]): Promise<void> {
    for (const k of keys) {
      this.local.delete(k);
      this.versions.set(k, (this.versions.get(k) ?? 0) + 1);
    }
    if (this.redis.redis) {
      try {
        // a tombstone, unique per invalidation, reads as a miss and makes a racing fill() fail
        const pipeline = this.redis.redis.multi();
        for (const k of keys) {
          pipeline.set(k, `${TOMBSTONE}${randomUUID()}`, 'PX', TTL_MS);
        }
        const results = await pipeline.exec();
        const failed = results?.find(([err]) => err !== null)?.[0];
        if (failed) {
          throw failed;
        }
        // every new carbon log passes here: the first answer after an outage re-enables the Redis cache
        this.redis.markHealthy();
      } catch (err) {
        this.redis.markDegraded(err);
        this.metrics.storeFallback();
      }
    }
  }
}
