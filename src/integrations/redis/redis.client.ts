import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../../config/config';
import { LOGGER, type AppLogger } from '../../common/logger';

export type RedisStatus = 'OK' | 'DOWN' | 'NOT_CONFIGURED';

/**
 * The shared Redis connection (throttles, login counters, stats cache), or none when
 * REDIS_URL is unset. Callers treat every Redis error as "fall back to in-process" and
 * never fail a request because of it; `degraded` is reported once and shown in /api/health/.
 */
@Injectable()
export class RedisClient implements OnApplicationShutdown {
  readonly redis: Redis | null;
  /** REDIS_KEY_PREFIX: namespaces every key, so several deployments (or test runs) can share one server */
  readonly prefix: string;
  private readonly log: AppLogger;
  private degradedSince: number | null = null;

  constructor(config: AppConfig, @Inject(LOGGER) logger: AppLogger) {
    this.log = logger.child({ context: 'Redis' });
    this.prefix = config.redisKeyPrefix;
    if (!config.redisUrl) {
      this.redis = null;
      return;
    }
    this.redis = new Redis(config.redisUrl, {
      lazyConnect: false,
      // fail fast instead of queueing commands while disconnected: callers fall back
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      commandTimeout: 1000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.redis.on('error', (err: Error) => this.markDegraded(err));
    this.redis.on('ready', () => {
      if (this.degradedSince !== null) {
        this.log.info('redis reachable again; shared stores restored');
      }
      this.degradedSince = null;
    });
  }

  get configured(): boolean {
    return this.redis !== null;
  }

  /** Logs once per outage, not once per request. */
  markDegraded(err: unknown): void {
    if (this.degradedSince === null) {
      this.degradedSince = Date.now();
      this.log.warn({ err }, 'redis unreachable; falling back to in-process stores');
    }
  }

  /**
   * A command just succeeded. After a partition that never dropped the connection there is no
   * new 'ready' event, so without this the stores that skip Redis while `degraded` (the stats
   * cache) would stay in process until the next reconnect, i.e. for ever.
   */
  markHealthy(): void {
    if (this.degradedSince !== null) {
      this.degradedSince = null;
      this.log.info('redis answering again; shared stores restored');
    }
  }

  get degraded(): boolean {
    return this.degradedSince !== null;
  }

  key(...parts: (string | number)[]): string {
    return this.prefix + parts.join(':');
  }

  async ping(timeoutMs = 2000): Promise<RedisStatus> {
    if (!this.redis) {
      return 'NOT_CONFIGURED';
    }
    try {
      await withTimeout(this.redis.ping(), timeoutMs);
      this.markHealthy();
      return 'OK';
    } catch (err) {
      this.markDegraded(err);
      return 'DOWN';
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis) {
      try {
        await withTimeout(this.redis.quit(), 1000);
      } catch {
        this.redis.disconnect();
      }
    }
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
