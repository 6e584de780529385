import { Injectable, OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Gauge } from 'prom-client';
import { PoolStatsRepository } from '../database/pool-stats.repository';
import { Metrics } from './metrics.service';

/**
 * Process metrics (memory, CPU, GC, event-loop lag) and the database pool gauge, added to the
 * application's registry at module init. Read at scrape time, so nothing polls.
 */
@Injectable()
export class RuntimeMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: Metrics,
    private readonly pool: PoolStatsRepository,
  ) {}

  onModuleInit(): void {
    collectDefaultMetrics({ register: this.metrics.registry });
    const pool = this.pool; // `this` inside collect() is the gauge
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by state (total, idle, waiting for a free connection)',
      labelNames: ['state'] as const,
      registers: [this.metrics.registry],
      collect() {
        const p = pool.counts();
        this.set({ state: 'total' }, p?.totalCount ?? 0);
        this.set({ state: 'idle' }, p?.idleCount ?? 0);
        this.set({ state: 'waiting' }, p?.waitingCount ?? 0);
      },
    });
  }
}
