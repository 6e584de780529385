import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Change versions for conditional GETs (issue 16, "cheap polling"): one counter per resource a
 * list answer is built from, raised in the writing transaction, so a new version becomes visible
 * atomically with the data it stands for (a poll can never cache old data under a new tag), on
 * every instance sharing the database.
 *
 * The triggers are deferred constraint triggers: the counter row is locked only at commit, once
 * per transaction and resource (a transaction-local flag), not from the first write on. Every
 * detection writes a reading and many write an alert; a counter row locked for a whole detection
 * transaction (a snapshot's encoding included) would serialize them all. At commit the locks are
 * taken in the order the rows were written: alerts before occupancy, in detections as in a zone's
 * cascading delete, so the two cannot deadlock. Rows not written (INSERT … ON CONFLICT DO NOTHING,
 * a purge that found nothing) fire nothing. A list's ETag is derived from
 * these counters (src/common/conditional-get.ts); a matching If-None-Match is answered 304 without
 * reading the list.
 *
 * - `alerts`: lims_alert (UPDATE only OF the columns an alert's JSON shows: the calm span of every
 *   NORMAL detection and the reminder counter must not invalidate the list) and
 *   ecoflow_alert_snapshot (`has_snapshot`).
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

/** [trigger, table, events, resource]; every one a deferred row-level constraint trigger. */
const TRIGGERS: [string, string, string, string][] = [
  ['ecoflow_change_alert_trg', 'lims_alert', `INSERT OR DELETE OR UPDATE OF ${ALERT_JSON_COLUMNS.join(', ')}`, 'alerts'],
  ['ecoflow_change_snapshot_trg', 'ecoflow_alert_snapshot', 'INSERT OR UPDATE OR DELETE', 'alerts'],
  ['ecoflow_change_organization_trg', 'lims_organization', 'INSERT OR UPDATE OR DELETE', 'sites'],
  ['ecoflow_change_zone_trg', 'lims_zone', 'INSERT OR UPDATE OR DELETE', 'sites'],
  ['ecoflow_change_camera_trg', 'lims_camera', `INSERT OR DELETE OR UPDATE OF ${CAMERA_JSON_COLUMNS.join(', ')}`, 'sites'],
  ['ecoflow_change_occupancy_trg', 'ecoflow_zone_occupancy', 'INSERT OR UPDATE OR DELETE', 'occupancy'],
];

export class ChangeVersions1764806400000 implements MigrationInterface {
  name = 'ChangeVersions1764806400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS ecoflow_change_version (resource varchar(40) PRIMARY KEY, version bigint NOT NULL)`);
    await q.query(`INSERT INTO ecoflow_change_version (resource, version)
      SELECT r, (extract(epoch FROM clock_timestamp()) * 1000)::bigint FROM unnest(ARRAY['alerts', 'sites', 'occupancy']) AS r
      ON CONFLICT DO NOTHING`);
    await q.query(`CREATE OR REPLACE FUNCTION ecoflow_change_bump() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE flag text := 'ecoflow.changed_' || TG_ARGV[0];
      BEGIN
        IF current_setting(flag, true) IS DISTINCT FROM '1' THEN
          UPDATE ecoflow_change_version SET version = version + 1 WHERE resource = TG_ARGV[0];
          PERFORM set_config(flag, '1', true);
        END IF;
        RETURN NULL;
      END $$`);
    for (const [name, table, events, resource] of TRIGGERS) {
      await q.query(`DROP TRIGGER IF EXISTS ${name} ON ${table}`);
      await q.query(`CREATE CONSTRAINT TRIGGER ${name} AFTER ${events} ON ${table}
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ecoflow_change_bump('${resource}')`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [name, table] of TRIGGERS) {
      await q.query(`DROP TRIGGER IF EXISTS ${name} ON ${table}`);
    }
    await q.query(`DROP FUNCTION IF EXISTS ecoflow_change_bump()`);
    await q.query(`DROP TABLE IF EXISTS ecoflow_change_version`);
  }
}
