import type { Client } from 'pg';

/**
 * Bulk data for the occupancy/carbon read benchmarks (issue #15), written straight into a
 * migrated, otherwise empty bench database with `generate_series`, in minutes instead of the
 * hours the API would take:
 *
 * - `zones` zones (capacity 10) of one organization, one camera each;
 * - `readings` rows in `ecoflow_reading` over the last `days` days (ending now): `hotZones`
 *   zones get one reading every 2 s (43 200 in any 24 h), the rest share the remainder evenly;
 * - the per-zone latest reading (`ecoflow_zone_occupancy`, DISTINCT ON) and the hourly roll-ups
 *   (`ecoflow_reading_hourly`, GROUP BY) the `ecoflow_reading` trigger would have written;
 * - `openAlerts` open and `closedAlerts` closed alerts (the board joins the newest open one);
 * - `carbonLogs` rows in `lims_carbonlog`, spread over all zones and the past year, and the
 *   per-zone totals rebuilt with the backfill statement of migration CarbonZoneTotals (C14).
 *
 * The session runs with `session_replication_role = replica`: the row triggers
 * (`ecoflow_reading_trg`, `ecoflow_carbon_total_trg`) and the foreign-key checks are skipped for
 * this connection only (the service's own connections keep them), so nothing has to be disabled
 * and re-enabled table-wide. The big tables' secondary indexes are dropped before the insert and
 * re-created afterwards from their own definitions (`pg_get_indexdef`): a sorted build is much
 * faster than 10–20 M index insertions. VACUUM ANALYZE at the end sets the visibility map (index-only
 * scans) and the statistics, so autovacuum does not start in the middle of a measurement.
 */
export interface BulkOptions {
  organizationId: number;
  zones: number;
  hotZones: number;
  readings: number;
  days: number;
  carbonLogs: number;
  openAlerts: number;
  closedAlerts: number;
}

export interface BulkResult {
  zoneIds: number[];
  hotZoneIds: number[];
  seconds: Record<string, number>;
  rows: Record<string, number>;
  sizes_mb: Record<string, number>;
}

const HOT_SPACING_S = 2;

export async function loadBulkData(c: Client, o: BulkOptions, log: (m: string) => void = console.log): Promise<BulkResult> {
  const seconds: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    log(`bulk: ${name} …`);
    const r = await f();
    seconds[name] = Math.round((performance.now() - t0) / 100) / 10;
    return r;
  };
  await c.query(`SET session_replication_role = replica`);
  await c.query(`SET synchronous_commit = off`);
  await c.query(`SET maintenance_work_mem = '512MB'`);

  const zoneIds = await timed('zones and cameras', async () => {
    const z = await c.query<{ id: string }>(
      `INSERT INTO lims_zone (name, zone_type, capacity, organization_id)
       SELECT 'Zone ' || g, 'ROOM', 10, $1 FROM generate_series(1, $2) g RETURNING id`,
      [o.organizationId, o.zones],
    );
    await c.query(
      `INSERT INTO lims_camera (name, is_active, created_at, zone_id)
       SELECT 'Cam ' || z.id, true, now(), z.id FROM lims_zone z WHERE z.organization_id = $1 ORDER BY z.id`,
      [o.organizationId],
    );
    return z.rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  });
  const hotZoneIds = zoneIds.slice(0, o.hotZones);
  const coldZoneIds = zoneIds.slice(o.hotZones);

  // carbon first: the readings end "now", and the 24 h window queried later should still be full
  await withoutSecondaryIndexes(c, 'lims_carbonlog', timed, async () => {
    await timed('carbon logs', () =>
      c.query(
        `INSERT INTO lims_carbonlog (saved_amount, "timestamp", zone_id)
         SELECT round((random() * 2)::numeric, 4)::float8,
                now() - make_interval(secs => g * $3::float8),
                ($1::bigint[])[1 + g % $2]
           FROM generate_series(0, $4 - 1) g`,
        [zoneIds, zoneIds.length, (365 * 86400) / Math.max(1, o.carbonLogs), o.carbonLogs],
      ),
    );
  });
  await timed('carbon zone totals (the C14 backfill)', () =>
    c.query(`INSERT INTO ecoflow_carbon_zone_total (zone_id, log_count, amount_sum)
      SELECT zone_id, count(*), sum(saved_amount) FROM lims_carbonlog GROUP BY zone_id
      ON CONFLICT (zone_id) DO UPDATE SET log_count = EXCLUDED.log_count, amount_sum = EXCLUDED.amount_sum`),
  );

  const spanS = o.days * 86400 - 3600; // an hour inside the retention, so no purge round starts on it mid-run
  const hotPerZone = Math.floor(spanS / HOT_SPACING_S);
  const hotRows = Math.min(o.readings, hotPerZone * hotZoneIds.length);
  const coldRows = o.readings - hotRows;
  await withoutSecondaryIndexes(c, 'ecoflow_reading', timed, async () => {
    await timed('readings (hot zones, one per 2 s)', () =>
      c.query(
        `INSERT INTO ecoflow_reading (zone_id, camera_id, people, capacity, status, measured_at)
         SELECT z.zone_id, cam.id, p.people, 10, CASE WHEN p.people >= 9 THEN 'DANGER' ELSE 'NORMAL' END,
                now() - make_interval(secs => g * ${HOT_SPACING_S})
           FROM unnest($1::bigint[]) AS z(zone_id)
           JOIN lims_camera cam ON cam.zone_id = z.zone_id
          CROSS JOIN generate_series(0, $2 - 1) g
          CROSS JOIN LATERAL (SELECT ((g * 7 + z.zone_id) % 11)::int AS people) p`,
        [hotZoneIds, Math.floor(hotRows / Math.max(1, hotZoneIds.length))],
      ),
    );
    if (coldRows > 0 && coldZoneIds.length) {
      const camOffset = await cameraOffset(c);
      await timed('readings (other zones)', () =>
        c.query(
          `INSERT INTO ecoflow_reading (zone_id, camera_id, people, capacity, status, measured_at)
           SELECT z, z + $4, p, 10, CASE WHEN p >= 9 THEN 'DANGER' ELSE 'NORMAL' END,
                  now() - make_interval(secs => g * $3::float8)
             FROM generate_series(0, $2 - 1) g
            CROSS JOIN LATERAL (SELECT ($1::bigint[])[1 + g % cardinality($1::bigint[])] AS z, ((g * 7) % 11)::int AS p) x`,
          [coldZoneIds, coldRows, spanS / coldRows, camOffset],
        ),
      );
    }
  });
  await timed('latest reading per zone (DISTINCT ON)', () =>
    c.query(`INSERT INTO ecoflow_zone_occupancy (zone_id, camera_id, people, capacity, status, measured_at)
      SELECT DISTINCT ON (zone_id) zone_id, camera_id, people, capacity, status, measured_at
        FROM ecoflow_reading ORDER BY zone_id, measured_at DESC`),
  );
  await timed('hourly roll-ups (GROUP BY)', () =>
    c.query(`INSERT INTO ecoflow_reading_hourly (zone_id, hour, samples, people_sum, people_max, people_min)
      SELECT zone_id, date_trunc('hour', measured_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', count(*), sum(people), max(people), min(people)
        FROM ecoflow_reading GROUP BY 1, 2`),
  );
  await timed('alerts', async () => {
    await c.query(
      `INSERT INTO lims_alert (heading, sub_heading, status, created_at, updated_at, zone_id)
       SELECT 'Overcrowding in Zone ' || z, 'Detected 9/10 people.', 'CLOSED', now() - make_interval(secs => g * 60), now(), z
         FROM generate_series(0, $2 - 1) g CROSS JOIN LATERAL (SELECT ($1::bigint[])[1 + g % cardinality($1::bigint[])] AS z) x`,
      [zoneIds, o.closedAlerts],
    );
    await c.query(
      `INSERT INTO lims_alert (heading, sub_heading, status, created_at, updated_at, zone_id)
       SELECT 'Overcrowding in Zone ' || z, 'Detected 9/10 people.', 'OPEN', now(), now(), z
         FROM unnest($1::bigint[]) z`,
      [zoneIds.filter((_, i) => i % Math.max(1, Math.floor(zoneIds.length / Math.max(1, o.openAlerts))) === 0).slice(0, o.openAlerts)],
    );
  });
  await c.query(`RESET session_replication_role`);
  for (const t of ['lims_carbonlog', 'ecoflow_carbon_zone_total', 'ecoflow_reading', 'ecoflow_reading_hourly', 'ecoflow_zone_occupancy', 'lims_alert', 'lims_zone', 'lims_camera']) {
    await timed(`VACUUM ANALYZE ${t}`, () => c.query(`VACUUM (ANALYZE) ${t}`));
  }
  const rows: Record<string, number> = {};
  const sizes: Record<string, number> = {};
  for (const t of ['lims_carbonlog', 'ecoflow_reading', 'ecoflow_reading_hourly', 'ecoflow_zone_occupancy', 'lims_alert', 'lims_zone']) {
    const r = await c.query<{ n: string; mb: string }>(`SELECT count(*) AS n, pg_total_relation_size('${t}') / 1048576.0 AS mb FROM ${t}`);
    rows[t] = Number(r.rows[0].n);
    sizes[t] = Math.round(Number(r.rows[0].mb));
  }
  return { zoneIds, hotZoneIds, seconds, rows, sizes_mb: sizes };
}

/** Cameras were inserted in zone order right after the zones, so camera id = zone id + a constant. */
async function cameraOffset(c: Client): Promise<number> {
  const r = await c.query<{ d: string; n: string }>(`SELECT min(id - zone_id) AS d, count(DISTINCT id - zone_id) AS n FROM lims_camera`);
  if (Number(r.rows[0].n) !== 1) {
    throw new Error('bulk: camera ids are not zone ids plus a constant');
  }
  return Number(r.rows[0].d);
}

/** Drops the table's indexes other than its primary key around `f`, then builds them again from their own definitions. */
async function withoutSecondaryIndexes(
  c: Client,
  table: string,
  timed: <T>(name: string, f: () => Promise<T>) => Promise<T>,
  f: () => Promise<void>,
): Promise<void> {
  const r = await c.query<{ name: string; def: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
      FROM pg_index i
      WHERE i.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`,
    [table],
  );
  for (const ix of r.rows) {
    await c.query(`DROP INDEX ${ix.name}`);
  }
  await f();
  for (const ix of r.rows) {
    await timed(`index ${ix.name}`, () => c.query(ix.def));
  }
}
