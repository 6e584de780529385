import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BaseRepository, type Tx } from '../database/unit-of-work';
import { CarbonLog } from './carbon-log.entity';

/** What a new carbon log needs; the id comes from the database. */
export interface NewCarbonLog {
  zoneId: number;
  savedAmount: number;
  timestamp: Date;
}

/** SUM and AVG of `saved_amount`; both 0 when there is no log. */
export interface CarbonTotals {
  total: number;
  average: number;
}

/** A log with its zone's current name, for the stats' recent history. */
export interface RecentCarbonLog {
  zoneName: string;
  savedAmount: number;
  timestamp: Date;
}

// Aggregates and joins come back through the driver untyped: `double precision` is a number on
// PGlite but SUM/AVG can be strings on pg, and a timestamp may be a string on raw queries.
interface TotalsRow {
  total: number | string | null;
  n: number | string | null;
}

interface RecentRow {
  zone: string;
  saved: number | string;
  ts: Date | string;
}

/** Every query of `lims_carbonlog` and its per-zone totals (spec §6, C14). */
@Injectable()
export class CarbonRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  async insert(log: NewCarbonLog, tx?: Tx): Promise<CarbonLog> {
    const repo = this.manager(tx).getRepository(CarbonLog);
    const entity = repo.create(log);
    // one INSERT … RETURNING; save() would wrap it in BEGIN/COMMIT (three round trips). The
    // generated id is merged into `entity` as a number (database/id.transformer.ts).
    await repo.insert(entity);
    return entity;
  }

  /**
   * Over one zone's logs, or over all logs when `zoneId` is null: from the per-zone running totals
   * the `lims_carbonlog` trigger keeps (migration CarbonZoneTotals, C14), one row per zone, never a
   * scan of the logs.
   */
  async totals(zoneId: number | null, tx?: Tx): Promise<CarbonTotals> {
    const [row] = (await this.manager(tx).query(
      `SELECT COALESCE(SUM(amount_sum), 0) AS total, COALESCE(SUM(log_count), 0) AS n FROM ecoflow_carbon_zone_total${zoneId === null ? '' : ' WHERE zone_id = $1'}`,
      zoneId === null ? [] : [zoneId],
    )) as TotalsRow[];
    const total = Number(row?.total ?? 0);
    const n = Number(row?.n ?? 0);
    return { total: n > 0 ? total : 0, average: n > 0 ? total / n : 0 };
  }

  /** The newest logs first (`timestamp DESC, id DESC`), each with its zone's current name. */
  async recent(zoneId: number | null, limit: number, tx?: Tx): Promise<RecentCarbonLog[]> {
    const { where, params } = zoneFilter(zoneId);
    const rows = (await this.manager(tx).query(
      `SELECT z.name AS zone, c.saved_amount AS saved, c."timestamp" AS ts
         FROM lims_carbonlog c JOIN lims_zone z ON z.id = c.zone_id
         ${where}
        ORDER BY c."timestamp" DESC, c.id DESC
        LIMIT $${params.length + 1}`,
      [...params, limit],
    )) as RecentRow[];
    return rows.map((r) => ({ zoneName: r.zone, savedAmount: Number(r.saved), timestamp: r.ts instanceof Date ? r.ts : new Date(r.ts) }));
  }
}

function zoneFilter(zoneId: number | null): { where: string; params: number[] } {
  return zoneId === null ? { where: '', params: [] } : { where: 'WHERE c.zone_id = $1', params: [zoneId] };
}
