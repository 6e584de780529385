import { Global, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { PoolStatsRepository } from '../database/pool-stats.repository';
import { Metrics } from './metrics.service';
import { OpsController } from './ops.controller';
import { RuntimeMetrics } from './runtime-metrics';

@Global()
@Module({
  imports: [AuthModule],
  controllers: [OpsController],
  providers: [PoolStatsRepository, Metrics, RuntimeMetrics],
  exports: [Metrics],
})
export class ObservabilityModule {}
