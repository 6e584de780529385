import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CarbonLog } from './carbon-log.entity';
import { CarbonStatsCache } from './carbon-stats.cache';

/** Writes carbon logs; every write makes the zone's and the all-zone stats stale (spec §6). */
@Injectable()
export class CarbonLogService {
  constructor(
    private readonly ds: DataSource,
    private readonly cache: CarbonStatsCache,
  ) {}

  async record(zoneId: number, savedAmount: number, at = new Date()): Promise<CarbonLog> {
    const repo = this.ds.getRepository(CarbonLog);
    // one INSERT … RETURNING; save() would wrap it in BEGIN/COMMIT (three round trips)
    const saved = repo.create({ zoneId, savedAmount, timestamp: at });
    // the generated id is merged into `saved`, as a number (database/id.transformer.ts)
    await repo.insert(saved);
    await this.cache.invalidateZone(zoneId);
    return saved;
  }
}
