import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alert lifecycle, snapshots, readings with hourly roll-ups and camera liveness (ALERTING.md
 * §5–6). Only new columns (all nullable or with a default) and new tables, so a Django database
 * and one of the previous release are adopted in place without touching their rows.
 *
 * A row trigger on `ecoflow_reading` keeps the per-zone latest reading (the live board reads one
 * row per zone) and the hourly roll-up (1h/1d history, kept after raw readings are purged) in the
 * same transaction as the reading, and tells every instance about it (NOTIFY, for the stream's
 * `zone.occupancy`).
 */
export class LifecycleAndOccupancy1764720000000 implements MigrationInterface {
  name = 'LifecycleAndOccupancy1764720000000';

  async up(q: QueryRunner): Promise<void> {
    // §5 alert lifecycle. remind_from: existing open alerts are reminded from the upgrade on,
    // not flooded with reminders for the months they have been open.
    await q.query(`ALTER TABLE lims_alert
      ADD COLUMN IF NOT EXISTS acknowledged_at timestamptz NULL,
      ADD COLUMN IF NOT EXISTS acknowledged_by bigint NULL,
      ADD COLUMN IF NOT EXISTS resolved_at timestamptz NULL,
      ADD COLUMN IF NOT EXISTS resolved_by bigint NULL,
      ADD COLUMN IF NOT EXISTS resolution varchar(10) NULL,
      ADD COLUMN IF NOT EXISTS peak_people integer NULL,
      ADD COLUMN IF NOT EXISTS last_people integer NULL,
      ADD COLUMN IF NOT EXISTS last_detected_at timestamptz NULL,
      ADD COLUMN IF NOT EXISTS remind_from timestamptz NOT NULL DEFAULT now(),
      ADD COLUMN IF NOT EXISTS reminders_sent integer NOT NULL DEFAULT 0,
      ADD COLUMN IF NOT EXISTS calm_since timestamptz NULL,
      ADD COLUMN IF NOT EXISTS calm_samples integer NOT NULL DEFAULT 0`);
    await q.query(`CREATE INDEX IF NOT EXISTS lims_alert_remind_due_idx ON lims_alert (remind_from)
      WHERE status = 'OPEN' AND acknowledged_at IS NULL`);

    await q.query(`CREATE TABLE IF NOT EXISTS ecoflow_alert_snapshot (
      alert_id bigint PRIMARY KEY REFERENCES lims_alert (id) ON DELETE CASCADE,
      image bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX IF NOT EXISTS ecoflow_alert_snapshot_created_idx ON ecoflow_alert_snapshot (created_at)`);

    // §6 camera liveness. No index on last_seen_at: every upload writes it, and an index would
    // make each of those writes a non-HOT update; the sweep scans the (small) camera table.
    await q.query(`ALTER TABLE lims_camera
      ADD COLUMN IF NOT EXISTS last_seen_at timestamptz NULL,
      ADD COLUMN IF NOT EXISTS offline_announced boolean NOT NULL DEFAULT false`);

    // §6 readings. camera_id has no foreign key: deleting a camera must not scan or rewrite history.
    await q.query(`CREATE TABLE IF NOT EXISTS ecoflow_reading (
      id bigserial PRIMARY KEY,
      zone_id bigint NOT NULL REFERENCES lims_zone (id) ON DELETE CASCADE,
      camera_id bigint NULL,
      people integer NOT NULL,
      capacity integer NOT NULL,
      status varchar(10) NOT NULL,
      measured_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX IF NOT EXISTS ecoflow_reading_zone_time_idx ON ecoflow_reading (zone_id, measured_at) INCLUDE (people)`);
    await q.query(`CREATE TABLE IF NOT EXISTS ecoflow_zone_occupancy (
      zone_id bigint PRIMARY KEY REFERENCES lims_zone (id) ON DELETE CASCADE,
      camera_id bigint NULL,
      people integer NOT NULL,
      capacity integer NOT NULL,
      status varchar(10) NOT NULL,
      measured_at timestamptz NOT NULL)`);
    await q.query(`CREATE TABLE IF NOT EXISTS ecoflow_reading_hourly (
      zone_id bigint NOT NULL REFERENCES lims_zone (id) ON DELETE CASCADE,
      hour timestamptz NOT NULL,
      samples integer NOT NULL,
      people_sum bigint NOT NULL,
      people_max integer NOT NULL,
      people_min integer NOT NULL,
      PRIMARY KEY (zone_id, hour))`);
    await q.query(`CREATE INDEX IF NOT EXISTS ecoflow_reading_hourly_hour_idx ON ecoflow_reading_hourly (hour)`);
    await q.query(`CREATE OR REPLACE FUNCTION ecoflow_reading_apply() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE org bigint;
      BEGIN
        INSERT INTO ecoflow_zone_occupancy AS o (zone_id, camera_id, people, capacity, status, measured_at)
        VALUES (NEW.zone_id, NEW.camera_id, NEW.people, NEW.capacity, NEW.status, NEW.measured_at)
        ON CONFLICT (zone_id) DO UPDATE SET camera_id = EXCLUDED.camera_id, people = EXCLUDED.people,
          capacity = EXCLUDED.capacity, status = EXCLUDED.status, measured_at = EXCLUDED.measured_at
        WHERE o.measured_at <= EXCLUDED.measured_at;
        INSERT INTO ecoflow_reading_hourly AS h (zone_id, hour, samples, people_sum, people_max, people_min)
        VALUES (NEW.zone_id, date_trunc('hour', NEW.measured_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', 1, NEW.people, NEW.people, NEW.people)
        ON CONFLICT (zone_id, hour) DO UPDATE SET samples = h.samples + 1, people_sum = h.people_sum + EXCLUDED.people_sum,
          people_max = greatest(h.people_max, EXCLUDED.people_max), people_min = least(h.people_min, EXCLUDED.people_min);
        SELECT organization_id INTO org FROM lims_zone WHERE id = NEW.zone_id;
        PERFORM pg_notify('ecoflow_occupancy', json_build_object('zone_id', NEW.zone_id, 'organization_id', org,
          'camera_id', NEW.camera_id, 'people', NEW.people, 'capacity', NEW.capacity, 'status', NEW.status,
          'measured_at', to_char(NEW.measured_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text);
        RETURN NULL;
      END $$`);
    await q.query(`DROP TRIGGER IF EXISTS ecoflow_reading_trg ON ecoflow_reading`);
    await q.query(`CREATE TRIGGER ecoflow_reading_trg AFTER INSERT ON ecoflow_reading FOR EACH ROW EXECUTE FUNCTION ecoflow_reading_apply()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS ecoflow_reading`);
    await q.query(`DROP FUNCTION IF EXISTS ecoflow_reading_apply()`);
    await q.query(`DROP TABLE IF EXISTS ecoflow_reading_hourly`);
    await q.query(`DROP TABLE IF EXISTS ecoflow_zone_occupancy`);
    await q.query(`DROP TABLE IF EXISTS ecoflow_alert_snapshot`);
    await q.query(`ALTER TABLE lims_camera DROP COLUMN IF EXISTS last_seen_at, DROP COLUMN IF EXISTS offline_announced`);
    await q.query(`DROP INDEX IF EXISTS lims_alert_remind_due_idx`);
    await q.query(`ALTER TABLE lims_alert DROP COLUMN IF EXISTS acknowledged_at, DROP COLUMN IF EXISTS acknowledged_by,
      DROP COLUMN IF EXISTS resolved_at, DROP COLUMN IF EXISTS resolved_by, DROP COLUMN IF EXISTS resolution,
      DROP COLUMN IF EXISTS peak_people, DROP COLUMN IF EXISTS last_people, DROP COLUMN IF EXISTS last_detected_at,
      DROP COLUMN IF EXISTS remind_from, DROP COLUMN IF EXISTS reminders_sent, DROP COLUMN IF EXISTS calm_since,
      DROP COLUMN IF EXISTS calm_samples`);
  }
}
