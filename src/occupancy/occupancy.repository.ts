import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Page } from '../common/validation';
import { BaseRepository } from '../database/unit-of-work';

/** One zone on the live board: its latest reading (null columns when it has none) and its newest open alert. */
export interface BoardRow {
  zoneId: number;
  zone: string;
  organizationId: number;
  zoneCapacity: number;
  reading: { people: number; capacity: number; status: string; measuredAt: Date; cameraId: number | null } | null;
  openAlertId: number | null;
}

/** One bucket of the history, as aggregated by the database (sums, not averages: exact rounding is the caller's). */
export interface BucketRow {
  start: Date;
  samples: number;
  peopleSum: number;
  maxPeople: number;
  minPeople: number;
}

interface RawBoardRow {
  zone_id: string | number;
  zone: string;
  organization_id: string | number;
  zone_capacity: number;
  people: number | null;
  capacity: number | null;
  status: string | null;
  measured_at: Date | string | null;
  camera_id: string | number | null;
  open_alert_id: string | number | null;
  total: string | number;
}

interface RawBucketRow {
  start: Date | string;
  samples: string | number;
  people_sum: string | number;
  max_people: number;
  min_people: number;
}

const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));
const num = (v: string | number): number => Number(v);

/**
 * Every read of the occupancy tables (ALERTING.md §6) and their purges. The board reads one row
 * per zone (the trigger-maintained latest reading), never the readings themselves; history reads
 * one zone's index range; purges delete in small batches, each its own short statement.
 */
@Injectable()
export class OccupancyRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  /**
   * One page of zones (id ascending) joined to their latest reading and newest open alert; the
   * joins run for the page only, and the total is counted over the zones alone.
   */
  async board(page: Page, filter: { orgId?: number }): Promise<{ items: BoardRow[]; total: number }> {
    const params: unknown[] = [page.limit, page.offset];
    let where = '';
    if (filter.orgId !== undefined) {
      params.push(filter.orgId);
      where = 'WHERE organization_id = $3';
    }
    const rows = await this.rows<RawBoardRow>(
      `SELECT z.id AS zone_id, z.name AS zone, z.organization_id, z.capacity AS zone_capacity, z.total,
              o.people, o.capacity, o.status, o.measured_at, o.camera_id, a.id AS open_alert_id
         FROM (SELECT id, name, organization_id, capacity, count(*) OVER () AS total
                 FROM lims_zone ${where} ORDER BY id LIMIT $1 OFFSET $2) z
         LEFT JOIN ecoflow_zone_occupancy o ON o.zone_id = z.id
         LEFT JOIN LATERAL (SELECT id FROM lims_alert
                             WHERE zone_id = z.id AND status = 'OPEN'
                             ORDER BY created_at DESC, id DESC LIMIT 1) a ON true
        ORDER BY z.id`,
      params,
    );
    let total = rows.length ? num(rows[0].total) : 0;
    if (!rows.length && page.offset > 0) {
      // past the last page: the window count had no row to ride on
      const c = await this.rows<{ n: string | number }>(`SELECT count(*) AS n FROM lims_zone ${where.replace('$3', '$1')}`, params.slice(2));
      total = num(c[0].n);
    }
    const items = rows.map((r): BoardRow => ({
      zoneId: num(r.zone_id),
      zone: r.zone,
      organizationId: num(r.organization_id),
      zoneCapacity: r.zone_capacity,
      reading:
        r.measured_at === null
          ? null
          : {
              people: r.people!,
              capacity: r.capacity!,
              status: r.status!,
              measuredAt: toDate(r.measured_at),
              cameraId: r.camera_id === null ? null : num(r.camera_id),
            },
      openAlertId: r.open_alert_id === null ? null : num(r.open_alert_id),
    }));
    return { items, total };
  }

  /** The zone's current capacity, or null when there is no such zone. */
  async zoneCapacity(zoneId: number): Promise<number | null> {
    const rows = await this.rows<{ capacity: number }>(`SELECT capacity FROM lims_zone WHERE id = $1`, [zoneId]);
    return rows.length ? rows[0].capacity : null;
  }

  /**
   * Raw readings with from ≤ measured_at < to in epoch-aligned buckets of `bucketSeconds`: one
   * range scan of (zone_id, measured_at) INCLUDE (people).
   */
  async rawBuckets(zoneId: number, from: Date, to: Date, bucketSeconds: number): Promise<BucketRow[]> {
    return this.buckets(
      `SELECT date_bin(make_interval(secs => $4), measured_at, '1970-01-01 00:00:00+00') AS start,
              count(*) AS samples, sum(people) AS people_sum, max(people) AS max_people, min(people) AS min_people
         FROM ecoflow_reading
        WHERE zone_id = $1 AND measured_at >= $2 AND measured_at < $3
        GROUP BY 1 ORDER BY 1`,
      [zoneId, from, to, bucketSeconds],
    );
  }

  /** Hourly roll-ups with from ≤ hour < to, merged into epoch-aligned buckets of `bucketSeconds` (a multiple of 3600). */
  async rollupBuckets(zoneId: number, from: Date, to: Date, bucketSeconds: number): Promise<BucketRow[]> {
    return this.buckets(
      `SELECT date_bin(make_interval(secs => $4), hour, '1970-01-01 00:00:00+00') AS start,
              sum(samples) AS samples, sum(people_sum) AS people_sum, max(people_max) AS max_people, min(people_min) AS min_people
         FROM ecoflow_reading_hourly
        WHERE zone_id = $1 AND hour >= $2 AND hour < $3
        GROUP BY 1 ORDER BY 1`,
      [zoneId, from, to, bucketSeconds],
    );
  }

  /**
   * Deletes up to `batch` raw readings measured before `cutoff`, and says how many. Zone by zone
   * along (zone_id, measured_at): when nothing is old this costs one index probe per zone,
   * whatever the size of the table, and old rows are found by time even where ids are out of
   * time order (rows written late with an earlier time).
   */
  async purgeReadings(cutoff: Date, batch: number): Promise<number> {
    return this.deleteCount(
      `DELETE FROM ecoflow_reading WHERE id IN (
         SELECT r.id FROM lims_zone z CROSS JOIN LATERAL (
           SELECT id FROM ecoflow_reading WHERE zone_id = z.id AND measured_at < $1 ORDER BY measured_at LIMIT $2) r
         LIMIT $2)`,
      [cutoff, batch],
    );
  }

  /** Deletes up to `batch` hourly roll-ups of hours before `cutoff` (index on hour), and says how many. */
  async purgeRollups(cutoff: Date, batch: number): Promise<number> {
    return this.deleteCount(
      `DELETE FROM ecoflow_reading_hourly WHERE (zone_id, hour) IN (
         SELECT zone_id, hour FROM ecoflow_reading_hourly WHERE hour < $1 ORDER BY hour LIMIT $2)`,
      [cutoff, batch],
    );
  }

  private async buckets(sql: string, params: unknown[]): Promise<BucketRow[]> {
    const rows = await this.rows<RawBucketRow>(sql, params);
    return rows.map((r) => ({
      start: toDate(r.start),
      samples: num(r.samples),
      peopleSum: num(r.people_sum),
      maxPeople: r.max_people,
      minPeople: r.min_people,
    }));
  }

  private async deleteCount(sql: string, params: unknown[]): Promise<number> {
    const runner = this.ds.createQueryRunner();
    try {
      const result = await runner.query(sql, params, true);
      return result.affected ?? 0;
    } finally {
      await runner.release();
    }
  }
}
