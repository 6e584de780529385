import { Injectable, OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { Metrics } from './metrics.service';

/** The getters node-postgres' Pool has, and the embedded pool mirrors. */
interface PoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/**
 * Process metrics (memory, CPU, GC, event-loop lag) and the database pool gauge, added to the
 * application's registry once the DataSource exists. Read at scrape time, so nothing polls.
 */
@Injectable()
export class RuntimeMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: Metrics,
    private readonly ds: DataSource,
  ) {}

  onModuleInit(): void {
    collectDefaultMetrics({ register: this.metrics.registry });
    const pool = (): PoolCounts | null => {
      const master = (this.ds.driver as unknown as { master?: Partial<PoolCounts> }).master;
      return master && typeof master.totalCount === 'number' ? (master as PoolCounts) : null;
    };
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by state (total, idle, waiting for a free connection)',
      labelNames: ['state'] as const,
      registers: [this.metrics.registry],
      collect() {
        const p = pool();
        this.set({ state: 'total' }, p?.totalCount ?? 0);
        this.set({ state: 'idle' }, p?.idleCount ?? 0);
        this.set({ state: 'waiting' }, p?.waitingCount ?? 0);
      },
    });
  }
}
