import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { Lifecycle } from '../common/lifecycle';
import { DbHealthRepository } from '../database/db-health.repository';
import { MigrationService } from '../database/migration.service';
import { DeliveriesRepository } from '../delivery/deliveries.repository';
import { CrowdPredictionClient } from '../integrations/crowd-prediction/crowd-prediction.client';
import type { BreakerState } from '../integrations/crowd-prediction/upstream-breaker';
import { GeminiClient } from '../integrations/gemini/gemini.client';
import { RedisClient, withTimeout } from '../integrations/redis/redis.client';

type Status = 'OK' | 'DOWN';

export interface HealthReport {
  overall_status: 'OK' | 'DEGRADED';
  database: Status;
  external_service: Status;
  checks: {
    database: { status: Status; latency_ms?: number };
    crowd_api: { status: Status | 'NOT_CONFIGURED'; latency_ms?: number; circuit: BreakerState };
    redis: { status: Status | 'NOT_CONFIGURED'; latency_ms?: number };
    gemini: { status: 'CONFIGURED' | 'NOT_CONFIGURED'; circuit: BreakerState };
  };
  /** ALERTING.md §7: LAGGING when a due delivery has waited longer than OUTBOX_LAG_ALERT_SECONDS */
  outbox: { status: 'OK' | 'LAGGING' | 'UNKNOWN'; oldest_pending_s: number | null };
}

const CHECK_TIMEOUT_MS = 2000;
const CACHE_MS = 5000;

@Injectable()
export class HealthService {
  private cached: { at: number; report: Promise<HealthReport> } | null = null;

  constructor(
    private readonly db: DbHealthRepository,
    private readonly config: AppConfig,
    private readonly redis: RedisClient,
    private readonly crowd: CrowdPredictionClient,
    private readonly gemini: GeminiClient,
    private readonly migrations: MigrationService,
    private readonly lifecycle: Lifecycle,
    private readonly deliveries: DeliveriesRepository,
  ) {}

  /** Cached for 5 s (and shared by concurrent callers) so a probe storm cannot load the database. */
  report(): Promise<HealthReport> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at >= CACHE_MS) {
      this.cached = { at: now, report: this.check() };
    }
    return this.cached.report;
  }

  private async check(): Promise<HealthReport> {
    const [database, crowd, redis, outbox] = await Promise.all([
      timed(() => this.db.ping()),
      this.crowd.configured ? timed(() => this.crowd.health(CHECK_TIMEOUT_MS)) : Promise.resolve({ status: 'NOT_CONFIGURED' as const }),
      timed(async () => {
        const s = await this.redis.ping(CHECK_TIMEOUT_MS);
        if (s === 'DOWN') {
          throw new Error('redis down');
        }
        return s;
      }),
      this.outbox(),
    ]);
    const redisCheck = redis.status === 'OK' && !this.redis.configured ? { status: 'NOT_CONFIGURED' as const } : redis;
    const ok = database.status === 'OK' && crowd.status === 'OK';
    return {
      overall_status: ok ? 'OK' : 'DEGRADED',
      database: database.status,
      external_service: crowd.status === 'OK' ? 'OK' : 'DOWN',
      checks: {
        database,
        // circuit: the breaker's view of the detector/Gemini from real traffic (open = failing fast)
        crowd_api: { ...crowd, circuit: this.crowd.breakerState },
        redis: redisCheck,
        gemini: { status: this.config.gemini.apiKey ? 'CONFIGURED' : 'NOT_CONFIGURED', circuit: this.gemini.breakerState },
      },
      // informational: a lagging outbox is the receivers' or the workers' problem, not this instance's health
      outbox,
    };
  }

  private async outbox(): Promise<HealthReport['outbox']> {
    try {
      const s = await withTimeout(this.deliveries.oldestDueSeconds(), CHECK_TIMEOUT_MS);
      return { status: s > this.config.events.lagAlertSec ? 'LAGGING' : 'OK', oldest_pending_s: Math.round(s) };
    } catch {
      return { status: 'UNKNOWN', oldest_pending_s: null };
    }
  }

  async ready(): Promise<boolean> {
    if (this.lifecycle.shuttingDown) {
      return false;
    }
    try {
      await withTimeout(this.db.ping(), CHECK_TIMEOUT_MS);
      return await withTimeout(this.migrations.isSchemaCurrent(), CHECK_TIMEOUT_MS);
    } catch {
      return false;
    }
  }
}

/** Runs a check with the 2 s budget; any failure is DOWN, and no error text leaves this function. */
async function timed(fn: () => Promise<unknown>): Promise<{ status: Status; latency_ms: number }> {
  const start = performance.now();
  try {
    await withTimeout(fn(), CHECK_TIMEOUT_MS);
    return { status: 'OK', latency_ms: Math.round(performance.now() - start) };
  } catch {
    return { status: 'DOWN', latency_ms: Math.round(performance.now() - start) };
  }
}
