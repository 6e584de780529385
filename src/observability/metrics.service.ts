import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type UpstreamService = 'crowd' | 'gemini';
export type UpstreamOutcome = 'ok' | 'http_error' | 'timeout' | 'connect_error' | 'invalid_response';

/**
 * Prometheus metrics of spec §7. One registry per application instance (tests start several).
 * Features record through these methods; they never touch prom-client directly.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  private readonly upstreamTotal = new Counter({
    name: 'upstream_requests_total',
    help: 'Calls to the crowd API and Gemini by outcome',
    labelNames: ['service', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly upstreamDuration = new Histogram({
    name: 'upstream_request_duration_seconds',
    help: 'Latency of calls to the crowd API and Gemini',
    labelNames: ['service', 'outcome'] as const,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30],
    registers: [this.registry],
  });
  private readonly geminiRetries = new Counter({
    name: 'gemini_retries_total',
    help: 'Gemini retries by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly sensorThrottle = new Counter({
    name: 'sensor_throttle_rejections_total',
    help: 'Detections rejected by the per-zone throttle',
    registers: [this.registry],
  });
  private readonly loginThrottle = new Counter({
    name: 'login_throttle_rejections_total',
    help: 'Logins rejected by brute-force protection',
    registers: [this.registry],
  });
  private readonly httpTotal = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route template (or "unmatched") and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly storeFallbacks = new Counter({
    name: 'throttle_store_fallbacks_total',
    help: 'Throttle or cache operations that fell back to in-process storage because Redis failed',
    registers: [this.registry],
  });

  private readonly eventsTotal = new Counter({
    name: 'events_total',
    help: 'Events committed to the event log by this instance, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  private readonly deliveriesTotal = new Counter({
    name: 'deliveries_total',
    help: 'Delivery attempts by channel and outcome (succeeded, failed, exhausted, gone, refused)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly deliveryDuration = new Histogram({
    name: 'delivery_duration_seconds',
    help: 'Duration of delivery attempts by channel',
    labelNames: ['channel'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  /** set by the outbox worker from its periodic lag check */
  readonly outboxOldestPending = new Gauge({
    name: 'outbox_oldest_pending_seconds',
    help: 'How long the most overdue due delivery has waited',
    registers: [this.registry],
  });
  private readonly sseConnections = new Gauge({
    name: 'sse_connections',
    help: 'Open event streams on this instance',
    registers: [this.registry],
  });

  eventCommitted(type: string): void {
    this.eventsTotal.inc({ type });
  }

  deliveryAttempted(channel: string, outcome: string, seconds: number): void {
    this.deliveriesTotal.inc({ channel, outcome });
    this.deliveryDuration.observe({ channel }, seconds);
  }

  sseOpened(): void {
    this.sseConnections.inc();
  }

  sseClosed(): void {
    this.sseConnections.dec();
  }

  recordUpstream(service: UpstreamService, outcome: UpstreamOutcome, seconds: number): void {
    this.upstreamTotal.inc({ service, outcome });
    this.upstreamDuration.observe({ service, outcome }, seconds);
  }

  geminiRetry(reason: '429' | '5xx' | 'timeout'): void {
    this.geminiRetries.inc({ reason });
  }

  sensorThrottleRejected(): void {
    this.sensorThrottle.inc();
  }

  loginThrottleRejected(): void {
    this.loginThrottle.inc();
  }

  storeFallback(): void {
    this.storeFallbacks.inc();
  }

  /** One finished (or aborted) HTTP request; `route` is the template, never the raw path (bounded cardinality). */
  observeHttp(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpTotal.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }
}
