import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../src/database/migrations';
import { runMigrations } from '../../src/database/migrator';
import { createTestDatabase, openDataSource, REAL_POSTGRES } from '../support/database';
import { createSite } from '../support/sensor';
import { startTestApp, type TestApp } from '../support/test-app';

interface Totals {
  zone_id: number;
  n: number;
  sum: number;
}

/** The reference: what a scan of the logs says, per zone. */
async function scanned(ds: DataSource): Promise<Totals[]> {
  return (await ds.query(`SELECT zone_id::int AS zone_id, count(*)::int AS n, sum(saved_amount) AS sum FROM lims_carbonlog GROUP BY zone_id ORDER BY zone_id`)) as Totals[];
}

/** What the running totals say, per zone with logs. */
async function running(ds: DataSource): Promise<Totals[]> {
  return (await ds.query(`SELECT zone_id::int AS zone_id, log_count::int AS n, amount_sum AS sum FROM ecoflow_carbon_zone_total WHERE log_count > 0 ORDER BY zone_id`)) as Totals[];
}

function assertSame(a: Totals[], b: Totals[]): void {
  assert.deepEqual(a.map((r) => [r.zone_id, r.n]), b.map((r) => [r.zone_id, r.n]));
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(Number(a[i].sum) - Number(b[i].sum)) < 1e-9, `zone ${a[i].zone_id}: ${a[i].sum} vs ${b[i].sum}`);
  }
}

const insertLogs = (ds: DataSource, zoneId: number, amounts: number[]): Promise<unknown> =>
  ds.query(`INSERT INTO lims_carbonlog (saved_amount, "timestamp", zone_id) SELECT a, now(), $1 FROM unnest($2::float8[]) a`, [zoneId, amounts]);

/** C14: /carbon/stats/ totals from per-zone running totals, exact for every write path. */
describe('carbon running totals (C14)', () => {
  const apps: TestApp[] = [];
  after(async () => {
    for (const t of apps) {
      await t.close();
    }
  });

  it('follow inserts, deletes, corrections and a zone delete exactly; /carbon/stats/ reads them with the same answer', async () => {
    const t = await startTestApp();
    apps.push(t);
    const [a, b, c] = await Promise.all([createSite(t), createSite(t), createSite(t)]);
    await insertLogs(t.ds, a.zone.id, [1.25, 0.5, 2]);
    await insertLogs(t.ds, b.zone.id, [0.333, 0.667, 1.1, 4.9]);
    await insertLogs(t.ds, c.zone.id, [7]);
    assertSame(await running(t.ds), await scanned(t.ds));
    await t.ds.query(`DELETE FROM lims_carbonlog WHERE zone_id = $1 AND saved_amount = 0.5`, [a.zone.id]);
    await t.ds.query(`UPDATE lims_carbonlog SET saved_amount = 3 WHERE zone_id = $1 AND saved_amount = 4.9`, [b.zone.id]);
    await t.ds.query(`UPDATE lims_carbonlog SET zone_id = $1 WHERE zone_id = $2`, [a.zone.id, c.zone.id]); // moved between zones
    assertSame(await running(t.ds), await scanned(t.ds));
    const admin = (await t.admin()).token;
    assert.equal((await t.request('DELETE', `/zones/${b.zone.id}/`, { token: admin })).status, 204);
    assertSame(await running(t.ds), await scanned(t.ds));
    const rows = (await t.ds.query('SELECT count(*)::int AS n FROM ecoflow_carbon_zone_total WHERE zone_id = $1', [b.zone.id])) as { n: number }[];
    assert.equal(rows[0].n, 0, 'the deleted zone has no total left');

    const all = await t.request('GET', '/carbon/stats/', { token: admin });
    const one = await t.request('GET', `/carbon/stats/?zone_id=${a.zone.id}`, { token: admin });
    // zone a: 1.25 + 2 (+ 7 moved from c) = 10.25 over 3 logs
    assert.deepEqual(one.body.summary, { total_saved_all_time: 10.25, average_per_detection: 3.42 });
    assert.deepEqual(all.body.summary, { total_saved_all_time: 10.25, average_per_detection: 3.42 });
  });

  it('sum the logs of an earlier database once when the migration runs (adopted or previous release)', async () => {
    const db = await createTestDatabase();
    const ds = await openDataSource(db);
    try {
      await runMigrations(ds, MIGRATIONS.slice(0, 2)); // the previous release's schema
      await ds.query(`INSERT INTO lims_organization (name, org_type, total_capacity, created_at, updated_at) VALUES ('O', 'T', 0, now(), now())`);
      const zones = (await ds.query(`INSERT INTO lims_zone (name, zone_type, capacity, organization_id) SELECT 'Z' || g, 'T', 10, (SELECT min(id) FROM lims_organization) FROM generate_series(1, 5) g RETURNING id`)) as { id: number }[];
      for (const [i, z] of zones.entries()) {
        await insertLogs(ds, Number(z.id), Array.from({ length: 50 + i * 7 }, (_, k) => (k % 13) / 7));
      }
      const before = await scanned(ds);
      assert.deepEqual(await runMigrations(ds, MIGRATIONS.slice(0, 3)), ['CarbonZoneTotals1764633602000']);
      assertSame(await running(ds), before);
      assert.deepEqual(await runMigrations(ds, MIGRATIONS.slice(0, 3)), [], 'a no-op the second time');
      assertSame(await running(ds), before);
    } finally {
      await ds.destroy();
      await db.drop();
    }
  });

  it(`stay exact under ${REAL_POSTGRES ? '200 concurrent inserts on a real server' : 'many inserts (PGlite runs them one at a time)'}`, async () => {
    const t = await startTestApp();
    apps.push(t);
    const sites = await Promise.all([1, 2, 3, 4].map(() => createSite(t)));
    await Promise.all(Array.from({ length: 200 }, (_, i) => insertLogs(t.ds, sites[i % 4].zone.id, [(i % 10) / 4])));
    assertSame(await running(t.ds), await scanned(t.ds));
    assert.equal((await running(t.ds)).reduce((n, r) => n + r.n, 0), 200);
  });
});
