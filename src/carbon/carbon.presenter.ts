import { roundHalfEven } from '../detection/rounding';
import type { CarbonStats } from './carbon-stats.service';

/** The body of `GET /carbon/stats/` (spec §6). */
export interface CarbonStatsDto {
  summary: { total_saved_all_time: number; average_per_detection: number };
  recent_history: { zone: string; saved: number; date: string }[];
}

/** Totals rounded half to even at 2 decimals; history amounts unrounded, dates to the minute. */
export function presentCarbonStats(stats: CarbonStats): CarbonStatsDto {
  return {
    summary: {
      total_saved_all_time: roundHalfEven(stats.total, 2),
      average_per_detection: roundHalfEven(stats.average, 2),
    },
    recent_history: stats.recent.map((r) => ({ zone: r.zoneName, saved: r.savedAmount, date: formatMinute(r.timestamp) })),
  };
}

/** UTC `YYYY-MM-DD HH:MM`. */
function formatMinute(d: Date): string {
  return d.toISOString().slice(0, 16).replace('T', ' ');
}
