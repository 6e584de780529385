import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { UNREACHABLE_ID } from '../common/validation';
import { roundHalfEven } from '../detection/rounding';
import { CarbonStatsCache } from './carbon-stats.cache';

export interface CarbonStats {
  summary: { total_saved_all_time: number; average_per_detection: number };
  recent_history: { zone: string; saved: number; date: string }[];
}

const HISTORY_SIZE = 10;

/** `GET /carbon/stats/` (spec §6): totals over one zone or all zones, plus the newest logs. */
@Injectable()
export class CarbonStatsService {
  constructor(
    private readonly ds: DataSource,
    private readonly cache: CarbonStatsCache,
  ) {}

  async stats(zoneId: number | null): Promise<CarbonStats> {
    if (zoneId === UNREACHABLE_ID) {
      return emptyStats(); // an id beyond any real row
    }
    const cached = await this.cache.read<CarbonStats>(zoneId);
    if (cached.value) {
      return cached.value;
    }
    const stats = await this.compute(zoneId);
    await this.cache.fill(zoneId, cached.stamp, stats);
    return stats;
  }

  private async compute(zoneId: number | null): Promise<CarbonStats> {
    const where = zoneId === null ? '' : 'WHERE c.zone_id = $1';
    const params = zoneId === null ? [] : [zoneId];
    const [totals] = (await this.ds.query(
      `SELECT SUM(c.saved_amount) AS total, AVG(c.saved_amount) AS average FROM lims_carbonlog c ${where}`,
      params,
    )) as { total: number | string | null; average: number | string | null }[];
    const rows = (await this.ds.query(
      `SELECT z.name AS zone, c.saved_amount AS saved, c."timestamp" AS ts
         FROM lims_carbonlog c JOIN lims_zone z ON z.id = c.zone_id
         ${where}
        ORDER BY c."timestamp" DESC, c.id DESC
        LIMIT ${HISTORY_SIZE}`,
      params,
    )) as { zone: string; saved: number | string; ts: Date | string }[];
    return {
      summary: {
        total_saved_all_time: roundHalfEven(Number(totals?.total ?? 0), 2),
        average_per_detection: roundHalfEven(Number(totals?.average ?? 0), 2),
      },
      recent_history: rows.map((r) => ({ zone: r.zone, saved: Number(r.saved), date: formatMinute(new Date(r.ts)) })),
    };
  }
}

function emptyStats(): CarbonStats {
  return { summary: { total_saved_all_time: 0, average_per_detection: 0 }, recent_history: [] };
}

/** UTC `YYYY-MM-DD HH:MM`. */
function formatMinute(d: Date): string {
  return d.toISOString().slice(0, 16).replace('T', ' ');
}
