import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CameraLiveness } from '../../src/liveness/camera-liveness.service';
import { Camera } from '../../src/sites/camera.entity';
import { CrowdServer, startCrowdServer } from '../doubles/crowd-server';
import { jpeg } from '../support/images';
import { sleep } from '../support/raw-http';
import { addCamera, createSite, detect, type Site } from '../support/sensor';
import { startTestApp, type TestApp } from '../support/test-app';
import { until } from '../support/until';

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const OFFLINE_AFTER_MS = 2000;
const SWEEP_MS = 200;

/** ALERTING.md §6 camera liveness: last_seen_at and online on the wire, camera.offline/online once per transition. */
describe('camera liveness', () => {
  let t: TestApp;
  let crowd: CrowdServer;
  let site: Site;
  let neverSeen: Camera;
  let inactive: { camera: Camera; key: string };
  let admin: string;
  let image: Buffer;

  before(async () => {
    crowd = await startCrowdServer();
    crowd.setDefault({ count: 1 });
    t = await startTestApp({
      env: {
        CROWD_PREDICT_URL: crowd.predictUrl,
        SENSOR_THROTTLE_MS: '0',
        CAMERA_OFFLINE_AFTER: `${OFFLINE_AFTER_MS}ms`,
        LIFECYCLE_SWEEP_INTERVAL: `${SWEEP_MS}ms`,
      },
    });
    admin = (await t.admin()).token;
    image = await jpeg(64, 48);
    site = await createSite(t, { capacity: 10, zoneName: 'Lobby' });
    neverSeen = (await addCamera(t, site.zone)).camera;
    inactive = await addCamera(t, site.zone, false);
    // an inactive camera authenticates (its upload is refused later, at step 8b with 403): it is seen,
    // and one seen long ago was already silent for far longer than CAMERA_OFFLINE_AFTER
    const refused = await detect(t, { key: inactive.key, zoneId: site.zone.id, cameraId: inactive.camera.id, file: image });
    assert.equal(refused.status, 403, refused.text);
    await t.ds.query(`UPDATE lims_camera SET last_seen_at = now() - interval '1 hour' WHERE id = $1`, [inactive.camera.id]);
  });
  after(async () => {
    await t.close();
    await crowd.close();
  });

  const camera = async (id: number): Promise<any> => {
    const r = await t.request('GET', `/cameras/${id}/`, { token: admin });
    assert.equal(r.status, 200, r.text);
    return r.body;
  };
  const cameraEvents = async (type: string, cameraId: number): Promise<any[]> => {
    const r = await t.request('GET', `/events/?types=${type}&limit=500`, { token: admin });
    assert.equal(r.status, 200, r.text);
    return (r.body as any[]).filter((e) => e.data.camera.id === cameraId);
  };

  it('a never-seen camera has last_seen_at null and online false, in the camera JSON with the two new keys', async () => {
    const body = await camera(neverSeen.id);
    assert.deepEqual(Object.keys(body), ['id', 'name', 'is_active', 'zone', 'created_at', 'has_device_key', 'last_seen_at', 'online']);
    assert.equal(body.last_seen_at, null);
    assert.equal(body.online, false);
    const list = await t.request('GET', `/cameras/?zone_id=${site.zone.id}`, { token: admin });
    assert.deepEqual(
      (list.body as any[]).map((c) => [c.id, c.online, c.last_seen_at === null]),
      [
        [site.camera.id, false, true],
        [neverSeen.id, false, true],
        [inactive.camera.id, false, false],
      ],
    );
  });

  it('an upload sets last_seen_at and online; silence emits exactly one camera.offline; the next upload exactly one camera.online', async () => {
    const before = Date.now();
    const first = await detect(t, { key: site.key, zoneId: site.zone.id, file: image });
    assert.equal(first.status, 200, first.text);
    const seen = await camera(site.camera.id);
    assert.match(seen.last_seen_at, ISO_MS);
    assert.ok(Math.abs(Date.parse(seen.last_seen_at) - before) < 1000, seen.last_seen_at);
    assert.equal(seen.online, true);
    assert.equal((await cameraEvents('camera.offline', site.camera.id)).length, 0, 'no event while it is online');

    // silence: due OFFLINE_AFTER after the upload, announced within a few sweeps of that
    const offline = await until('camera.offline', async () => (await cameraEvents('camera.offline', site.camera.id))[0], 8000);
    const lag = Date.parse(offline.created_at) - Date.parse(seen.last_seen_at);
    assert.ok(lag >= OFFLINE_AFTER_MS && lag < OFFLINE_AFTER_MS + 2000, `announced ${lag} ms after the last upload`);
    assert.equal(offline.organization_id, site.zone.organizationId);
    const org = (await t.request('GET', `/organizations/${site.zone.organizationId}/`, { token: admin })).body;
    assert.deepEqual(offline.data, {
      camera: { id: site.camera.id, name: site.camera.name },
      zone: { id: site.zone.id, name: 'Lobby' },
      organization: { id: site.zone.organizationId, name: org.name },
      last_seen_at: seen.last_seen_at,
    });
    const silent = await camera(site.camera.id);
    assert.equal(silent.online, false);
    assert.equal(silent.last_seen_at, seen.last_seen_at);
    await sleep(SWEEP_MS * 4);
    assert.equal((await cameraEvents('camera.offline', site.camera.id)).length, 1, 'later sweeps announce nothing again');

    // back: the upload's own transaction writes camera.online, so it is there when the response is
    const back = await detect(t, { key: site.key, zoneId: site.zone.id, file: image });
    assert.equal(back.status, 200, back.text);
    const again = await detect(t, { key: site.key, zoneId: site.zone.id, file: image });
    assert.equal(again.status, 200, again.text);
    const online = await cameraEvents('camera.online', site.camera.id);
    assert.equal(online.length, 1, JSON.stringify(online));
    assert.ok(online[0].id > offline.id);
    assert.deepEqual({ ...online[0].data, last_seen_at: null }, { ...offline.data, last_seen_at: null });
    assert.match(online[0].data.last_seen_at, ISO_MS);
    assert.ok(Date.parse(online[0].data.last_seen_at) > Date.parse(seen.last_seen_at) + OFFLINE_AFTER_MS);
    const up = await camera(site.camera.id);
    assert.equal(up.online, true);
    assert.ok(Date.parse(up.last_seen_at) >= Date.parse(online[0].data.last_seen_at), 'the second upload moved last_seen_at on');
  });

  it('a camera never seen and an inactive camera (even one silent for an hour) produce no event', async () => {
    // the earlier case ran for more than OFFLINE_AFTER; make sure of it and of a few sweeps more
    await sleep(SWEEP_MS * 3);
    for (const id of [neverSeen.id, inactive.camera.id]) {
      assert.deepEqual(await cameraEvents('camera.offline', id), [], `camera ${id}`);
      assert.deepEqual(await cameraEvents('camera.online', id), [], `camera ${id}`);
    }
    const [row] = await t.ds.query('SELECT offline_announced FROM lims_camera WHERE id = $1', [inactive.camera.id]);
    assert.equal(row.offline_announced, false);
    assert.equal((await camera(inactive.camera.id)).online, false, 'online is about last_seen_at only');
  });

  it('PATCH and POST answer with last_seen_at and online too', async () => {
    const patched = await t.request('PATCH', `/cameras/${site.camera.id}/`, { token: admin, body: { name: site.camera.name } });
    assert.equal(patched.status, 200, patched.text);
    assert.match(patched.body.last_seen_at, ISO_MS);
    assert.equal(typeof patched.body.online, 'boolean');
    const created = await t.request('POST', '/cameras/', { token: admin, body: { name: 'New cam', zone_id: site.zone.id } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.last_seen_at, null);
    assert.equal(created.body.online, false);
  });

  it('an upload whose authentication read the flag just before the sweep set it still announces camera.online', async () => {
    const late = await addCamera(t, site.zone);
    const entity = await t.ds.getRepository(Camera).findOneByOrFail({ id: late.camera.id });
    assert.equal(entity.offlineAnnounced, false);
    // the sweep claims it between the upload's key lookup and its update
    await t.ds.query(`UPDATE lims_camera SET last_seen_at = now() - interval '1 hour', offline_announced = true WHERE id = $1`, [late.camera.id]);
    await t.app.get(CameraLiveness).seen(entity);
    assert.equal((await cameraEvents('camera.online', late.camera.id)).length, 1);
    const body = await camera(late.camera.id);
    assert.equal(body.online, true);
  });

  it('an upload of a camera deleted meanwhile is no error and announces nothing, whatever flag auth read', async () => {
    const gone = await addCamera(t, site.zone);
    const entity = await t.ds.getRepository(Camera).findOneByOrFail({ id: gone.camera.id });
    await t.ds.query('DELETE FROM lims_camera WHERE id = $1', [gone.camera.id]);
    const liveness = t.app.get(CameraLiveness);
    await liveness.seen({ ...entity, offlineAnnounced: false } as Camera);
    await liveness.seen({ ...entity, offlineAnnounced: true } as Camera);
    assert.deepEqual(await cameraEvents('camera.online', gone.camera.id), []);
  });
});
