import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Change versions for conditional GETs (issue 16, "cheap polling"): one counter per resource a
 * list answer is built from, raised by statement-level triggers in the writing transaction, so a
 * new version becomes visible atomically with the data it stands for (a poll can never cache old
 * data under a new tag), on every instance sharing the database. A list's ETag is derived from
 * these counters (src/common/conditional-get.ts); a matching If-None-Match is answered 304 without
 * reading the list.
 *
 * - `alerts`: lims_alert (UPDATE only OF the columns an alert's JSON shows: the calm span of every
 *   NORMAL detection and the reminder counter must not invalidate the list) and
 *   ecoflow_alert_snapshot (`has_snapshot`; the purge's DELETE counts only when it removed rows).
 * - `sites`: lims_organization, lims_zone, and lims_camera except the liveness columns every
 *   upload writes (last_seen_at, offline_announced: not in an organization's JSON).
 * - `occupancy`: ecoflow_zone_occupancy (the board's latest reading per zone).
 *
 * A column later added to an alert's or camera's JSON must be added to its `UPDATE OF` list here
 * (in a new migration). Counters start at the creation time in ms, so two databases (a recreated
 * one, a test database) do not hand out the same tags for different data.
 */
const ALERT_JSON_COLUMNS = [
  'id', 'heading', 'sub_heading', 'status', 'created_at', 'updated_at', 'zone_id', 'camera_id', 'acknowledged_at', 'acknowledged_by',
  'resolved_at', 'resolved_by', 'resolution', 'peak_people', 'last_people', 'last_detected_at',
];
const CAMERA_JSON_COLUMNS = ['id', 'name', 'is_active', 'zone_id', 'api_key_hash'];

/** [trigger, table, events, resource]; every trigger is FOR EACH STATEMENT. */
const TRIGGERS: [string, string, string, string][] = [
  ['ecoflow_change_alert_trg', 'lims_alert', `INSERT OR DELETE OR TRUNCATE OR UPDATE OF ${ALERT_JSON_COLUMNS.join(', ')}`, 'alerts'],
  ['ecoflow_change_snapshot_trg', 'ecoflow_alert_snapshot', 'INSERT OR UPDATE OR TRUNCATE', 'alerts'],
  ['ecoflow_change_organization_trg', 'lims_organization', 'INSERT OR UPDATE OR DELETE OR TRUNCATE', 'sites'],
  ['ecoflow_change_zone_trg', 'lims_zone', 'INSERT OR UPDATE OR DELETE OR TRUNCATE', 'sites'],
  ['ecoflow_change_camera_trg', 'lims_camera', `INSERT OR DELETE OR TRUNCATE OR UPDATE OF ${CAMERA_JSON_COLUMNS.join(', ')}`, 'sites'],
  ['ecoflow_change_occupancy_trg', 'ecoflow_zone_occupancy', 'INSERT OR UPDATE OR DELETE OR TRUNCATE', 'occupancy'],
];

export class ChangeVersions1764806400000 implements MigrationInterface {
  name = 'ChangeVersions1764806400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS ecoflow_change_version (resource varchar(40) PRIMARY KEY, version bigint NOT NULL)`);
    await q.query(`INSERT INTO ecoflow_change_version (resource, version)
      SELECT r, (extract(epoch FROM clock_timestamp()) * 1000)::bigint FROM unnest(ARRAY['alerts', 'sites', 'occupancy']) AS r
      ON CONFLICT DO NOTHING`);
    await q.query(`CREATE OR REPLACE FUNCTION ecoflow_change_bump() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE ecoflow_change_version SET version = version + 1 WHERE resource = TG_ARGV[0];
        RETURN NULL;
      END $$`);
    // a statement trigger fires for zero rows too: the snapshot purge runs every few minutes
    await q.query(`CREATE OR REPLACE FUNCTION ecoflow_change_bump_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM ecoflow_deleted_rows) THEN
          UPDATE ecoflow_change_version SET version = version + 1 WHERE resource = TG_ARGV[0];
        END IF;
        RETURN NULL;
      END $$`);
    for (const [name, table, events, resource] of TRIGGERS) {
      await q.query(`DROP TRIGGER IF EXISTS ${name} ON ${table}`);
      await q.query(`CREATE TRIGGER ${name} AFTER ${events} ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ecoflow_change_bump('${resource}')`);
    }
    await q.query(`DROP TRIGGER IF EXISTS ecoflow_change_snapshot_del_trg ON ecoflow_alert_snapshot`);
    await q.query(`CREATE TRIGGER ecoflow_change_snapshot_del_trg AFTER DELETE ON ecoflow_alert_snapshot
      REFERENCING OLD TABLE AS ecoflow_deleted_rows FOR EACH STATEMENT EXECUTE FUNCTION ecoflow_change_bump_deleted('alerts')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS ecoflow_change_snapshot_del_trg ON ecoflow_alert_snapshot`);
    for (const [name, table] of TRIGGERS) {
      await q.query(`DROP TRIGGER IF EXISTS ${name} ON ${table}`);
    }
    await q.query(`DROP FUNCTION IF EXISTS ecoflow_change_bump_deleted()`);
    await q.query(`DROP FUNCTION IF EXISTS ecoflow_change_bump()`);
    await q.query(`DROP TABLE IF EXISTS ecoflow_change_version`);
  }
}
