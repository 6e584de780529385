import { Module } from '@nestjs/common';
import { CarbonController } from './carbon.controller';
import { CarbonLogService } from './carbon-log.service';
import { CarbonStatsCache } from './carbon-stats.cache';
import { CarbonStatsService } from './carbon-stats.service';
import { CarbonRepository } from './carbon.repository';

@Module({
  controllers: [CarbonController],
  providers: [CarbonRepository, CarbonStatsCache, CarbonLogService, CarbonStatsService],
  exports: [CarbonStatsCache, CarbonLogService],
})
export class CarbonModule {}
