import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/config';
import { LOGGER, type AppLogger } from '../common/logger';
import { pendingMigrations, runMigrations } from './migrator';

/** Runs migrations at startup (unless MIGRATIONS_RUN=false) and answers "is the schema current?". */
@Injectable()
export class MigrationService {
  private current = false;
  private readonly log: AppLogger;

  constructor(
    private readonly ds: DataSource,
    private readonly config: AppConfig,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'Migrations' });
  }

  async migrateOnStartup(): Promise<void> {
    if (!this.config.db.migrationsRun) {
      this.log.info('MIGRATIONS_RUN=false: expecting the deploy step to have migrated');
      await this.isSchemaCurrent();
      return;
    }
    const applied = await runMigrations(this.ds, undefined, { lockTimeoutMs: this.config.db.migrationLockTimeoutMs });
    this.current = true;
    this.log.info({ applied }, applied.length ? 'migrations applied' : 'schema is current');
  }

  /** Cached once true: a running build never sees its own schema go stale. */
  async isSchemaCurrent(): Promise<boolean> {
    if (!this.current) {
      this.current = (await pendingMigrations(this.ds)).length === 0;
    }
    return this.current;
  }
}
