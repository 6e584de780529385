import { Module } from '@nestjs/common';
import { CarbonStatsCache } from './carbon-stats.cache';

@Module({
  providers: [CarbonStatsCache],
  exports: [CarbonStatsCache],
})
export class CarbonModule {}
