import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { LOGGER, type AppLogger } from '../common/logger';
import { AppConfig } from '../config/config';
import { MigrationService } from '../database/migration.service';
import { UnitOfWork } from '../database/unit-of-work';
import { EventsService } from '../events/events.service';
import { AlertsRepository } from './alerts.repository';
import { SnapshotsRepository } from './snapshots.repository';

const REMINDER_BATCH = 100;
const PURGE_EVERY_MS = 10 * 60000;
/** snapshots are images: few per statement */
const SNAPSHOT_PURGE_BATCH = 50;

/**
 * Alert reminders (ALERTING.md §5, §7) and the snapshot purge, on every instance. Every
 * `LIFECYCLE_SWEEP_INTERVAL` one transaction claims the due reminders (AlertsRepository.
 * claimDueReminders: the row update is the claim) and writes their events, so each reminder
 * number is emitted exactly once across instances, within a sweep interval of being due.
 */
@Injectable()
export class ReminderWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: AppLogger;
  private timers: NodeJS.Timeout[] = [];
  private stopped = true;
  private sweeping = false;
  private purging = false;

  constructor(
    private readonly config: AppConfig,
    private readonly alerts: AlertsRepository,
    private readonly snapshots: SnapshotsRepository,
    private readonly events: EventsService,
    private readonly uow: UnitOfWork,
    private readonly migrations: MigrationService,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'ReminderWorker' });
  }

  onApplicationBootstrap(): void {
    this.stopped = false;
    if (this.config.lifecycle.remindEveryMs > 0 && this.config.lifecycle.remindMax > 0) {
      this.every(this.config.lifecycle.sweepIntervalMs, () => this.sweep());
    }
    this.every(PURGE_EVERY_MS, () => this.purgeSnapshots());
    void this.purgeSnapshots();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    for (const t of this.timers) {
      clearInterval(t);
    }
    this.timers = [];
  }

  /** Emits every reminder due now; the number emitted. */
  async sweep(): Promise<number> {
    if (this.sweeping || this.stopped) {
      return 0;
    }
    this.sweeping = true;
    let emitted = 0;
    try {
      if (!(await this.migrations.isSchemaCurrent())) {
        return 0;
      }
      const { remindEveryMs, remindMax } = this.config.lifecycle;
      let claimed: number;
      do {
        claimed = await this.uow.run(async (tx) => {
          const due = await this.alerts.claimDueReminders(remindEveryMs, remindMax, REMINDER_BATCH, tx);
          // one event per reminder number: after a pause (no instance running) the missed ones
          // are all told, numbered, rather than silently skipped
          for (const { alert, from, to } of due) {
            for (let n = from; n <= to; n += 1) {
              // null for an adopted alert without a zone: nothing to say where (events.service.ts)
              if (await this.events.emitAlert('alert.reminder', alert, { reminder: n }, tx)) {
                emitted += 1;
              }
            }
          }
          return due.length;
        });
      } while (claimed === REMINDER_BATCH && !this.stopped);
    } catch (err) {
      this.log.warn({ err }, 'reminder sweep failed; retrying at the next one');
    } finally {
      this.sweeping = false;
    }
    return emitted;
  }

  /** Snapshots past SNAPSHOT_RETENTION_DAYS (all of them when it is 0), in small batches. */
  async purgeSnapshots(): Promise<number> {
    if (this.purging || this.stopped) {
      return 0;
    }
    this.purging = true;
    let total = 0;
    try {
      if (!(await this.migrations.isSchemaCurrent())) {
        return 0;
      }
      const cutoff = new Date(Date.now() - this.config.lifecycle.snapshotRetentionDays * 86400000);
      let n: number;
      do {
        n = await this.snapshots.purgeOlderThan(cutoff, SNAPSHOT_PURGE_BATCH);
        total += n;
      } while (n === SNAPSHOT_PURGE_BATCH && !this.stopped);
    } catch (err) {
      this.log.warn({ err }, 'snapshot purge failed; retrying later');
    } finally {
      this.purging = false;
    }
    return total;
  }

  private every(ms: number, fn: () => unknown): void {
    const t = setInterval(() => void fn(), ms);
    t.unref();
    this.timers.push(t);
  }
}
