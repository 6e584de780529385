import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { LOGGER, type AppLogger } from '../common/logger';
import { AppConfig } from '../config/config';
import { MigrationService } from '../database/migration.service';
import { EventSignal } from '../events/event-signal';
import { EventsRepository } from '../events/events.repository';
import { Metrics } from '../observability/metrics.service';
import { DeliveriesRepository, type AttemptRecord, type ClaimedDelivery } from './deliveries.repository';
import type { AttemptOutcome, DeliveryAttempt, DeliveryChannelName } from './delivery-channel';
import { DeliveryChannels } from './delivery-channels';

const LAG_CHECK_MS = 5000;
const PURGE_EVERY_MS = 10 * 60000;
const PURGE_BATCH = 1000;

/**
 * The outbox worker of ALERTING.md §2, §3, §7, on every instance: claims due deliveries (one per
 * free slot, at most one in flight per subscription on this instance), makes the attempt,
 * records it and schedules the next. A claim is a lease: if this instance dies mid-attempt the
 * delivery becomes due again when the lease ends, and another instance makes it (at-least-once;
 * receivers dedupe on `webhook-id`). Wakes on every committed event, and polls for retries.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: AppLogger;
  private readonly inFlight = new Map<number, { channel: DeliveryChannelName; targetId: number; done: Promise<void> }>();
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | null = null;
  private pumping = false;
  /** the last claim found work: when a slot frees, claim again without waiting for the poll */
  private mayHaveMore = false;
  private pumpAgain = false;
  private stopped = true;
  private purging = false;

  constructor(
    private readonly config: AppConfig,
    private readonly deliveries: DeliveriesRepository,
    private readonly events: EventsRepository,
    private readonly channels: DeliveryChannels,
    private readonly signal: EventSignal,
    private readonly metrics: Metrics,
    private readonly migrations: MigrationService,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'DeliveryWorker' });
  }

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.unsubscribe = this.signal.subscribe(() => this.pump());
    this.every(this.config.events.deliveryPollMs, () => this.pump());
    this.every(LAG_CHECK_MS, () => this.checkLag());
    this.every(PURGE_EVERY_MS, () => this.purge());
    this.pump();
    void this.checkLag();
    void this.purge();
  }

  /**
   * Stops claiming, and lets attempts in flight finish for a moment; one still running keeps its
   * lease, so another instance makes it again once the lease ends.
   */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const t of this.timers) {
      clearInterval(t);
    }
    this.timers = [];
    const running = [...this.inFlight.values()].map((f) => f.done);
    await Promise.race([Promise.allSettled(running), new Promise((r) => setTimeout(r, 500).unref())]);
  }

  /** Fills free slots with due deliveries; concurrent calls coalesce into one more round. */
  pump(): void {
    if (this.stopped) {
      return;
    }
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void (async () => {
      try {
        // the app starts before main.ts migrates: no claim until this build's tables exist
        if (!(await this.migrations.isSchemaCurrent())) {
          return;
        }
        do {
          this.pumpAgain = false;
          // one claim per round for every free slot; a full claim may have left more due
          let full = true;
          while (full && !this.stopped && this.inFlight.size < this.config.webhooks.concurrency) {
            const free = this.config.webhooks.concurrency - this.inFlight.size;
            const claimed = await this.deliveries.claimDue(this.busyTargets(), free, this.leaseMs());
            for (const d of claimed) {
              this.start(d);
            }
            full = claimed.length === free;
            // deliveries to the subscriptions now in flight may be waiting behind these
            this.mayHaveMore = claimed.length > 0;
          }
        } while (this.pumpAgain && !this.stopped);
      } catch (err) {
        // the database is away: the next poll tries again, and leases keep claims safe
        this.log.warn({ err }, 'could not claim deliveries');
      } finally {
        this.pumping = false;
      }
    })();
  }

  private leaseMs(): number {
    return this.channels.longestAttemptMs * 2 + 5000;
  }

  private busyTargets(): { webhook: number[]; whatsapp: number[] } {
    const busy = { webhook: [] as number[], whatsapp: [] as number[] };
    for (const f of this.inFlight.values()) {
      busy[f.channel].push(f.targetId);
    }
    return busy;
  }

  private start(d: ClaimedDelivery): void {
    const done = this.attempt(d)
      .catch((err: unknown) => this.log.error({ err, delivery_id: d.id }, 'delivery attempt could not be recorded'))
      .finally(() => {
        this.inFlight.delete(d.id);
        if (this.mayHaveMore) {
          this.pump();
        }
      });
    this.inFlight.set(d.id, { channel: d.channel, targetId: d.targetId, done });
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    const attempt: DeliveryAttempt = { id: d.id, eventId: d.eventId, targetId: d.targetId, attempt: d.attempts, timeoutsBefore: d.timeouts };
    const channel = this.channels.get(d.channel);
    const started = performance.now();
    let outcome: AttemptOutcome;
    if (!channel) {
      outcome = { ok: false, status: null, error: 'channel not configured', inactive: true };
    } else {
      try {
        outcome = await channel.send(attempt, d.event);
      } catch (err) {
        this.log.error({ err, delivery_id: d.id }, 'delivery channel failed');
        outcome = { ok: false, status: null, error: 'internal error' };
      }
    }
    const durationMs = performance.now() - started;
    const rec = decide(channel?.nextDelayMs.bind(channel), outcome, attempt, durationMs);
    const recorded = await this.deliveries.recordAttempt(d, rec);
    if (!recorded) {
      return; // dropped (subscription deleted) or the lease was lost to another instance
    }
    this.metrics.deliveryAttempted(d.channel, outcomeLabel(rec, outcome), durationMs / 1000);
    if (channel?.afterAttempt) {
      await channel.afterAttempt(attempt, outcome);
    }
  }

  private async checkLag(): Promise<void> {
    try {
      if (!(await this.migrations.isSchemaCurrent())) {
        return;
      }
      // the gauge of §7; /api/health/ asks the database itself
      this.metrics.outboxOldestPending.set(await this.deliveries.oldestDueSeconds());
    } catch {
      // database away: the health check says so on its own
    }
  }

  /** Event retention (§1): small batches, so it runs alongside full-rate traffic. */
  private async purge(): Promise<void> {
    if (this.purging || this.stopped) {
      return;
    }
    this.purging = true;
    try {
      if (!(await this.migrations.isSchemaCurrent())) {
        return;
      }
      const cutoff = new Date(Date.now() - this.config.events.retentionDays * 86400000);
      let n: number;
      do {
        n = await this.events.purgeBefore(cutoff, PURGE_BATCH);
      } while (n === PURGE_BATCH && !this.stopped);
    } catch (err) {
      this.log.warn({ err }, 'event purge failed; retrying later');
    } finally {
      this.purging = false;
    }
  }

  private every(ms: number, fn: () => unknown): void {
    const t = setInterval(() => void fn(), ms);
    t.unref();
    this.timers.push(t);
  }
}

/** The delivery's new state after an attempt. */
function decide(
  nextDelayMs: ((d: DeliveryAttempt, o: AttemptOutcome) => number | null) | undefined,
  outcome: AttemptOutcome,
  attempt: DeliveryAttempt,
  durationMs: number,
): AttemptRecord {
  const base = { responseStatus: outcome.status, durationMs, timedOut: outcome.timedOut === true };
  if (outcome.ok) {
    return { ...base, status: 'succeeded', error: null, nextAttemptAt: null };
  }
  if (outcome.gone || outcome.inactive || !nextDelayMs) {
    return { ...base, status: 'failed', error: outcome.error, nextAttemptAt: null };
  }
  const delay = nextDelayMs(attempt, outcome);
  if (delay === null) {
    return { ...base, status: 'exhausted', error: outcome.error, nextAttemptAt: null };
  }
  return { ...base, status: 'failed', error: outcome.error, nextAttemptAt: new Date(Date.now() + delay) };
}

function outcomeLabel(rec: AttemptRecord, outcome: AttemptOutcome): string {
  if (rec.status === 'succeeded') {
    return 'succeeded';
  }
  if (outcome.gone) {
    return 'gone';
  }
  if (outcome.error === 'destination not allowed') {
    return 'refused';
  }
  return rec.status === 'exhausted' ? 'exhausted' : 'failed';
}
