import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CarbonStatsCache } from '../../src/carbon/carbon-stats.cache';
import { startTestApp, TestApp } from '../support/test-app';

describe('zones', () => {
  let t: TestApp;
  let admin: string;
  let user: string;
  let org: any;
  let other: any;

  const post = (path: string, body: unknown): Promise<any> => t.create(path, body);

  before(async () => {
    t = await startTestApp();
    admin = (await t.admin()).token;
    user = (await t.operator()).token;
    org = await post('/organizations/', { name: 'Central Library', org_type: 'LIBRARY' });
    other = await post('/organizations/', { name: 'Museum', org_type: 'MUSEUM' });
  });
  after(async () => t.close());

  it('creates a zone and answers the spec shape', async () => {
    const r = await t.request('POST', '/zones/', {
      token: admin,
      body: { name: 'Lobby', zone_type: 'HALL', organization_id: org.id, capacity: 10, latitude: '40.7128', longitude: -74.006, organization: { id: other.id }, cameras: [{ id: 1 }] },
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body, {
      id: r.body.id,
      name: 'Lobby',
      zone_type: 'HALL',
      capacity: 10,
      latitude: '40.712800',
      longitude: '-74.006000',
      organization: { id: org.id, name: 'Central Library', org_type: 'LIBRARY' },
      cameras: [],
    });
    assert.deepEqual(Object.keys(r.body), ['id', 'name', 'zone_type', 'capacity', 'latitude', 'longitude', 'organization', 'cameras']);
    assert.equal('organization_id' in r.body, false, 'organization_id is write-only');
    const cam = await post('/cameras/', { name: 'Door', zone_id: r.body.id });
    const got = await t.request('GET', `/zones/${r.body.id}`, { token: user });
    assert.deepEqual(got.body.cameras, [{ id: cam.id, name: 'Door', is_active: true }]);
  });

  it('validates every field at once, including unknown and wrongly typed organizations', async () => {
    const missing = await t.request('POST', '/zones/', { token: admin, body: {} });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body, {
      name: ['This field is required.'],
      zone_type: ['This field is required.'],
      organization_id: ['This field is required.'],
    });
    const bad = await t.request('POST', '/zones/', {
      token: admin,
      body: { name: 'x'.repeat(256), zone_type: 'HALL', organization_id: 987654, capacity: -1, latitude: 'abc' },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, {
      name: ['Ensure this field has no more than 255 characters.'],
      organization_id: ['Invalid pk "987654" - object does not exist.'],
      capacity: ['Ensure this value is greater than or equal to 0.'],
      latitude: ['A valid number is required.'],
    });
    const typed = await t.request('POST', '/zones/', { token: admin, body: { name: 'A', zone_type: 'B', organization_id: 'abc', capacity: 'x' } });
    assert.deepEqual(typed.body, {
      organization_id: ['Incorrect type. Expected pk value, received str.'],
      capacity: ['A valid integer is required.'],
    });
    const nul = await t.request('POST', '/zones/', { token: admin, body: { name: 'A', zone_type: 'B', organization_id: null } });
    assert.deepEqual(nul.body, { organization_id: ['This field may not be null.'] });
    const huge = await t.request('POST', '/zones/', { token: admin, body: { name: 'A', zone_type: 'B', organization_id: '99999999999999999999' } });
    assert.deepEqual(huge.body, { organization_id: ['Invalid pk "99999999999999999999" - object does not exist.'] });
  });

  it('defaults capacity to 0', async () => {
    const z = await post('/zones/', { name: 'Closet', zone_type: 'ROOM', organization_id: org.id });
    assert.equal(z.capacity, 0);
    assert.equal(z.latitude, null);
  });

  it('moves a zone to another organization with PUT or PATCH, partially', async () => {
    const z = await post('/zones/', { name: 'Mover', zone_type: 'HALL', organization_id: org.id, capacity: 4 });
    const put = await t.request('PUT', `/zones/${z.id}/`, { token: admin, body: { organization_id: other.id } });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, { ...z, organization: { id: other.id, name: 'Museum', org_type: 'MUSEUM' } });
    const patch = await t.request('PATCH', `/zones/${z.id}`, { token: admin, body: { capacity: 8, zone_type: 'ROOM' } });
    assert.equal(patch.status, 200);
    assert.deepEqual(patch.body, { ...put.body, capacity: 8, zone_type: 'ROOM' });
    const bad = await t.request('PATCH', `/zones/${z.id}`, { token: admin, body: { organization_id: 424242, capacity: -3 } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, {
      organization_id: ['Invalid pk "424242" - object does not exist.'],
      capacity: ['Ensure this value is greater than or equal to 0.'],
    });
    const empty = await t.request('PUT', `/zones/${z.id}`, { token: admin, body: {} });
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body, patch.body);
  });

  it('answers 404 before validating the body, and 400 for bad ids', async () => {
    const r = await t.request('PATCH', '/zones/777777/', { token: admin, body: { capacity: -1 } });
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { detail: 'No Zone matches the given query.' });
    const bad = await t.request('PATCH', '/zones/x1/', { token: admin, body: { capacity: -1 } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { id: ['A valid integer is required.'] });
    const get = await t.request('GET', '/zones/777777', { token: user });
    assert.deepEqual(get.body, { detail: 'No Zone matches the given query.' });
  });

  it('deletes with 204, cascading to cameras, alerts and carbon logs, and drops cached stats', async () => {
    const z = await post('/zones/', { name: 'Gone', zone_type: 'HALL', organization_id: org.id, capacity: 3 });
    const keep = await post('/zones/', { name: 'Stays', zone_type: 'HALL', organization_id: org.id, capacity: 3 });
    const c = await post('/cameras/', { name: 'C', zone_id: z.id });
    const a = await post('/alerts/', { heading: 'H', zone_id: z.id });
    const a2 = await post('/alerts/', { heading: 'H2', zone_id: z.id, camera_id: c.id });
    await t.ds.query(`INSERT INTO lims_carbonlog (zone_id, saved_amount, "timestamp") VALUES ($1, 0.5, now()), ($2, 0.25, now())`, [z.id, keep.id]);
    const cache = t.app.get(CarbonStatsCache);
    assert.ok(await cache.fill(keep.id, (await cache.read(keep.id)).stamp, { cached: true }));
    assert.ok(await cache.fill(null, (await cache.read(null)).stamp, { cached: true }));

    const r = await t.request('DELETE', `/zones/${z.id}/`, { token: admin });
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    assert.equal((await t.ds.query('SELECT 1 FROM lims_camera WHERE id = $1', [c.id])).length, 0);
    assert.equal((await t.ds.query('SELECT 1 FROM lims_alert WHERE id = ANY($1)', [[a.id, a2.id]])).length, 0);
    assert.equal((await t.ds.query('SELECT 1 FROM lims_carbonlog WHERE zone_id = $1', [z.id])).length, 0);
    assert.equal((await t.ds.query('SELECT 1 FROM lims_carbonlog WHERE zone_id = $1', [keep.id])).length, 1, 'other zones keep their logs');
    assert.equal((await t.ds.query('SELECT 1 FROM lims_organization WHERE id = $1', [org.id])).length, 1, 'the organization stays');
    assert.equal(await cache.get(keep.id), null, 'every carbon_stats key is dropped');
    assert.equal(await cache.get(null), null);
    const again = await t.request('DELETE', `/zones/${z.id}/`, { token: admin });
    assert.equal(again.status, 404);
    assert.deepEqual(again.body, { detail: 'No Zone matches the given query.' });
  });
});

describe('zone lists', () => {
  let t: TestApp;
  let user: string;
  let orgA: number;
  let orgB: number;
  const zoneIds: number[] = [];

  before(async () => {
    t = await startTestApp();
    user = (await t.operator()).token;
    const mk = async (name: string): Promise<number> => {
      const [o] = await t.ds.query(`INSERT INTO lims_organization (name, org_type, total_capacity, created_at, updated_at) VALUES ($1, 'T', 0, now(), now()) RETURNING id`, [name]);
      return Number(o.id);
    };
    orgA = await mk('A');
    orgB = await mk('B');
    for (const [i, o] of [orgA, orgB, orgA, orgB, orgA].entries()) {
      const [z] = await t.ds.query(`INSERT INTO lims_zone (organization_id, name, zone_type, capacity) VALUES ($1, $2, 'T', $3) RETURNING id`, [o, `z${i}`, i]);
      zoneIds.push(Number(z.id));
    }
  });
  after(async () => t.close());

  it('lists zones id ascending with X-Total-Count', async () => {
    const r = await t.request('GET', '/zones/', { token: user });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-total-count'), '5');
    assert.deepEqual(
      r.body.map((z: { id: number }) => z.id),
      zoneIds,
    );
    assert.deepEqual(r.body[1].organization, { id: orgB, name: 'B', org_type: 'T' });
  });

  it('filters by org_id (the dashboard calls it without a trailing slash) and pages', async () => {
    const r = await t.request('GET', `/zones?org_id=${orgA}`, { token: user });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-total-count'), '3');
    assert.deepEqual(
      r.body.map((z: { name: string }) => z.name),
      ['z0', 'z2', 'z4'],
    );
    const page = await t.request('GET', `/zones/?org_id=${orgA}&limit=1&offset=1`, { token: user });
    assert.deepEqual(
      page.body.map((z: { name: string }) => z.name),
      ['z2'],
    );
    assert.equal(page.headers.get('x-total-count'), '3');
  });

  it('answers [] for an unknown organization and 400 for a non-integer one', async () => {
    const none = await t.request('GET', '/zones/?org_id=999999', { token: user });
    assert.equal(none.status, 200);
    assert.deepEqual(none.body, []);
    assert.equal(none.headers.get('x-total-count'), '0');
    const bad = await t.request('GET', '/zones/?org_id=abc', { token: user });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { org_id: ['A valid integer is required.'] });
    const both = await t.request('GET', '/zones/?org_id=1.5&limit=x', { token: user });
    assert.deepEqual(both.body, { org_id: ['A valid integer is required.'], limit: ['A valid integer is required.'] });
  });
});
