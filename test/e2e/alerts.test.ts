import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, TestApp } from '../support/test-app';
import { ALERT_KEYS } from '../support/wire';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CONFLICT = { detail: 'An open alert already exists for this zone and camera.' };

describe('alerts', () => {
  let t: TestApp;
  let admin: string;
  let user: string;
  let userId: number;
  let org: any;
  let lobby: any;
  let hall: any;
  let lobbyCam: any;
  let hallCam: any;

  const post = (path: string, body: unknown): Promise<any> => t.create(path, body);

  before(async () => {
    t = await startTestApp();
    admin = (await t.admin()).token;
    const op = await t.operator();
    user = op.token;
    userId = op.user.id;
    org = await post('/organizations/', { name: 'Library', org_type: 'LIBRARY' });
    lobby = await post('/zones/', { name: 'Lobby', zone_type: 'HALL', organization_id: org.id, capacity: 10 });
    hall = await post('/zones/', { name: 'Hall', zone_type: 'HALL', organization_id: org.id, capacity: 10 });
    lobbyCam = await post('/cameras/', { name: 'L', zone_id: lobby.id });
    hallCam = await post('/cameras/', { name: 'H', zone_id: hall.id });
  });
  after(async () => t.close());

  it('creates an alert with the spec shape and defaults', async () => {
    const r = await t.request('POST', '/alerts/', {
      token: admin,
      body: { heading: 'Overcrowding in Lobby', sub_heading: 'Detected 9/10 people. (Cam: 1)', zone_id: lobby.id, camera_id: lobbyCam.id, id: 5, created_at: 'x' },
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body, {
      id: r.body.id,
      heading: 'Overcrowding in Lobby',
      sub_heading: 'Detected 9/10 people. (Cam: 1)',
      status: 'OPEN',
      created_at: r.body.created_at,
      updated_at: r.body.created_at,
      zone_id: lobby.id,
      camera_id: lobbyCam.id,
      // lifecycle (ALERTING.md §5): an admin-created alert has no detection and no snapshot
      acknowledged_at: null,
      acknowledged_by: null,
      resolved_at: null,
      resolved_by: null,
      resolution: null,
      peak_people: null,
      last_people: null,
      last_detected_at: null,
      has_snapshot: false,
    });
    assert.deepEqual(Object.keys(r.body), ALERT_KEYS);
    assert.match(r.body.created_at, ISO_MS);
    const camless = await post('/alerts/', { heading: 'Camera-less', zone_id: lobby.id });
    assert.equal(camless.sub_heading, null);
    assert.equal(camless.camera_id, null);
    assert.equal(camless.status, 'OPEN');
    const blank = await post('/alerts/', { heading: 'Blank sub', sub_heading: '', zone_id: hall.id, status: 'CLOSED' });
    assert.equal(blank.sub_heading, '');
    assert.equal(blank.status, 'CLOSED');
  });

  it('refuses a second open alert for the same zone and camera with 409, via the unique index', async () => {
    const zone = await post('/zones/', { name: 'Dup', zone_type: 'HALL', organization_id: org.id, capacity: 5 });
    const cam = await post('/cameras/', { name: 'D', zone_id: zone.id });
    await post('/alerts/', { heading: 'first', zone_id: zone.id, camera_id: cam.id });
    const dup = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'second', zone_id: zone.id, camera_id: cam.id } });
    assert.equal(dup.status, 409);
    assert.deepEqual(dup.body, CONFLICT);
    // the zone's camera-less key is separate, and closed alerts never conflict
    await post('/alerts/', { heading: 'zone-wide', zone_id: zone.id });
    const zoneDup = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'zone-wide 2', zone_id: zone.id, camera_id: null } });
    assert.equal(zoneDup.status, 409);
    await post('/alerts/', { heading: 'closed one', zone_id: zone.id, camera_id: cam.id, status: 'CLOSED' });
    const [{ n }] = await t.ds.query(`SELECT count(*)::int AS n FROM lims_alert WHERE zone_id = $1 AND status = 'OPEN'`, [zone.id]);
    assert.equal(n, 2);
  });

  it('lets exactly one of several concurrent creates win', async () => {
    const zone = await post('/zones/', { name: 'Race', zone_type: 'HALL', organization_id: org.id, capacity: 5 });
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => t.request('POST', '/alerts/', { token: admin, body: { heading: `race ${i}`, zone_id: zone.id } })),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) {
      assert.deepEqual(r.body, CONFLICT);
    }
  });

  it('validates every field at once, then the camera against the zone', async () => {
    const missing = await t.request('POST', '/alerts/', { token: admin, body: {} });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body, { heading: ['This field is required.'], zone_id: ['This field is required.'] });
    const bad = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'x'.repeat(256), status: 'open', zone_id: 999999, camera_id: 888888 } });
    assert.deepEqual(bad.body, {
      heading: ['Ensure this field has no more than 255 characters.'],
      status: ['"open" is not a valid choice.'],
      zone_id: ['Invalid pk "999999" - object does not exist.'],
      camera_id: ['Invalid pk "888888" - object does not exist.'],
    });
    const typed = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'h', zone_id: true, camera_id: 1.5 } });
    assert.deepEqual(typed.body, {
      zone_id: ['Incorrect type. Expected pk value, received bool.'],
      camera_id: ['Incorrect type. Expected pk value, received float.'],
    });
    const foreign = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'h', zone_id: lobby.id, camera_id: hallCam.id } });
    assert.equal(foreign.status, 400);
    assert.deepEqual(foreign.body, { camera_id: ['Camera does not belong to this zone.'] });
  });

  it('writes timestamps as UTC with milliseconds truncated, as toISOString does', async () => {
    const zone = await post('/zones/', { name: 'Clock', zone_type: 'HALL', organization_id: org.id, capacity: 5 });
    const a = await post('/alerts/', { heading: 'Clock', zone_id: zone.id });
    await t.ds.query(`UPDATE lims_alert SET created_at = '2026-03-04 07:06:07.891999+02', updated_at = '0999-12-31 23:59:59.5+00' WHERE id = $1`, [a.id]);
    const one = await t.request('GET', `/alerts/${a.id}/`, { token: user });
    assert.equal(one.body.created_at, '2026-03-04T05:06:07.891Z');
    assert.equal(one.body.updated_at, '0999-12-31T23:59:59.500Z');
    const [row] = (await t.ds.query('SELECT created_at FROM lims_alert WHERE id = $1', [a.id])) as { created_at: Date }[];
    assert.equal(one.body.created_at, new Date(row.created_at).toISOString(), 'the same text the Date path gives');
    const list = await t.request('GET', `/alerts/?zone_id=${zone.id}`, { token: user });
    assert.equal(list.body[0].created_at, '2026-03-04T05:06:07.891Z');
  });

  it('lets an operator close an alert with PUT or PATCH and bumps updated_at', async () => {
    const zone = await post('/zones/', { name: 'Close', zone_type: 'HALL', organization_id: org.id, capacity: 5 });
    const a = await post('/alerts/', { heading: 'Overcrowding in Close', sub_heading: 's', zone_id: zone.id });
    await t.ds.query(`UPDATE lims_alert SET updated_at = '2020-01-01T00:00:00Z' WHERE id = $1`, [a.id]);
    const put = await t.request('PUT', `/alerts/${a.id}/`, { token: user, body: { status: 'CLOSED' } });
    assert.equal(put.status, 200);
    assert.equal(put.body.status, 'CLOSED');
    assert.equal(put.body.created_at, a.created_at);
    assert.ok(Date.parse(put.body.updated_at) > Date.parse('2021-01-01'));
    assert.match(put.body.resolved_at, ISO_MS);
    assert.deepEqual({ ...put.body, updated_at: a.updated_at }, { ...a, status: 'CLOSED', resolution: 'manual', resolved_by: userId, resolved_at: put.body.resolved_at });
    const reopen = await t.request('PATCH', `/alerts/${a.id}`, { token: user, body: { status: 'OPEN' } });
    assert.equal(reopen.status, 200);
    assert.equal(reopen.body.status, 'OPEN');
    const close = await t.request('PATCH', `/alerts/${a.id}/`, { token: user, body: { status: 'CLOSED' } });
    assert.equal(close.body.status, 'CLOSED');
    const [row] = await t.ds.query('SELECT status FROM lims_alert WHERE id = $1', [a.id]);
    assert.equal(row.status, 'CLOSED');
  });

  it('forbids an operator to change heading or sub_heading, but accepts them sent back unchanged', async () => {
    const zone = await post('/zones/', { name: 'Perm', zone_type: 'HALL', organization_id: org.id, capacity: 5 });
    const a = await post('/alerts/', { heading: 'Original', sub_heading: null, zone_id: zone.id });
    for (const body of [{ heading: 'Hacked' }, { sub_heading: 'Hacked', status: 'CLOSED' }, { heading: 5 }, { sub_heading: '' }]) {
      const r = await t.request('PATCH', `/alerts/${a.id}/`, { token: user, body });
      assert.equal(r.status, 403, JSON.stringify(body));
      assert.deepEqual(r.body, { detail: 'You do not have permission to perform this action.' });
    }
    const [row] = await t.ds.query('SELECT heading, sub_heading, status FROM lims_alert WHERE id = $1', [a.id]);
    assert.deepEqual({ ...row }, { heading: 'Original', sub_heading: null, status: 'OPEN' });
    const echo = await t.request('PUT', `/alerts/${a.id}/`, { token: user, body: { ...a, status: 'CLOSED' } });
    assert.equal(echo.status, 200, echo.text);
    assert.equal(echo.body.status, 'CLOSED');
  });

  it('lets an admin edit heading and sub_heading; zone_id and camera_id are ignored on update', async () => {
    const zone = await post('/zones/', { name: 'Edit', zone_type: 'HALL', organization_id: org.id, capacity: 5 });
    const a = await post('/alerts/', { heading: 'Old', zone_id: zone.id });
    const r = await t.request('PUT', `/alerts/${a.id}/`, { token: admin, body: { heading: 'New', sub_heading: 'More', zone_id: hall.id, camera_id: hallCam.id } });
    assert.equal(r.status, 200);
    assert.equal(r.body.heading, 'New');
    assert.equal(r.body.sub_heading, 'More');
    assert.equal(r.body.zone_id, zone.id);
    assert.equal(r.body.camera_id, null);
    const bad = await t.request('PATCH', `/alerts/${a.id}/`, { token: admin, body: { heading: '', status: 'closed' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { heading: ['This field may not be blank.'], status: ['"closed" is not a valid choice.'] });
  });

  it('answers 409 when reopening onto another open alert', async () => {
    const zone = await post('/zones/', { name: 'Reopen', zone_type: 'HALL', organization_id: org.id, capacity: 5 });
    const old = await post('/alerts/', { heading: 'old', zone_id: zone.id, status: 'CLOSED' });
    await post('/alerts/', { heading: 'current', zone_id: zone.id });
    const r = await t.request('PUT', `/alerts/${old.id}/`, { token: user, body: { status: 'OPEN' } });
    assert.equal(r.status, 409);
    assert.deepEqual(r.body, CONFLICT);
    const [row] = await t.ds.query('SELECT status FROM lims_alert WHERE id = $1', [old.id]);
    assert.equal(row.status, 'CLOSED');
  });

  it('answers 404 before validating the body, 400 for bad ids, and deletes with 204', async () => {
    const missing = await t.request('PATCH', '/alerts/999999/', { token: user, body: { status: 'nope' } });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { detail: 'No Alert matches the given query.' });
    const badId = await t.request('GET', '/alerts/1e3/', { token: user });
    assert.equal(badId.status, 400);
    assert.deepEqual(badId.body, { id: ['A valid integer is required.'] });
    const a = await post('/alerts/', { heading: 'bye', zone_id: hall.id, status: 'CLOSED' });
    const del = await t.request('DELETE', `/alerts/${a.id}/`, { token: admin });
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
    const gone = await t.request('GET', `/alerts/${a.id}/`, { token: user });
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body, { detail: 'No Alert matches the given query.' });
    const again = await t.request('DELETE', `/alerts/${a.id}/`, { token: admin });
    assert.equal(again.status, 404);
  });

  it('stores script- and SQL-looking text verbatim', async () => {
    const heading = `'; DELETE FROM lims_alert; --`;
    const sub = '<img src=x onerror=alert(1)> ${jndi:ldap://x}';
    const a = await post('/alerts/', { heading, sub_heading: sub, zone_id: hall.id, status: 'CLOSED' });
    const r = await t.request('GET', `/alerts/${a.id}`, { token: user });
    assert.equal(r.body.heading, heading);
    assert.equal(r.body.sub_heading, sub);
  });
});

describe('alert lists and filters', () => {
  let t: TestApp;
  let user: string;
  const ids: Record<string, number> = {};
  let orgA: number;
  let orgB: number;
  let zoneA1: number;
  let zoneA2: number;
  let zoneB: number;

  before(async () => {
    t = await startTestApp();
    user = (await t.operator()).token;
    const one = async (sql: string, params: unknown[]): Promise<number> => Number((await t.ds.query(sql, params))[0].id);
    const org = (name: string): Promise<number> =>
      one(`INSERT INTO lims_organization (name, org_type, total_capacity, created_at, updated_at) VALUES ($1, 'T', 0, now(), now()) RETURNING id`, [name]);
    const zone = (o: number, name: string): Promise<number> => one(`INSERT INTO lims_zone (organization_id, name, zone_type, capacity) VALUES ($1, $2, 'T', 5) RETURNING id`, [o, name]);
    orgA = await org('A');
    orgB = await org('B');
    zoneA1 = await zone(orgA, 'A1');
    zoneA2 = await zone(orgA, 'A2');
    zoneB = await zone(orgB, 'B');
    const camA2 = await one(`INSERT INTO lims_camera (zone_id, name, is_active, created_at) VALUES ($1, 'c', true, now()) RETURNING id`, [zoneA2]);
    const alert = (name: string, zoneId: number | null, cameraId: number | null, status: string, ts: string): Promise<number> =>
      one(
        `INSERT INTO lims_alert (heading, sub_heading, status, created_at, updated_at, zone_id, camera_id) VALUES ($1, NULL, $2, $3, $3, $4, $5) RETURNING id`,
        [name, status, ts, zoneId, cameraId],
      );
    ids.a1open = await alert('a1open', zoneA1, null, 'OPEN', '2026-01-05T00:00:00Z');
    ids.a1closed = await alert('a1closed', zoneA1, null, 'CLOSED', '2026-01-01T00:00:00Z');
    ids.bopen = await alert('bopen', zoneB, null, 'OPEN', '2026-01-03T00:00:00Z');
    // legacy Django rows: zone from the camera, or none at all
    ids.legacyCam = await alert('legacyCam', null, camA2, 'OPEN', '2026-01-04T00:00:00Z');
    ids.legacyNone = await alert('legacyNone', null, null, 'CLOSED', '2026-01-02T00:00:00Z');
    ids.tie = await alert('tie', zoneB, null, 'CLOSED', '2026-01-05T00:00:00Z');
  });
  after(async () => t.close());

  const names = (r: { body: { heading: string }[] }): string[] => r.body.map((a) => a.heading);

  it('lists newest first (created_at DESC, id DESC) with X-Total-Count', async () => {
    const r = await t.request('GET', '/alerts/', { token: user });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-total-count'), '6');
    assert.deepEqual(names(r), ['tie', 'a1open', 'legacyCam', 'bopen', 'legacyNone', 'a1closed']);
  });

  it("shows legacy rows with their camera's zone, or null", async () => {
    const cam = await t.request('GET', `/alerts/${ids.legacyCam}/`, { token: user });
    assert.equal(cam.body.zone_id, zoneA2);
    const none = await t.request('GET', `/alerts/${ids.legacyNone}/`, { token: user });
    assert.equal(none.body.zone_id, null);
    assert.equal(none.body.camera_id, null);
  });

  it('filters by status, org_id and zone_id, AND-combined', async () => {
    const open = await t.request('GET', '/alerts/?status=OPEN', { token: user });
    assert.deepEqual(names(open), ['a1open', 'legacyCam', 'bopen']);
    assert.equal(open.headers.get('x-total-count'), '3');
    const orgAList = await t.request('GET', `/alerts/?org_id=${orgA}`, { token: user });
    assert.deepEqual(names(orgAList), ['a1open', 'legacyCam', 'a1closed']);
    const zoneList = await t.request('GET', `/alerts/?zone_id=${zoneA2}`, { token: user });
    assert.deepEqual(names(zoneList), ['legacyCam']);
    const combined = await t.request('GET', `/alerts/?status=CLOSED&org_id=${orgA}&zone_id=${zoneA1}`, { token: user });
    assert.deepEqual(names(combined), ['a1closed']);
    const contradictory = await t.request('GET', `/alerts/?org_id=${orgB}&zone_id=${zoneA1}`, { token: user });
    assert.deepEqual(contradictory.body, []);
    const paged = await t.request('GET', `/alerts/?org_id=${orgA}&limit=1&offset=1`, { token: user });
    assert.deepEqual(names(paged), ['legacyCam']);
    assert.equal(paged.headers.get('x-total-count'), '3');
    const unknown = await t.request('GET', '/alerts/?org_id=999999', { token: user });
    assert.deepEqual(unknown.body, []);
    assert.equal(unknown.headers.get('x-total-count'), '0');
    const all = await t.request('GET', '/alerts/?status=', { token: user });
    assert.equal(all.body.length, 6, 'an empty filter is no filter');
  });

  it('validates the filters, case-sensitively, all at once', async () => {
    const lower = await t.request('GET', '/alerts/?status=open', { token: user });
    assert.equal(lower.status, 400);
    assert.deepEqual(lower.body, { status: ['"open" is not a valid choice.'] });
    const bad = await t.request('GET', '/alerts/?status=DONE&org_id=x&zone_id=-2&limit=0', { token: user });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, {
      status: ['"DONE" is not a valid choice.'],
      org_id: ['A valid integer is required.'],
      zone_id: ['A valid integer is required.'],
      limit: ['Ensure this value is greater than or equal to 1.'],
    });
  });
});
