import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BaseRepository } from './unit-of-work';

/** The resources of `ecoflow_change_version` (migration 1764806400000). */
export type ChangeResource = 'alerts' | 'sites' | 'occupancy';

/** What a list's ETag is derived from: resource → version, plus the board's staleness marker. */
export type ChangeVersions = Record<string, string | null>;

/**
 * Reads the change versions the triggers of migration 1764806400000 keep, in one query (one
 * round trip per conditional GET, whatever the list).
 */
@Injectable()
export class ChangeVersionsRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  /**
   * `staleBefore` (the board): also `stale`, the newest latest-reading time before it, read in
   * the same statement (so the same snapshot) as the versions. With the versions unchanged, the
   * set of zones whose reading is older than `staleBefore` (shown STALE) grows with time only,
   * and this maximum names it exactly: it changes exactly when one more zone turns STALE.
   */
  async read(resources: readonly ChangeResource[], staleBefore?: Date): Promise<ChangeVersions> {
    const versions = `SELECT resource::text AS resource, version::text AS version FROM ecoflow_change_version WHERE resource = ANY($1::text[])`;
    const sql = staleBefore
      ? `${versions} UNION ALL
         SELECT 'stale', to_char(max(measured_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') FROM ecoflow_zone_occupancy WHERE measured_at < $2::timestamptz`
      : versions;
    const rows = await this.rows<{ resource: string; version: string | null }>(sql, staleBefore ? [resources, staleBefore] : [resources]);
    const out: ChangeVersions = {};
    for (const r of rows) {
      out[r.resource] = r.version;
    }
    return out;
  }
}
