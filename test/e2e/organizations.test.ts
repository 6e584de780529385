import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CarbonStatsCache } from '../../src/carbon/carbon-stats.cache';
import { startTestApp, TestApp } from '../support/test-app';

describe('organizations', () => {
  let t: TestApp;
  let admin: string;
  let user: string;

  before(async () => {
    t = await startTestApp();
    admin = (await t.admin()).token;
    user = (await t.operator()).token;
  });
  after(async () => t.close());

  const post = (path: string, body: unknown): Promise<any> => t.create(path, body);

  it('creates an organization and answers the spec shape with zones: []', async () => {
    const r = await t.request('POST', '/organizations/', {
      token: admin,
      body: { name: 'Central Library', org_type: 'LIBRARY', total_capacity: 500, latitude: 40.7128, longitude: '-74.006', id: 999, created_at: 'x', zones: [{ id: 1 }] },
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body, {
      id: r.body.id,
      name: 'Central Library',
      org_type: 'LIBRARY',
      total_capacity: 500,
      latitude: '40.712800',
      longitude: '-74.006000',
      zones: [],
    });
    assert.notEqual(r.body.id, 999, 'read-only id is ignored');
    assert.deepEqual(Object.keys(r.body), ['id', 'name', 'org_type', 'total_capacity', 'latitude', 'longitude', 'zones']);
    const [row] = await t.ds.query('SELECT created_at, updated_at FROM lims_organization WHERE id = $1', [r.body.id]);
    assert.ok(row.created_at instanceof Date && row.updated_at instanceof Date);
  });

  it('applies defaults: total_capacity 0, coordinates null', async () => {
    const o = await post('/organizations/', { name: 'Defaults', org_type: 'OFFICE' });
    assert.equal(o.total_capacity, 0);
    assert.equal(o.latitude, null);
    assert.equal(o.longitude, null);
  });

  it('nests complete zones and cameras, id ascending', async () => {
    const o = await post('/organizations/', { name: 'Campus', org_type: 'UNIVERSITY' });
    const z2 = await post('/zones/', { name: 'Hall B', zone_type: 'HALL', organization_id: o.id, capacity: 20 });
    const z1 = await post('/zones/', { name: 'Hall A', zone_type: 'HALL', organization_id: o.id, capacity: 10, latitude: '1.5' });
    const c2 = await post('/cameras/', { name: 'B-north', zone_id: z2.id });
    const c1 = await post('/cameras/', { name: 'B-south', zone_id: z2.id, is_active: false });
    const r = await t.request('GET', `/organizations/${o.id}/`, { token: user });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      id: o.id,
      name: 'Campus',
      org_type: 'UNIVERSITY',
      total_capacity: 0,
      latitude: null,
      longitude: null,
      zones: [
        {
          id: z2.id,
          name: 'Hall B',
          zone_type: 'HALL',
          capacity: 20,
          cameras: [
            { id: c2.id, name: 'B-north', is_active: true },
            { id: c1.id, name: 'B-south', is_active: false },
          ],
        },
        { id: z1.id, name: 'Hall A', zone_type: 'HALL', capacity: 10, cameras: [] },
      ],
    });
  });

  it('reports every invalid field at once in Django wording', async () => {
    const missing = await t.request('POST', '/organizations/', { token: admin, body: {} });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body, { name: ['This field is required.'], org_type: ['This field is required.'] });

    const bad = await t.request('POST', '/organizations/', {
      token: admin,
      body: { name: '  ', org_type: 'x'.repeat(101), total_capacity: -1, latitude: 'north', longitude: '1234.5' },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, {
      name: ['This field may not be blank.'],
      org_type: ['Ensure this field has no more than 100 characters.'],
      total_capacity: ['Ensure this value is greater than or equal to 0.'],
      latitude: ['A valid number is required.'],
      longitude: ['Ensure that there are no more than 3 digits before the decimal point.'],
    });

    const more = await t.request('POST', '/organizations/', {
      token: admin,
      body: { name: null, org_type: 'X', total_capacity: 2147483648, latitude: '1.1234567', longitude: '1234567.891' },
    });
    assert.equal(more.status, 400);
    assert.deepEqual(more.body, {
      name: ['This field may not be null.'],
      total_capacity: ['Ensure this value is less than or equal to 2147483647.'],
      latitude: ['Ensure that there are no more than 6 decimal places.'],
      longitude: ['Ensure that there are no more than 9 digits in total.'],
    });
    const notInt = await t.request('POST', '/organizations/', { token: admin, body: { name: 'A', org_type: 'B', total_capacity: 'many' } });
    assert.deepEqual(notInt.body, { total_capacity: ['A valid integer is required.'] });
  });

  it('accepts urlencoded forms with coercion (empty coordinate = null)', async () => {
    const r = await t.request('POST', '/organizations/', {
      token: admin,
      raw: 'name=Form+Org&org_type=SHOP&total_capacity=12&latitude=&longitude=2.5',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(r.status, 201);
    assert.equal(r.body.total_capacity, 12);
    assert.equal(r.body.latitude, null);
    assert.equal(r.body.longitude, '2.500000');
  });

  it('answers 404 and bad ids in the spec bodies', async () => {
    const missing = await t.request('GET', '/organizations/987654/', { token: user });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { detail: 'No Organization matches the given query.' });
    for (const id of ['abc', '-1', '1.5', '99999999999999999999', '%20']) {
      const r = await t.request('GET', `/organizations/${id}/`, { token: user });
      assert.equal(r.status, 400, id);
      assert.deepEqual(r.body, { id: ['A valid integer is required.'] }, id);
    }
    // in int64 but beyond any real id: a 404, not a 500
    const huge = await t.request('GET', '/organizations/9223372036854775807/', { token: user });
    assert.equal(huge.status, 404);
    const zero = await t.request('DELETE', '/organizations/0/', { token: admin });
    assert.equal(zero.status, 404);
  });

  it('PUT and PATCH are the same partial update and bump updated_at', async () => {
    const o = await post('/organizations/', { name: 'Before', org_type: 'OFFICE', total_capacity: 5, latitude: 10 });
    await t.ds.query(`UPDATE lims_organization SET updated_at = '2020-01-01T00:00:00Z' WHERE id = $1`, [o.id]);
    const put = await t.request('PUT', `/organizations/${o.id}/`, { token: admin, body: { name: 'After' } });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, { ...o, name: 'After' });
    const [row] = await t.ds.query('SELECT updated_at, created_at FROM lims_organization WHERE id = $1', [o.id]);
    assert.ok(row.updated_at.getTime() > Date.parse('2021-01-01'), 'updated_at bumped');
    const patch = await t.request('PATCH', `/organizations/${o.id}`, { token: admin, body: { latitude: null, total_capacity: '7' } });
    assert.equal(patch.status, 200);
    assert.deepEqual(patch.body, { ...o, name: 'After', latitude: null, total_capacity: 7 });
    const bad = await t.request('PATCH', `/organizations/${o.id}/`, { token: admin, body: { name: '', total_capacity: -5 } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { name: ['This field may not be blank.'], total_capacity: ['Ensure this value is greater than or equal to 0.'] });
  });

  it('checks 404 before the body on updates', async () => {
    const r = await t.request('PUT', '/organizations/555555/', { token: admin, body: { name: '' } });
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { detail: 'No Organization matches the given query.' });
  });

  it('stores SQL- and script-looking strings verbatim', async () => {
    const name = `Robert'); DROP TABLE lims_organization;--`;
    const orgType = '<script>alert("x")</script>';
    const o = await post('/organizations/', { name, org_type: orgType });
    const r = await t.request('GET', `/organizations/${o.id}`, { token: user });
    assert.equal(r.body.name, name);
    assert.equal(r.body.org_type, orgType);
    const [{ n }] = await t.ds.query('SELECT count(*)::int AS n FROM lims_organization');
    assert.ok(n > 0);
  });

  it('deletes with 204 and cascades to zones, cameras, alerts and carbon logs; cached stats dropped', async () => {
    const o = await post('/organizations/', { name: 'Doomed', org_type: 'X' });
    const z = await post('/zones/', { name: 'Z', zone_type: 'T', organization_id: o.id, capacity: 3 });
    const c = await post('/cameras/', { name: 'C', zone_id: z.id });
    const a = await post('/alerts/', { heading: 'H', zone_id: z.id, camera_id: c.id });
    await t.ds.query(`INSERT INTO lims_carbonlog (zone_id, saved_amount, "timestamp") VALUES ($1, 0.5, now())`, [z.id]);
    const cache = t.app.get(CarbonStatsCache);
    assert.ok(await cache.fill(z.id, (await cache.read(z.id)).stamp, { cached: true }));
    assert.ok(await cache.fill(null, (await cache.read(null)).stamp, { cached: true }));

    const r = await t.request('DELETE', `/organizations/${o.id}/`, { token: admin });
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    for (const [table, id] of [
      ['lims_organization', o.id],
      ['lims_zone', z.id],
      ['lims_camera', c.id],
      ['lims_alert', a.id],
    ] as const) {
      const rows = await t.ds.query(`SELECT 1 FROM ${table} WHERE id = $1`, [id]);
      assert.equal(rows.length, 0, table);
    }
    assert.equal((await t.ds.query('SELECT 1 FROM lims_carbonlog WHERE zone_id = $1', [z.id])).length, 0);
    assert.equal(await cache.get(z.id), null);
    assert.equal(await cache.get(null), null);
    const again = await t.request('DELETE', `/organizations/${o.id}/`, { token: admin });
    assert.equal(again.status, 404);
    assert.deepEqual(again.body, { detail: 'No Organization matches the given query.' });
  });
});

describe('organization lists', () => {
  let t: TestApp;
  let user: string;
  const ids: number[] = [];

  before(async () => {
    t = await startTestApp();
    user = (await t.operator()).token;
    // five organizations; two share a created_at so id DESC breaks the tie
    const times = ['2026-01-01T00:00:00Z', '2026-01-03T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z', '2025-12-31T00:00:00Z'];
    for (const [i, ts] of times.entries()) {
      const [row] = await t.ds.query(
        `INSERT INTO lims_organization (name, org_type, total_capacity, latitude, longitude, created_at, updated_at)
         VALUES ($1, 'T', 0, NULL, NULL, $2, $2) RETURNING id`,
        [`org-${i}`, ts],
      );
      ids.push(Number(row.id));
    }
  });
  after(async () => t.close());

  it('orders by created_at DESC, id DESC and sends X-Total-Count', async () => {
    const r = await t.request('GET', '/organizations/', { token: user });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-total-count'), '5');
    assert.deepEqual(
      r.body.map((o: { name: string }) => o.name),
      ['org-3', 'org-1', 'org-2', 'org-0', 'org-4'],
    );
  });

  it('pages with limit and offset; the total counts all matches', async () => {
    const r = await t.request('GET', '/organizations?limit=2&offset=1', { token: user });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-total-count'), '5');
    assert.deepEqual(
      r.body.map((o: { name: string }) => o.name),
      ['org-1', 'org-2'],
    );
    const beyond = await t.request('GET', '/organizations/?offset=50', { token: user });
    assert.deepEqual(beyond.body, []);
    assert.equal(beyond.headers.get('x-total-count'), '5');
    const clamped = await t.request('GET', '/organizations/?limit=100000', { token: user });
    assert.equal(clamped.status, 200);
    assert.equal(clamped.body.length, 5);
  });

  it('rejects bad paging values with every error at once', async () => {
    const r = await t.request('GET', '/organizations/?limit=abc&offset=-1', { token: user });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { limit: ['A valid integer is required.'], offset: ['Ensure this value is greater than or equal to 0.'] });
    const zero = await t.request('GET', '/organizations/?limit=0', { token: user });
    assert.deepEqual(zero.body, { limit: ['Ensure this value is greater than or equal to 1.'] });
  });

  it('loads nested arrays for a page in a fixed number of queries', async () => {
    // 30 zones with 2 cameras each across the five organizations
    for (let i = 0; i < 30; i += 1) {
      const [z] = await t.ds.query(`INSERT INTO lims_zone (organization_id, name, zone_type, capacity) VALUES ($1, $2, 'T', 1) RETURNING id`, [ids[i % 5], `z${i}`]);
      await t.ds.query(`INSERT INTO lims_camera (zone_id, name, is_active, created_at) VALUES ($1, 'a', true, now()), ($1, 'b', true, now())`, [z.id]);
    }
    const queries: string[] = [];
    const runner = t.ds.driver;
    const original = runner.createQueryRunner.bind(runner);
    runner.createQueryRunner = (mode) => {
      const qr = original(mode);
      const q = qr.query.bind(qr);
      qr.query = ((sql: string, ...rest: unknown[]) => {
        if (!/lims_user/.test(sql)) {
          queries.push(sql);
        }
        return (q as (...a: unknown[]) => Promise<unknown>)(sql, ...rest);
      }) as typeof qr.query;
      return qr;
    };
    try {
      const r = await t.request('GET', '/organizations/', { token: user });
      assert.equal(r.status, 200);
      const zones = r.body.flatMap((o: { zones: unknown[] }) => o.zones);
      assert.equal(zones.length, 30);
      assert.ok(zones.every((z: { cameras: unknown[] }) => z.cameras.length === 2));
    } finally {
      runner.createQueryRunner = original;
    }
    // page + count, zones, cameras: independent of the number of rows
    assert.ok(queries.length >= 3 && queries.length <= 4, `expected 3-4 queries, saw ${queries.length}: ${queries.join(' | ')}`);
  });
});
