import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { LOGGER, type AppLogger } from '../common/logger';
import { AppConfig } from '../config/config';
import { MigrationService } from '../database/migration.service';
import { UnitOfWork } from '../database/unit-of-work';
import { EventsService } from '../events/events.service';
import { LivenessRepository } from './liveness.repository';

/** cameras claimed per transaction: the event-id lock is held from the first emit to the commit */
export const SWEEP_BATCH = 100;

/**
 * The offline sweep of ALERTING.md §6/§7, on every instance every LIFECYCLE_SWEEP_INTERVAL: an
 * active camera seen once and silent for CAMERA_OFFLINE_AFTER is claimed by flipping its
 * `offline_announced` flag, and `camera.offline` is emitted in that same transaction, so each
 * transition gives exactly one event across instances (a rolled-back batch leaves neither).
 */
@Injectable()
export class LivenessSweepWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: AppLogger;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = true;

  constructor(
    private readonly config: AppConfig,
    private readonly liveness: LivenessRepository,
    private readonly events: EventsService,
    private readonly uow: UnitOfWork,
    private readonly migrations: MigrationService,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'LivenessSweepWorker' });
  }

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.tick(), this.config.lifecycle.sweepIntervalMs);
    this.timer.unref();
    this.tick();
  }

  /** Stops sweeping and waits for a batch in flight (short: one statement and its events). */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    await this.running;
  }

  /** One sweep at a time on this instance; a tick during a sweep is skipped. */
  private tick(): void {
    if (this.stopped || this.running) {
      return;
    }
    this.running = this.sweep().finally(() => {
      this.running = null;
    });
  }

  /** Claims and announces every due camera, batch by batch. Returns how many were announced. */
  async sweep(): Promise<number> {
    let total = 0;
    try {
      // the app starts before main.ts migrates: no sweep until this build's columns exist
      if (!(await this.migrations.isSchemaCurrent())) {
        return 0;
      }
      let n: number;
      do {
        n = await this.uow.run(async (tx) => {
          const due = await this.liveness.claimOffline(this.config.occupancy.cameraOfflineAfterMs, SWEEP_BATCH, tx);
          for (const t of due) {
            await this.events.emit('camera.offline', t.organizationId, t.data, tx);
          }
          return due.length;
        });
        total += n;
      } while (n === SWEEP_BATCH && !this.stopped);
    } catch (err) {
      // the database is away: the claim rolled back with its events, the next tick tries again
      this.log.warn({ err }, 'camera liveness sweep failed; retrying next interval');
    }
    return total;
  }
}
