import { Injectable } from '@nestjs/common';
import { CarbonLog } from './carbon-log.entity';
import { CarbonStatsCache } from './carbon-stats.cache';
import { CarbonRepository } from './carbon.repository';

/** Writes carbon logs; every write makes the zone's and the all-zone stats stale (spec §6). */
@Injectable()
export class CarbonLogService {
  constructor(
    private readonly logs: CarbonRepository,
    private readonly cache: CarbonStatsCache,
  ) {}

  async record(zoneId: number, savedAmount: number, at = new Date()): Promise<CarbonLog> {
    const saved = await this.logs.insert({ zoneId, savedAmount, timestamp: at });
    // after the commit, so a stats read cannot cache figures without this log (carbon-stats.cache.ts)
    await this.cache.invalidateZone(zoneId);
    return saved;
  }
}
