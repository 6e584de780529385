import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '../common/errors';
import { LOGGER, type AppLogger } from '../common/logger';
import { AppConfig } from '../config/config';
import { RedisClient } from '../integrations/redis/redis.client';
import { Metrics } from '../observability/metrics.service';

export const LOGIN_MAX_FAILURES = 10;
export const LOGIN_WINDOW_SEC = 15 * 60;
const LOCKED_MESSAGE = 'Too many failed login attempts. Try again later.';

/** A password verification reserved by {@link LoginThrottle.reserve}; settle it exactly once. */
export interface LoginAttempt {
  /** The password matched: clears the (email, IP) count and refunds the IP's point. */
  succeeded(): Promise<void>;
  /** The attempt ended before a verdict (database error): refund both points. */
  release(): Promise<void>;
  // a failure needs no call: the reserved points stay consumed
}

/**
 * The in-process insurance limiter: the library switches to it whenever a Redis command fails, so
 * each use is a fallback worth counting (`throttle_store_fallbacks_total`).
 */
class InsuranceLimiter extends RateLimiterMemory {
  constructor(
    opts: { points: number; duration: number; keyPrefix: string },
    private readonly onFallback: () => void,
  ) {
    super(opts);
  }

  override consume(key: string | number, points?: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    this.onFallback();
    return super.consume(key, points, options);
  }

  override reward(key: string | number, points?: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    this.onFallback();
    return super.reward(key, points, options);
  }

  override delete(key: string | number, options?: Record<string, unknown>): Promise<boolean> {
    this.onFallback();
    return super.delete(key, options);
  }

  /** Drops counts kept during an earlier outage, without counting a fallback. */
  forget(key: string): Promise<boolean> {
    return super.delete(key);
  }
}

interface Limiter {
  primary: RateLimiterAbstract;
  insurance: InsuranceLimiter | null;
}

/**
 * Login brute-force protection (spec §4.2, §11). One point is consumed *before* each password
 * verification, atomically (Redis INCR in a Lua script, or the in-process map), so however many
 * requests race, at most 10 verifications per (email, client IP) and `LOGIN_MAX_FAILURES_PER_IP`
 * per client IP happen in a 15-minute window. A success clears the pair and refunds the IP point.
 * With Redis configured every instance shares the counts; a Redis error falls back to in-process
 * counts (rate-limiter-flexible's insurance limiter) instead of failing the login.
 */
@Injectable()
export class LoginThrottle {
  private readonly pair: Limiter;
  private readonly perIp: Limiter;
  private readonly log: AppLogger;

  constructor(
    private readonly redisClient: RedisClient,
    private readonly metrics: Metrics,
    config: AppConfig,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'LoginThrottle' });
    this.pair = this.limiter('login-fail', LOGIN_MAX_FAILURES);
    this.perIp = this.limiter('login-fail-ip', config.auth.loginMaxFailuresPerIp);
  }

  /** Reserves one password verification, or throws 429 with Retry-After. */
  async reserve(email: string, ip: string): Promise<LoginAttempt> {
    const ipKey = hash(ip);
    const pairKey = hash(`${email}\n${ip}`);
    await this.consume(this.perIp, ipKey, ip, 'too many failed logins from this client IP');
    try {
      await this.consume(this.pair, pairKey, ip, 'login locked out after repeated failures');
    } catch (err) {
      // the IP's point only counts attempts that reach the password check
      await this.settle(this.perIp.primary.reward(ipKey));
      throw err;
    }
    let settled = false;
    const once = async (f: () => Promise<void>): Promise<void> => {
      if (!settled) {
        settled = true;
        await f();
      }
    };
    return {
      succeeded: () =>
        once(async () => {
          await Promise.all([this.clear(this.pair, pairKey), this.settle(this.perIp.primary.reward(ipKey))]);
        }),
      release: () =>
        once(async () => {
          await Promise.all([this.settle(this.pair.primary.reward(pairKey)), this.settle(this.perIp.primary.reward(ipKey))]);
        }),
    };
  }

  private async consume(l: Limiter, key: string, ip: string, why: string): Promise<void> {
    try {
      await l.primary.consume(key);
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        this.metrics.loginThrottleRejected();
        this.log.warn({ ip }, why);
        throw new RateLimitedError(LOCKED_MESSAGE, err.msBeforeNext / 1000);
      }
      // only reachable if the in-process limiter itself threw: never block logins on the limiter
      this.log.error({ err }, 'login limiter failed; attempt allowed');
    }
  }

  private async clear(l: Limiter, key: string): Promise<void> {
    await Promise.all([this.settle(l.primary.delete(key)), l.insurance ? this.settle(l.insurance.forget(key)) : Promise.resolve()]);
  }

  /** Refunds and clears are best effort: a failure here must not turn a login into a 500. */
  private async settle(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      this.log.warn({ err }, 'login limiter update failed');
    }
  }

  private limiter(name: string, points: number): Limiter {
    const redis = this.redisClient.redis;
    if (!redis) {
      return { primary: new RateLimiterMemory({ points, duration: LOGIN_WINDOW_SEC, keyPrefix: name }), insurance: null };
    }
    const insurance = new InsuranceLimiter({ points, duration: LOGIN_WINDOW_SEC, keyPrefix: name }, () => this.fallback());
    const primary = new RateLimiterRedis({
      storeClient: redis,
      // `<REDIS_KEY_PREFIX>login-fail:<sha256>`, as before the library was used
      keyPrefix: this.redisClient.key(name),
      points,
      duration: LOGIN_WINDOW_SEC,
      // while disconnected go straight to the insurance instead of waiting for a timeout
      rejectIfRedisNotReady: true,
      insuranceLimiter: insurance,
    });
    return { primary, insurance };
  }

  private fallback(): void {
    this.redisClient.markDegraded(new Error('login limiter: Redis command failed, counting in process'));
    this.metrics.storeFallback();
  }
}

/** Hashed so that Redis keys and memory hold neither email addresses nor client IPs. */
function hash(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
