import { Controller, Get, Query } from '@nestjs/common';
import { parseOptionalIdQuery } from '../common/validation';
import type { CarbonStatsDto } from './carbon.presenter';
import { CarbonStatsService } from './carbon-stats.service';

@Controller('carbon')
export class CarbonController {
  constructor(private readonly stats: CarbonStatsService) {}

  /** Any signed-in user (the global guard); `?zone_id=` optional. */
  @Get('stats')
  get(@Query() query: Record<string, unknown>): Promise<CarbonStatsDto> {
    return this.stats.stats(parseOptionalIdQuery(query, 'zone_id') ?? null);
  }
}
