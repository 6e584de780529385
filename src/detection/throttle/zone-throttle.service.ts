import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type AppLogger } from '../../common/logger';
import { AppConfig } from '../../config/config';
import { RedisClient } from '../../integrations/redis/redis.client';
import { Metrics } from '../../observability/metrics.service';
import { MemoryThrottlerStorage, type ThrottlerStorageRecord } from './memory-throttler.storage';
import { RedisThrottlerStorage } from './redis-throttler.storage';

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterSec: number };

const THROTTLER_NAME = 'sensor-zone';

/**
 * At most one accepted detection per zone per SENSOR_THROTTLE_MS (spec §5 step 9). Consulted by
 * the detection service after the body is parsed and validated (a guard cannot see the multipart
 * zone_id). The shared Redis store is used when configured; any Redis error fails open to the
 * in-process store for that request, never to a 500.
 */
@Injectable()
export class ZoneThrottle {
  private readonly local = new MemoryThrottlerStorage();
  private readonly shared: RedisThrottlerStorage | null;
  private readonly windowMs: number;
  private readonly log: AppLogger;

  constructor(
    config: AppConfig,
    private readonly redis: RedisClient,
    private readonly metrics: Metrics,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.windowMs = config.sensor.throttleMs;
    this.shared = redis.redis ? new RedisThrottlerStorage(redis.redis, (k) => redis.key(k)) : null;
    this.log = logger.child({ context: 'ZoneThrottle' });
  }

  /** Claims the zone's slot atomically, or says how long until it frees up. */
  async claim(zoneId: number): Promise<ThrottleDecision> {
    if (this.windowMs === 0) {
      return { allowed: true };
    }
    const key = `throttle:zone:${zoneId}`;
    let rec: ThrottlerStorageRecord | null = null;
    // after an outage, Redis is tried again as soon as its connection is back
    if (this.shared && (!this.redis.degraded || this.redis.redis?.status === 'ready')) {
      try {
        rec = await this.shared.increment(key, this.windowMs, 1, this.windowMs, THROTTLER_NAME);
        this.redis.markHealthy();
      } catch (err) {
        this.redis.markDegraded(err);
        this.log.warn({ zone_id: zoneId }, 'throttle store unavailable; using the in-process store for this request');
      }
    }
    if (rec === null) {
      if (this.shared) {
        this.metrics.storeFallback();
      }
      rec = await this.local.increment(key, this.windowMs);
    }
    if (rec.isBlocked) {
      this.metrics.sensorThrottleRejected();
      return { allowed: false, retryAfterSec: rec.timeToBlockExpire };
    }
    return { allowed: true };
  }
}
