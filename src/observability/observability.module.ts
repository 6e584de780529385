import { Global, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { PoolStatsRepository } from '../database/pool-stats.repository';
import { ClusterMetrics } from './cluster-metrics';
import { Metrics } from './metrics.service';
import { OpsController } from './ops.controller';
import { RuntimeMetrics } from './runtime-metrics';

@Global()
@Module({
  imports: [AuthModule],
  controllers: [OpsController],
  providers: [PoolStatsRepository, Metrics, RuntimeMetrics, ClusterMetrics],
  exports: [Metrics],
})
export class ObservabilityModule {}
