import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry } from 'prom-client';
import { isClusterMessage, type ClusterMessage } from '../cluster/messages';
import { Metrics } from './metrics.service';

const RESULT_TIMEOUT_MS = 5000;

/**
 * The Prometheus text of this instance. With several worker processes (WEB_CONCURRENCY) a
 * scrape reaches one of them at random: it asks the primary for every worker's registry and
 * answers their aggregate (counters and gauges summed, as prom-client's cluster support does),
 * so a counter never goes backwards between scrapes that hit different workers.
 */
@Injectable()
export class ClusterMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly pending = new Map<string, (parts: unknown[]) => void>();
  private readonly listener = (m: unknown): void => {
    if (!isClusterMessage(m)) {
      return;
    }
    if (m.ecoflow === 'metrics-collect') {
      void this.metrics.registry.getMetricsAsJSON().then((metrics) => {
        process.send?.({ ecoflow: 'metrics-part', id: m.id, metrics } satisfies ClusterMessage);
      });
    } else if (m.ecoflow === 'metrics-result') {
      this.pending.get(m.id)?.(m.parts);
    }
  };

  constructor(private readonly metrics: Metrics) {}

  get contentType(): string {
    return this.metrics.registry.contentType;
  }

  onModuleInit(): void {
    if (cluster.isWorker) {
      process.on('message', this.listener);
    }
  }

  onModuleDestroy(): void {
    process.off('message', this.listener);
  }

  async scrape(): Promise<string> {
    if (!cluster.isWorker || !process.send) {
      return this.metrics.registry.metrics();
    }
    const id = randomUUID();
    const parts = await new Promise<unknown[] | null>((resolve) => {
      const timer = setTimeout(() => finish(null), RESULT_TIMEOUT_MS);
      const finish = (p: unknown[] | null): void => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(p);
      };
      this.pending.set(id, finish);
      process.send!({ ecoflow: 'metrics-request', id } satisfies ClusterMessage);
    });
    if (!parts || parts.length === 0) {
      // the primary did not answer (it is stopping): this worker's own figures beat none
      return this.metrics.registry.metrics();
    }
    return AggregatorRegistry.aggregate(parts as object[]).metrics();
  }
}
