import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deviceKeyMatches, hashDeviceKey } from '../../src/sites/device-key';
import { startTestApp, TestApp } from '../support/test-app';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DEVICE_KEY = /^ecd_[A-Za-z0-9_-]{43}$/;

describe('cameras', () => {
  let t: TestApp;
  let admin: string;
  let user: string;
  let org: any;
  let lobby: any;
  let hall: any;

  const post = (path: string, body: unknown): Promise<any> => t.create(path, body);
  const storedHash = async (id: number): Promise<string | null> => {
    const [row] = await t.ds.query('SELECT api_key_hash FROM lims_camera WHERE id = $1', [id]);
    return row.api_key_hash === null ? null : String(row.api_key_hash).trim();
  };

  before(async () => {
    t = await startTestApp();
    admin = (await t.admin()).token;
    user = (await t.operator()).token;
    org = await post('/organizations/', { name: 'Central Library', org_type: 'LIBRARY' });
    lobby = await post('/zones/', { name: 'Lobby', zone_type: 'HALL', organization_id: org.id, capacity: 10 });
    hall = await post('/zones/', { name: 'Hall', zone_type: 'HALL', organization_id: org.id, capacity: 50 });
  });
  after(async () => t.close());

  it('creates a camera, returning the spec shape plus its device key once; only the hash is stored', async () => {
    const before = Date.now();
    const r = await t.request('POST', '/cameras/', { token: admin, body: { name: 'Entrance cam', zone_id: lobby.id, has_device_key: false, created_at: '2000-01-01' } });
    assert.equal(r.status, 201);
    const { device_key: key, ...camera } = r.body;
    assert.match(key, DEVICE_KEY);
    assert.deepEqual(camera, {
      id: camera.id,
      name: 'Entrance cam',
      is_active: true,
      zone: { id: lobby.id, name: 'Lobby', zone_type: 'HALL', organization: { id: org.id, name: 'Central Library', org_type: 'LIBRARY' } },
      created_at: camera.created_at,
      has_device_key: true,
      last_seen_at: null,
      online: false,
    });
    assert.deepEqual(Object.keys(r.body), ['id', 'name', 'is_active', 'zone', 'created_at', 'has_device_key', 'last_seen_at', 'online', 'device_key']);
    assert.match(camera.created_at, ISO_MS);
    assert.ok(Date.parse(camera.created_at) >= before - 1000);
    assert.equal(await storedHash(camera.id), hashDeviceKey(key));
    const [row] = await t.ds.query('SELECT api_key_created_at FROM lims_camera WHERE id = $1', [camera.id]);
    assert.ok(row.api_key_created_at instanceof Date);
    const got = await t.request('GET', `/cameras/${camera.id}/`, { token: user });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, camera, 'the key is never shown again');
    assert.doesNotMatch(got.text, /ecd_/);
  });

  it('rotates the key: a new one is returned, the old hash is replaced at once', async () => {
    const cam = await post('/cameras/', { name: 'Rotating', zone_id: lobby.id });
    const r = await t.request('POST', `/cameras/${cam.id}/rotate-key/`, { token: admin });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['id', 'device_key']);
    assert.equal(r.body.id, cam.id);
    assert.match(r.body.device_key, DEVICE_KEY);
    assert.notEqual(r.body.device_key, cam.device_key);
    const hash = await storedHash(cam.id);
    assert.equal(deviceKeyMatches(r.body.device_key, hash), true);
    assert.equal(deviceKeyMatches(cam.device_key, hash), false, 'the old key is dead');
    const noSlash = await t.request('POST', `/cameras/${cam.id}/rotate-key`, { token: admin });
    assert.equal(noSlash.status, 200);
    assert.equal(deviceKeyMatches(r.body.device_key, await storedHash(cam.id)), false);
  });

  it('gives a key to a camera adopted from Django (no key yet) on rotation', async () => {
    const [row] = await t.ds.query(`INSERT INTO lims_camera (zone_id, name, is_active, created_at) VALUES ($1, 'legacy', true, now()) RETURNING id`, [lobby.id]);
    const id = Number(row.id);
    const before = await t.request('GET', `/cameras/${id}`, { token: user });
    assert.equal(before.body.has_device_key, false);
    const r = await t.request('POST', `/cameras/${id}/rotate-key/`, { token: admin });
    assert.equal(r.status, 200);
    const after = await t.request('GET', `/cameras/${id}`, { token: user });
    assert.equal(after.body.has_device_key, true);
  });

  it('rotate-key answers 404 and 400 for missing and bad ids', async () => {
    const missing = await t.request('POST', '/cameras/999999/rotate-key/', { token: admin });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { detail: 'No Camera matches the given query.' });
    const bad = await t.request('POST', '/cameras/abc/rotate-key/', { token: admin });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { id: ['A valid integer is required.'] });
  });

  it('validates every field at once', async () => {
    const missing = await t.request('POST', '/cameras/', { token: admin, body: {} });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body, { name: ['This field is required.'], zone_id: ['This field is required.'] });
    const bad = await t.request('POST', '/cameras/', { token: admin, body: { name: '', zone_id: 123456, is_active: 'maybe' } });
    assert.deepEqual(bad.body, {
      name: ['This field may not be blank.'],
      zone_id: ['Invalid pk "123456" - object does not exist.'],
      is_active: ['Must be a valid boolean.'],
    });
    const typed = await t.request('POST', '/cameras/', { token: admin, body: { name: 'x', zone_id: [1] } });
    assert.deepEqual(typed.body, { zone_id: ['Incorrect type. Expected pk value, received list.'] });
    const count = await t.ds.query('SELECT count(*)::int AS n FROM lims_camera WHERE name = $1', ['x']);
    assert.equal(count[0].n, 0);
  });

  it('accepts multipart forms with boolean coercion', async () => {
    const fd = new FormData();
    fd.set('name', 'Form cam');
    fd.set('zone_id', String(hall.id));
    fd.set('is_active', 'off');
    const r = await t.request('POST', '/cameras/', { token: admin, raw: fd });
    assert.equal(r.status, 201);
    assert.equal(r.body.is_active, false);
    assert.equal(r.body.zone.id, hall.id);
  });

  it('moves a camera with PUT or PATCH, partially, 404 before the body', async () => {
    const cam = await post('/cameras/', { name: 'Mover', zone_id: lobby.id });
    const { device_key: _key, ...shown } = cam;
    const put = await t.request('PUT', `/cameras/${cam.id}/`, { token: admin, body: { zone_id: hall.id } });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, { ...shown, zone: { ...shown.zone, id: hall.id, name: 'Hall' } });
    const patch = await t.request('PATCH', `/cameras/${cam.id}`, { token: admin, body: { is_active: false, name: 'Renamed' } });
    assert.equal(patch.status, 200);
    assert.deepEqual(patch.body, { ...put.body, is_active: false, name: 'Renamed' });
    assert.equal(await storedHash(cam.id), hashDeviceKey(cam.device_key), 'updates keep the key');
    const bad = await t.request('PATCH', `/cameras/${cam.id}`, { token: admin, body: { zone_id: 'x', name: null } });
    assert.deepEqual(bad.body, { zone_id: ['Incorrect type. Expected pk value, received str.'], name: ['This field may not be null.'] });
    const missing = await t.request('PUT', '/cameras/888888', { token: admin, body: { zone_id: 'x' } });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { detail: 'No Camera matches the given query.' });
  });

  it('deletes with 204, taking its alerts along', async () => {
    const cam = await post('/cameras/', { name: 'Doomed', zone_id: hall.id });
    const alert = await post('/alerts/', { heading: 'x', zone_id: hall.id, camera_id: cam.id });
    const r = await t.request('DELETE', `/cameras/${cam.id}/`, { token: admin });
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    assert.equal((await t.ds.query('SELECT 1 FROM lims_alert WHERE id = $1', [alert.id])).length, 0);
    assert.equal((await t.ds.query('SELECT 1 FROM lims_zone WHERE id = $1', [hall.id])).length, 1);
    const again = await t.request('GET', `/cameras/${cam.id}/`, { token: user });
    assert.equal(again.status, 404);
    assert.deepEqual(again.body, { detail: 'No Camera matches the given query.' });
  });
});

describe('camera lists', () => {
  let t: TestApp;
  let user: string;
  let zoneA: number;
  let zoneB: number;
  const ids: number[] = [];

  before(async () => {
    t = await startTestApp();
    user = (await t.operator()).token;
    const [o] = await t.ds.query(`INSERT INTO lims_organization (name, org_type, total_capacity, created_at, updated_at) VALUES ('O', 'T', 0, now(), now()) RETURNING id`);
    const zone = async (name: string): Promise<number> => {
      const [z] = await t.ds.query(`INSERT INTO lims_zone (organization_id, name, zone_type, capacity) VALUES ($1, $2, 'T', 1) RETURNING id`, [o.id, name]);
      return Number(z.id);
    };
    zoneA = await zone('A');
    zoneB = await zone('B');
    for (const [i, z] of [zoneB, zoneA, zoneB, zoneA].entries()) {
      const [c] = await t.ds.query(`INSERT INTO lims_camera (zone_id, name, is_active, created_at) VALUES ($1, $2, true, '2026-01-01T10:00:00.123456Z') RETURNING id`, [z, `c${i}`]);
      ids.push(Number(c.id));
    }
  });
  after(async () => t.close());

  it('lists cameras id ascending with X-Total-Count and millisecond timestamps', async () => {
    const r = await t.request('GET', '/cameras', { token: user });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-total-count'), '4');
    assert.deepEqual(
      r.body.map((c: { id: number }) => c.id),
      ids,
    );
    assert.equal(r.body[0].created_at, '2026-01-01T10:00:00.123Z');
    assert.equal(r.body[0].zone.name, 'B');
  });

  it('filters by zone_id and pages; unknown zones give [] and bad ones 400', async () => {
    const r = await t.request('GET', `/cameras/?zone_id=${zoneA}`, { token: user });
    assert.deepEqual(
      r.body.map((c: { name: string }) => c.name),
      ['c1', 'c3'],
    );
    assert.equal(r.headers.get('x-total-count'), '2');
    const page = await t.request('GET', `/cameras/?zone_id=${zoneB}&limit=1&offset=1`, { token: user });
    assert.deepEqual(
      page.body.map((c: { name: string }) => c.name),
      ['c2'],
    );
    const none = await t.request('GET', '/cameras/?zone_id=424242', { token: user });
    assert.deepEqual(none.body, []);
    const bad = await t.request('GET', '/cameras/?zone_id=B', { token: user });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { zone_id: ['A valid integer is required.'] });
  });
});
