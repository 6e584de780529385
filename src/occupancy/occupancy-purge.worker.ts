import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { LOGGER, type AppLogger } from '../common/logger';
import { AppConfig } from '../config/config';
import { MigrationService } from '../database/migration.service';
import { OccupancyRepository } from './occupancy.repository';

const PURGE_EVERY_MS = 10 * 60000;
/** until the schema is current at boot (main.ts migrates after the app is created) */
const BOOT_RETRY_MS = 5000;
const BATCH = 5000;
/** delete statements per round and table: a backlog is worked off over several rounds, never in one long burst */
const MAX_STATEMENTS = 40;
const DAY_MS = 86400000;

export interface PurgeResult {
  readings: number;
  rollups: number;
}

/**
 * Retention of ALERTING.md §6 on every instance: raw readings after READING_RETENTION_DAYS,
 * hourly roll-ups after ROLLUP_RETENTION_DAYS. Each statement deletes at most 5 000 rows in its
 * own short transaction (row locks only, no table lock), so it runs while sensors post at full
 * rate; instances purging at once only meet on the same rows, which the later one finds gone.
 */
@Injectable()
export class OccupancyPurgeWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: AppLogger;
  private timers: NodeJS.Timeout[] = [];
  private stopped = true;
  private running: Promise<PurgeResult> | null = null;
  /** a round has run: the boot round is no longer due */
  private ranOnce = false;

  constructor(
    private readonly config: AppConfig,
    private readonly repo: OccupancyRepository,
    private readonly migrations: MigrationService,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'OccupancyPurgeWorker' });
  }

  onApplicationBootstrap(): void {
    this.stopped = false;
    const interval = setInterval(() => void this.purgeQuietly(), PURGE_EVERY_MS);
    interval.unref();
    this.timers.push(interval);
    void this.bootRound();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) {
      clearTimeout(t);
    }
    this.timers = [];
    await this.running?.catch(() => undefined);
  }

  /** One purge round now (after the one under way, if any); what it deleted. */
  async purgeNow(): Promise<PurgeResult> {
    await this.running?.catch(() => undefined);
    this.ranOnce = true;
    this.running ??= this.round().finally(() => (this.running = null));
    return this.running;
  }

  /** Once at boot, as soon as this build's tables exist. */
  private async bootRound(): Promise<void> {
    try {
      if (this.stopped || this.ranOnce) {
        return;
      }
      if (!(await this.migrations.isSchemaCurrent())) {
        const t = setTimeout(() => void this.bootRound(), BOOT_RETRY_MS);
        t.unref();
        this.timers.push(t);
        return;
      }
    } catch {
      // the database is away: the periodic round tries again
      return;
    }
    if (!this.ranOnce) {
      await this.purgeQuietly();
    }
  }

  private async purgeQuietly(): Promise<void> {
    if (this.stopped || this.running) {
      return;
    }
    try {
      if (!(await this.migrations.isSchemaCurrent())) {
        return;
      }
      const r = await this.purgeNow();
      if (r.readings || r.rollups) {
        this.log.info({ readings: r.readings, rollups: r.rollups }, 'purged old readings and roll-ups');
      }
    } catch (err) {
      this.log.warn({ err }, 'occupancy purge failed; retrying later');
    }
  }

  private async round(): Promise<PurgeResult> {
    const now = Date.now();
    const readingCutoff = new Date(now - this.config.occupancy.readingRetentionDays * DAY_MS);
    const rollupCutoff = new Date(now - this.config.occupancy.rollupRetentionDays * DAY_MS);
    let readings = 0;
    for (let i = 0; i < MAX_STATEMENTS && !this.stopped; i++) {
      const n = await this.repo.purgeReadings(readingCutoff, BATCH);
      readings += n;
      if (n < BATCH) {
        break;
      }
    }
    let rollups = 0;
    for (let i = 0; i < MAX_STATEMENTS && !this.stopped; i++) {
      const n = await this.repo.purgeRollups(rollupCutoff, BATCH);
      rollups += n;
      if (n < BATCH) {
        break;
      }
    }
    return { readings, rollups };
  }
}
