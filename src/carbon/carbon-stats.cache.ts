import { Injectable } from '@nestjs/common';
import { RedisClient } from '../integrations/redis/redis.client';
import { Metrics } from '../observability/metrics.service';

const TTL_MS = 30_000;

/**
 * The /carbon/stats/ cache (spec §6): keys `carbon_stats:<zone_id>` and `carbon_stats:all`,
 * 30 s, in Redis when configured, else in process. A Redis error never fails a request:
 * reads miss (the database is read directly) and writes fall back to the local map.
 */
@Injectable()
export class CarbonStatsCache {
  private readonly local = new Map<string, { value: string; expires: number }>();

  constructor(
    private readonly redis: RedisClient,
    private readonly metrics: Metrics,
  ) {}

  private key(zoneId: number | null): string {
    return this.redis.key('carbon_stats', zoneId === null ? 'all' : String(zoneId));
  }

  async get<T>(zoneId: number | null): Promise<T | null> {
    const key = this.key(zoneId);
    if (this.redis.redis && !this.redis.degraded) {
      try {
        const v = await this.redis.redis.get(key);
        return v === null ? null : (JSON.parse(v) as T);
      } catch (err) {
        this.redis.markDegraded(err);
        this.metrics.storeFallback();
        return null;
      }
    }
    const hit = this.local.get(key);
    if (!hit || hit.expires <= Date.now()) {
      this.local.delete(key);
      return null;
    }
    return JSON.parse(hit.value) as T;
  }

  async set(zoneId: number | null, value: unknown): Promise<void> {
    const key = this.key(zoneId);
    const json = JSON.stringify(value);
    if (this.redis.redis && !this.redis.degraded) {
      try {
        await this.redis.redis.set(key, json, 'PX', TTL_MS);
        return;
      } catch (err) {
        this.redis.markDegraded(err);
        this.metrics.storeFallback();
      }
    }
    this.local.set(key, { value: json, expires: Date.now() + TTL_MS });
  }

  /** A new carbon log for `zoneId` makes that zone's and the all-zone stats stale. */
  async invalidateZone(zoneId: number): Promise<void> {
    await this.delete([this.key(zoneId), this.key(null)]);
  }

  /** Deleting a zone or organization makes every cached stat suspect. */
  async invalidateAll(): Promise<void> {
    const prefix = this.redis.key('carbon_stats', '');
    for (const k of [...this.local.keys()]) {
      if (k.startsWith(prefix)) {
        this.local.delete(k);
      }
    }
    if (this.redis.redis) {
      try {
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
    }
    if (this.redis.redis) {
      try {
        await this.redis.redis.del(...keys);
        // every new carbon log passes here: the first answer after an outage re-enables the Redis cache
        this.redis.markHealthy();
      } catch (err) {
        this.redis.markDegraded(err);
        this.metrics.storeFallback();
      }
    }
  }
}
