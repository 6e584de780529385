import { Injectable } from '@nestjs/common';
import { UNREACHABLE_ID } from '../common/validation';
import { CarbonStatsCache } from './carbon-stats.cache';
import { CarbonRepository, type RecentCarbonLog } from './carbon.repository';
import { presentCarbonStats, type CarbonStatsDto } from './carbon.presenter';

/** Totals over one zone's logs (or all logs) and the newest logs, unrounded. */
export interface CarbonStats {
  total: number;
  average: number;
  recent: RecentCarbonLog[];
}

const HISTORY_SIZE = 10;

/** `GET /carbon/stats/` (spec §6): totals over one zone or all zones, plus the newest logs. */
@Injectable()
export class CarbonStatsService {
  constructor(
    private readonly logs: CarbonRepository,
    private readonly cache: CarbonStatsCache,
  ) {}

  /**
   * The response body, not the domain object: the cache holds what spec §6 caches under its
   * `carbon_stats:*` keys, which every instance sharing the Redis (of any version) reads back.
   */
  async stats(zoneId: number | null): Promise<CarbonStatsDto> {
    if (zoneId === UNREACHABLE_ID) {
      return presentCarbonStats({ total: 0, average: 0, recent: [] }); // an id beyond any real row
    }
    const cached = await this.cache.read<CarbonStatsDto>(zoneId);
    if (cached.value) {
      return cached.value;
    }
    const stats = presentCarbonStats(await this.compute(zoneId));
    await this.cache.fill(zoneId, cached.stamp, stats);
    return stats;
  }

  // a method of its own: the cache race test holds it between the database read and the fill
  private async compute(zoneId: number | null): Promise<CarbonStats> {
    const totals = await this.logs.totals(zoneId);
    const recent = await this.logs.recent(zoneId, HISTORY_SIZE);
    return { ...totals, recent };
  }
}
