import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { RateLimitedError } from '../common/errors';
import { LOGGER, type AppLogger } from '../common/logger';
import { RedisClient } from '../integrations/redis/redis.client';
import { Metrics } from '../observability/metrics.service';

export const LOGIN_MAX_FAILURES = 10;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
// bounds the in-process map when many distinct (email, ip) pairs fail
const MAX_LOCAL_ENTRIES = 100_000;

// INCR, and start the window on the first failure only (portable to Redis < 7, unlike PEXPIRE NX)
const RECORD_FAILURE_LUA = `
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

interface LocalEntry {
  count: number;
  expiresAt: number;
}

/**
 * Login brute-force protection (spec §4.2): 10 failures per (email, client IP) within 15 minutes
 * of the first block further attempts until the window ends. Shared through Redis when configured;
 * any Redis error degrades to the in-process map instead of failing the login.
 */
@Injectable()
export class LoginThrottle {
  private readonly local = new Map<string, LocalEntry>();
  private readonly log: AppLogger;

  constructor(
    private readonly redisClient: RedisClient,
    private readonly metrics: Metrics,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'LoginThrottle' });
  }

  /** Throws 429 with Retry-After while the pair is locked out. */
  async assertAllowed(email: string, ip: string): Promise<void> {
    const key = this.keyOf(email, ip);
    const state = await this.read(key);
    if (state && state.count >= LOGIN_MAX_FAILURES && state.remainingMs > 0) {
      this.metrics.loginThrottleRejected();
      this.log.warn({ ip }, 'login locked out after repeated failures');
      throw new RateLimitedError('Too many failed login attempts. Try again later.', state.remainingMs / 1000);
    }
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    const key = this.keyOf(email, ip);
    const redis = this.redisClient.redis;
    if (redis) {
      try {
        await redis.eval(RECORD_FAILURE_LUA, 1, this.redisClient.key('login-fail', key), String(LOGIN_WINDOW_MS));
        return;
      } catch (err) {
        this.fallback(err);
      }
    }
    const now = Date.now();
    const entry = this.local.get(key);
    if (entry && entry.expiresAt > now) {
      entry.count += 1;
    } else {
      this.local.delete(key);
      this.sweep(now);
      this.local.set(key, { count: 1, expiresAt: now + LOGIN_WINDOW_MS });
    }
  }

  async clear(email: string, ip: string): Promise<void> {
    const key = this.keyOf(email, ip);
    this.local.delete(key);
    const redis = this.redisClient.redis;
    if (redis) {
      try {
        await redis.del(this.redisClient.key('login-fail', key));
      } catch (err) {
        this.fallback(err);
      }
    }
  }

  private async read(key: string): Promise<{ count: number; remainingMs: number } | null> {
    const redis = this.redisClient.redis;
    if (redis) {
      try {
        const rkey = this.redisClient.key('login-fail', key);
        const [count, pttl] = await Promise.all([redis.get(rkey), redis.pttl(rkey)]);
        // a failure recorded locally during a Redis outage still counts
        const local = this.readLocal(key);
        const shared = count === null ? null : { count: Number(count), remainingMs: pttl > 0 ? pttl : 0 };
        if (local && (!shared || local.count > shared.count)) {
          return local;
        }
        return shared;
      } catch (err) {
        this.fallback(err);
      }
    }
    return this.readLocal(key);
  }

  private readLocal(key: string): { count: number; remainingMs: number } | null {
    const entry = this.local.get(key);
    if (!entry) {
      return null;
    }
    const remainingMs = entry.expiresAt - Date.now();
    if (remainingMs <= 0) {
      this.local.delete(key);
      return null;
    }
    return { count: entry.count, remainingMs };
  }

  private fallback(err: unknown): void {
    this.redisClient.markDegraded(err);
    this.metrics.storeFallback();
  }

  private sweep(now: number): void {
    if (this.local.size < MAX_LOCAL_ENTRIES) {
      return;
    }
    for (const [k, v] of this.local) {
      if (v.expiresAt <= now) {
        this.local.delete(k);
      }
    }
    // still full: forget the oldest windows rather than grow without bound
    for (const k of this.local.keys()) {
      if (this.local.size < MAX_LOCAL_ENTRIES) {
        break;
      }
      this.local.delete(k);
    }
  }

  /** Hashed so that Redis keys and memory do not hold email addresses. */
  private keyOf(email: string, ip: string): string {
    return createHash('sha256').update(`${email}\n${ip}`).digest('hex');
  }
}
