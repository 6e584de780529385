import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlertClaimService } from '../../src/alerts/alert-claim.service';
import { startTestApp, TestApp } from '../support/test-app';

const ORIGIN = 'https://dashboard.example';

/** The existing Next.js dashboard's own calls, exactly as it makes them (spec §1). */
describe('dashboard compatibility', () => {
  let t: TestApp;
  let admin: string;
  let operator: string;
  let orgId: number;
  let lobbyId: number;
  let cameraId: number;

  before(async () => {
    t = await startTestApp();
    admin = (await t.admin()).token;
    // the operator signs in through /auth/login/ like the dashboard must (C3)
    const creds = { email: 'Operator@Example.com', password: 'correct horse battery' };
    const reg = await t.request('POST', '/auth/register/', { body: creds });
    assert.equal(reg.status, 201, reg.text);
    const login = await t.request('POST', '/auth/login/', { body: creds });
    assert.equal(login.status, 200, login.text);
    assert.equal(login.body.role, 'USER');
    operator = login.body.access;

    const post = (path: string, body: unknown): Promise<any> => t.create(path, body);
    orgId = (await post('/organizations/', { name: 'Central Library', org_type: 'LIBRARY', latitude: 40.7128, longitude: -74.006 })).id;
    lobbyId = (await post('/zones/', { name: 'Main Lobby', zone_type: 'HALL', organization_id: orgId, capacity: 10 })).id;
    cameraId = (await post('/cameras/', { name: 'Door', zone_id: lobbyId })).id;
    await post('/zones/', { name: 'Reading Room', zone_type: 'ROOM', organization_id: orgId, capacity: 40 });
  });
  after(async () => t.close());

  /** An alert as the detector writes it (spec §5 texts). */
  const detectionAlert = async (camera: number | null): Promise<number> => {
    const claims = t.app.get(AlertClaimService);
    const res = await claims.claimOpenAlert({
      zoneId: lobbyId,
      cameraId: camera,
      capacity: 10,
      people: 9,
      heading: 'Overcrowding in Main Lobby',
      subHeading: `Detected 9/10 people. (Cam: ${camera ?? 'None'})`,
      image: Buffer.alloc(0),
    });
    return res.alert.id;
  };

  it('GET /alerts/?status=OPEN with a Bearer token lists open alerts the dashboard can parse', async () => {
    const id = await detectionAlert(cameraId);
    const r = await t.request('GET', '/alerts/?status=OPEN', { token: operator, headers: { origin: ORIGIN } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.match(r.headers.get('access-control-expose-headers') ?? '', /X-Total-Count/);
    const alert = r.body.find((a: { id: number }) => a.id === id);
    assert.ok(alert, 'the open alert is listed');
    assert.equal(alert.status, 'OPEN');
    assert.equal(alert.zone_id, lobbyId);
    assert.equal(alert.camera_id, cameraId);
    assert.equal(/\bin\s+(.+)$/i.exec(alert.heading)?.[1], 'Main Lobby');
    const m = /(\d+)\s*\/\s*(\d+)/.exec(alert.sub_heading);
    assert.deepEqual([m?.[1], m?.[2]], ['9', '10']);
  });

  it('closes an alert with PUT /alerts/{id}/ {"status":"CLOSED"}', async () => {
    const id = await detectionAlert(null);
    const r = await t.request('PUT', `/alerts/${id}/`, { token: operator, body: { status: 'CLOSED' }, headers: { origin: ORIGIN } });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'CLOSED');
    const open = await t.request('GET', '/alerts/?status=OPEN', { token: operator });
    assert.equal(
      open.body.some((a: { id: number }) => a.id === id),
      false,
    );
    const closed = await t.request('GET', '/alerts/?status=CLOSED', { token: operator });
    assert.ok(closed.body.some((a: { id: number }) => a.id === id));
  });

  it('closes an alert with PATCH, without a trailing slash', async () => {
    const other = (await t.request('POST', '/cameras/', { token: admin, body: { name: 'Window', zone_id: lobbyId } })).body.id;
    const id = await detectionAlert(other);
    const r = await t.request('PATCH', `/alerts/${id}`, { token: operator, body: { status: 'CLOSED' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'CLOSED');
    // the next detection for that key opens a fresh alert
    const next = await detectionAlert(other);
    assert.notEqual(next, id);
  });

  it('GET /organizations/{id} (no slash) returns the nested organization', async () => {
    const r = await t.request('GET', `/organizations/${orgId}`, { token: operator });
    assert.equal(r.status, 200);
    assert.equal(r.body.name, 'Central Library');
    assert.equal(r.body.latitude, '40.712800');
    assert.equal(r.body.longitude, '-74.006000');
    assert.deepEqual(
      r.body.zones.map((z: { name: string }) => z.name),
      ['Main Lobby', 'Reading Room'],
    );
    assert.equal(r.body.zones[0].cameras[0].id, cameraId);
  });

  it('GET /zones?org_id=… (no slash) returns the organization’s zones', async () => {
    const r = await t.request('GET', `/zones?org_id=${orgId}`, { token: operator });
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.map((z: { name: string; capacity: number }) => [z.name, z.capacity]),
      [
        ['Main Lobby', 10],
        ['Reading Room', 40],
      ],
    );
    assert.equal(r.headers.get('x-total-count'), '2');
    assert.equal(r.status, 200);
  });

  it('an operator cannot manage sites (C3)', async () => {
    const r = await t.request('POST', '/organizations/', { token: operator, body: { name: 'x', org_type: 'y' } });
    assert.equal(r.status, 403);
    assert.deepEqual(r.body, { detail: 'You do not have permission to perform this action.' });
  });
});
