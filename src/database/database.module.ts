import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/config';
import { LOGGER, type AppLogger } from '../common/logger';
import { buildDataSourceOptions } from './data-source-options';
import { MigrationService } from './migration.service';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig, LOGGER],
      useFactory: (config: AppConfig, logger: AppLogger) => ({
        ...buildDataSourceOptions(config, {
          // a dropped idle connection is replaced by the pool; it must never crash the process
          onPoolError: (err) => logger.warn({ err, context: 'DbPool' }, 'idle database connection lost'),
        }),
        retryAttempts: 2,
        retryDelay: 1000,
      }),
    }),
  ],
  providers: [MigrationService],
  exports: [MigrationService],
})
export class DatabaseModule {}
