import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../src/database/migrations';
import { pendingMigrations, runMigrations } from '../../src/database/migrator';
import { createTestDatabase, execScript, openDataSource, REAL_POSTGRES, TestDatabase } from '../support/database';

const FIXTURE = readFileSync(join(process.cwd(), 'test/fixtures/django-schema.sql'), 'utf8');

async function tables(ds: DataSource): Promise<string[]> {
  const rows = (await ds.query(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`)) as { tablename: string }[];
  return rows.map((r) => r.tablename);
}

async function indexes(ds: DataSource, table: string): Promise<string[]> {
  const rows = (await ds.query(`SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY 1`, [table])) as { indexname: string }[];
  return rows.map((r) => r.indexname);
}

async function dump(ds: DataSource, table: string, columns: string): Promise<unknown[]> {
  return (await ds.query(`SELECT ${columns} FROM ${table} ORDER BY id`)) as unknown[];
}

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) {
    await c();
  }
});

// Concurrent runs wait on each other's lock (or, embedded, on the one session) for as long as a
// migration takes; on a loaded CI machine that can exceed the 10 s default connect timeout.
const SLOW_OK = { DB_CONNECT_TIMEOUT_MS: '120000' };

async function freshDb(): Promise<{ db: TestDatabase; ds: DataSource }> {
  const db = await createTestDatabase();
  const ds = await openDataSource(db, SLOW_OK);
  cleanups.push(async () => {
    await ds.destroy();
    await db.drop();
  });
  return { db, ds };
}

// every migration: a fresh or adopted database applies them all
const ALL = MIGRATIONS.map((m) => new m().name);

describe('migrations', () => {
  it('create every table, constraint and index on an empty database', async () => {
    const { ds } = await freshDb();
    assert.deepEqual(await pendingMigrations(ds), ALL);
    assert.deepEqual(await runMigrations(ds), ALL);
    assert.deepEqual(await tables(ds), [
      'ecoflow_alert_recipient',
      'ecoflow_alert_snapshot',
      'ecoflow_carbon_zone_total',
      'ecoflow_change_version',
      'ecoflow_delivery',
      'ecoflow_event',
      'ecoflow_reading',
      'ecoflow_reading_hourly',
      'ecoflow_refresh_token',
      'ecoflow_schema_migrations',
      'ecoflow_stream_ticket',
      'ecoflow_webhook',
      'ecoflow_zone_occupancy',
      'lims_alert',
      'lims_camera',
      'lims_carbonlog',
      'lims_notification',
      'lims_organization',
      'lims_user',
      'lims_zone',
    ]);
    const alertIdx = await indexes(ds, 'lims_alert');
    for (const i of ['lims_alert_one_open_uniq', 'lims_alert_zone_id_idx', 'lims_alert_status_created_idx']) {
      assert.ok(alertIdx.includes(i), `${i} in ${alertIdx.join(',')}`);
    }
    assert.deepEqual(await pendingMigrations(ds), []);
  });

  it('are a no-op the second time', async () => {
    const { ds } = await freshDb();
    await runMigrations(ds);
    assert.deepEqual(await runMigrations(ds), []);
    const rows = (await ds.query('SELECT count(*)::int AS n FROM ecoflow_schema_migrations')) as { n: number }[];
    assert.equal(rows[0].n, ALL.length);
  });

  it('enforce one OPEN alert per zone and camera, camera-less alerts keyed per zone', async () => {
    const { ds } = await freshDb();
    await runMigrations(ds);
    await ds.query(`INSERT INTO lims_organization (name, org_type, total_capacity, created_at, updated_at) VALUES ('O', 'T', 0, now(), now())`);
    await ds.query(`INSERT INTO lims_zone (name, zone_type, capacity, organization_id) VALUES ('A', 'T', 10, 1), ('B', 'T', 10, 1)`);
    const ins = (zone: number, camera: number | null, status = 'OPEN'): Promise<unknown> =>
      ds.query(`INSERT INTO lims_alert (heading, status, created_at, updated_at, zone_id, camera_id) VALUES ('h', $1, now(), now(), $2, $3)`, [status, zone, camera]);
    await ins(1, null);
    await ins(2, null); // another zone's camera-less alert is its own key
    await assert.rejects(ins(1, null), /lims_alert_one_open_uniq|duplicate key/);
    await ins(1, null, 'CLOSED');
    const n = (await ds.query(`SELECT count(*)::int AS n FROM lims_alert`)) as { n: number }[];
    assert.equal(n[0].n, 3);
    await assert.rejects(ds.query(`UPDATE lims_zone SET capacity = -1 WHERE id = 1`), /check/i);
  });

  it('adopt a Django-created database keeping every row', async () => {
    const { ds } = await freshDb();
    await execScript(ds, FIXTURE);
    const before = {
      users: await dump(ds, 'lims_user', 'id, password, email, username, role, first_name, is_active, eco_points'),
      orgs: await dump(ds, 'lims_organization', 'id, name, latitude::text, created_at'),
      zones: await dump(ds, 'lims_zone', 'id, name, capacity, organization_id'),
      cameras: await dump(ds, 'lims_camera', 'id, name, is_active, zone_id'),
      alerts: await dump(ds, 'lims_alert', 'id, heading, sub_heading, status, camera_id, created_at'),
      notifications: await dump(ds, 'lims_notification', 'id, title, message'),
      carbon: await dump(ds, 'lims_carbonlog', 'id, saved_amount, zone_id'),
      djangoMigrations: await dump(ds, 'django_migrations', 'id, app, name'),
      groups: await dump(ds, 'lims_user_groups', 'id, user_id, group_id'),
    };
    assert.deepEqual(await runMigrations(ds), ALL);
    const afterRows = {
      users: await dump(ds, 'lims_user', 'id, password, email, username, role, first_name, is_active, eco_points'),
      orgs: await dump(ds, 'lims_organization', 'id, name, latitude::text, created_at'),
      zones: await dump(ds, 'lims_zone', 'id, name, capacity, organization_id'),
      cameras: await dump(ds, 'lims_camera', 'id, name, is_active, zone_id'),
      alerts: await dump(ds, 'lims_alert', 'id, heading, sub_heading, status, camera_id, created_at'),
      notifications: await dump(ds, 'lims_notification', 'id, title, message'),
      carbon: await dump(ds, 'lims_carbonlog', 'id, saved_amount, zone_id'),
      djangoMigrations: await dump(ds, 'django_migrations', 'id, app, name'),
      groups: await dump(ds, 'lims_user_groups', 'id, user_id, group_id'),
    };
    assert.deepEqual(afterRows, before);
    assert.equal(before.alerts.length, 4);
    // legacy alerts keep camera_id and get no zone
    const zones = (await ds.query(`SELECT count(*)::int AS n FROM lims_alert WHERE zone_id IS NOT NULL`)) as { n: number }[];
    assert.equal(zones[0].n, 0);
    // Django's no-action foreign keys became ON DELETE CASCADE
    const fks = (await ds.query(
      `SELECT conname, confdeltype FROM pg_constraint WHERE contype = 'f' AND conrelid = 'lims_alert'::regclass ORDER BY conname`,
    )) as { conname: string; confdeltype: string }[];
    assert.deepEqual(fks, [
      { conname: 'lims_alert_camera_id_fk', confdeltype: 'c' },
      { conname: 'lims_alert_zone_id_fk', confdeltype: 'c' },
    ]);
    // the camera key columns exist, empty
    const keys = (await ds.query(`SELECT count(*)::int AS n FROM lims_camera WHERE api_key_hash IS NULL`)) as { n: number }[];
    assert.equal(keys[0].n, 3);
    // new rows get cascade deletes through the adopted tables
    await ds.query(`DELETE FROM lims_organization WHERE id = 1`);
    const left = (await ds.query(`SELECT (SELECT count(*) FROM lims_zone)::int AS z, (SELECT count(*) FROM lims_alert)::int AS a`)) as { z: number; a: number }[];
    // alert 3 is legacy and camera-less: it belongs to no zone, so nothing cascades to it
    assert.deepEqual(left[0], { z: 1, a: 1 });
    assert.deepEqual(await runMigrations(ds), [], 'adoption is recorded');
  });

  it('adopt a database of the previous release keeping every row; alerts and cameras get the lifecycle columns', async () => {
    const { ds } = await freshDb();
    // the release before the lifecycle one: every migration older than it
    const previous = MIGRATIONS.slice(0, ALL.indexOf('LifecycleAndOccupancy1764720000000'));
    assert.ok(previous.length > 0);
    await runMigrations(ds, previous);
    await ds.query(`INSERT INTO lims_organization (name, org_type, total_capacity, created_at, updated_at) VALUES ('O', 'T', 0, now(), now())`);
    await ds.query(`INSERT INTO lims_zone (name, zone_type, capacity, organization_id) VALUES ('Z', 'T', 10, (SELECT min(id) FROM lims_organization))`);
    await ds.query(`INSERT INTO lims_camera (name, is_active, created_at, zone_id) VALUES ('C', true, now(), (SELECT min(id) FROM lims_zone))`);
    await ds.query(
      `INSERT INTO lims_alert (heading, sub_heading, status, created_at, updated_at, zone_id, camera_id)
       SELECT 'h' || g, 's', CASE WHEN g = 1 THEN 'OPEN' ELSE 'CLOSED' END, now() - g * interval '1 day', now(), (SELECT min(id) FROM lims_zone), CASE WHEN g < 3 THEN (SELECT min(id) FROM lims_camera) END
       FROM generate_series(1, 4) g`,
    );
    await ds.query(`INSERT INTO ecoflow_event (type, organization_id, data, created_at) VALUES ('alert.opened', NULL, '{}', now())`);
    const before = {
      alerts: await dump(ds, 'lims_alert', 'id, heading, sub_heading, status, zone_id, camera_id, created_at, updated_at'),
      cameras: await dump(ds, 'lims_camera', 'id, name, is_active, zone_id, api_key_hash'),
      events: await dump(ds, 'ecoflow_event', 'id, type, data'),
    };
    assert.deepEqual(await runMigrations(ds), ALL.slice(previous.length));
    assert.deepEqual(
      {
        alerts: await dump(ds, 'lims_alert', 'id, heading, sub_heading, status, zone_id, camera_id, created_at, updated_at'),
        cameras: await dump(ds, 'lims_camera', 'id, name, is_active, zone_id, api_key_hash'),
        events: await dump(ds, 'ecoflow_event', 'id, type, data'),
      },
      before,
    );
    const lifecycle = (await ds.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE reminders_sent = 0 AND remind_from > now() - interval '1 hour'
         AND acknowledged_at IS NULL AND resolution IS NULL AND peak_people IS NULL AND calm_since IS NULL)::int AS fresh FROM lims_alert`,
    )) as { n: number; fresh: number }[];
    assert.deepEqual(lifecycle[0], { n: 4, fresh: 4 }, 'existing alerts are reminded from the upgrade on, not for the days they were open');
    const cams = (await ds.query(`SELECT last_seen_at, offline_announced FROM lims_camera`)) as unknown[];
    assert.deepEqual(cams, [{ last_seen_at: null, offline_announced: false }], 'a camera never seen is never announced offline');
    const versions = (await ds.query(`SELECT resource FROM ecoflow_change_version ORDER BY resource`)) as { resource: string }[];
    assert.deepEqual(versions.map((v) => v.resource), ['alerts', 'occupancy', 'sites']);
    assert.deepEqual(await runMigrations(ds), []);
  });

  it('stop before any change when emails collide case-insensitively', async () => {
    const { ds } = await freshDb();
    await execScript(ds, FIXTURE);
    await ds.query(
      `INSERT INTO lims_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined, role, eco_points)
       VALUES ('x', false, 'dup', '', '', 'ADMIN@ecoflow.example', false, true, now(), 'USER', 0)`,
    );
    await assert.rejects(runMigrations(ds), /collide case-insensitively.*admin@ecoflow\.example, ADMIN@ecoflow\.example/);
    const t = await tables(ds);
    assert.ok(!t.includes('ecoflow_refresh_token'), 'nothing was created');
    const cols = (await ds.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'lims_alert' AND column_name = 'zone_id'`)) as unknown[];
    assert.equal(cols.length, 0);
  });

  it('serialize concurrent runs from several instances with an advisory lock', async () => {
    const { db, ds } = await freshDb();
    // with real Postgres a second DataSource is a second "instance" (its own pool); the embedded
    // database lives in one process, so there the runs share it and contend for its session
    const other = REAL_POSTGRES ? await openDataSource(db, SLOW_OK) : ds;
    if (other !== ds) {
      cleanups.push(async () => other.destroy());
    }
    const results = await Promise.all([runMigrations(ds), runMigrations(other), runMigrations(ds)]);
    const applied = results.flat();
    assert.deepEqual(applied, ALL, 'exactly one run applied each migration');
    assert.deepEqual(await pendingMigrations(other), []);
  });

  it('uses real PostgreSQL in this pass when TEST_DATABASE_URL is set', async () => {
    const { ds } = await freshDb();
    const v = (await ds.query('SELECT version() AS v')) as { v: string }[];
    assert.match(v[0].v, /PostgreSQL/);
    assert.equal(ds.options.type, 'postgres');
    assert.equal(Boolean((ds.options as { driver?: unknown }).driver), !REAL_POSTGRES);
  });
});
