import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LivenessSweepWorker } from '../../src/liveness/liveness-sweep.worker';
import type { Zone } from '../../src/sites/zone.entity';
import { startCrowdServer, type CrowdServer } from '../doubles/crowd-server';
import { REAL_POSTGRES } from '../support/database';
import { jpeg } from '../support/images';
import { sleep } from '../support/raw-http';
import { addCamera, createSite, detect } from '../support/sensor';
import { startTestApp, type TestApp } from '../support/test-app';
import { until } from '../support/until';

const NO_PG = 'needs PostgreSQL (TEST_DATABASE_URL): two instances on one database; PGlite runs one transaction at a time, so claims never race there';

// long enough that a slow round of uploads on a loaded CI machine is not itself a silence; the
// rounds line last_seen_at up just short of it, so it costs no waiting
const OFFLINE_AFTER_MS = 8000;
const SWEEP_MS = 100;
const CAMERAS = 30;

/**
 * ALERTING.md §6/§7: one `camera.offline` and one `camera.online` per transition across all
 * instances. Two instances sweep the same database every 100 ms, and on top of their timers the
 * test fires overlapping sweeps on both at the moment 30 cameras become due together; then every
 * camera comes back with one upload to each instance at the same time.
 */
describe('camera liveness across two instances', { skip: REAL_POSTGRES ? false : NO_PG }, () => {
  let one: TestApp;
  let two: TestApp;
  let crowd: CrowdServer;
  let admin: string;
  let image: Buffer;
  const cams: { id: number; key: string; zone: Zone }[] = [];

  before(async () => {
    crowd = await startCrowdServer();
    crowd.setDefault({ count: 1 });
    const env = {
      CROWD_PREDICT_URL: crowd.predictUrl,
      SENSOR_THROTTLE_MS: '0',
      CAMERA_OFFLINE_AFTER: `${OFFLINE_AFTER_MS}ms`,
      LIFECYCLE_SWEEP_INTERVAL: `${SWEEP_MS}ms`,
    };
    one = await startTestApp({ env });
    two = await startTestApp({ env, db: one.db });
    admin = (await one.admin()).token;
    image = await jpeg(64, 48);
    // three zones in two organizations, ten cameras each
    for (let z = 0; z < 3; z++) {
      const site = await createSite(one, { capacity: 100 });
      cams.push({ id: site.camera.id, key: site.key, zone: site.zone });
      for (let i = 1; i < CAMERAS / 3; i++) {
        const c = await addCamera(one, site.zone);
        cams.push({ id: c.camera.id, key: c.key, zone: site.zone });
      }
    }
  });
  after(async () => {
    await two.close();
    await one.close();
    await crowd.close();
  });

  const events = async (type: string): Promise<any[]> => {
    const r = await one.request('GET', `/events/?types=${type}&limit=500`, { token: admin });
    assert.equal(r.status, 200, r.text);
    const ids = new Set(cams.map((c) => c.id));
    return (r.body as any[]).filter((e) => ids.has(e.data.camera.id));
  };
  /** Events of `type` per camera id (every camera listed, 0 when none). */
  const perCamera = async (type: string): Promise<Record<number, number>> => {
    const out: Record<number, number> = Object.fromEntries(cams.map((c) => [c.id, 0]));
    for (const e of await events(type)) {
      out[e.data.camera.id] += 1;
    }
    return out;
  };
  const each = (n: number): Record<number, number> => Object.fromEntries(cams.map((c) => [c.id, n]));

  /** Every camera uploads once to each instance, all at the same time; every upload answers 200. */
  const uploadEverywhere = async (): Promise<void> => {
    const res = await Promise.all(cams.flatMap((c) => [one, two].map((t) => detect(t, { key: c.key, zoneId: c.zone.id, file: image }))));
    for (const r of res) {
      assert.equal(r.status, 200, r.text);
    }
  };

  /** Overlapping sweeps on both instances for `ms`, besides the timers. */
  const stormOfSweeps = async (ms: number): Promise<void> => {
    const workers = [one.app.get(LivenessSweepWorker), two.app.get(LivenessSweepWorker)];
    const end = Date.now() + ms;
    await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        while (Date.now() < end) {
          await workers[i % 2].sweep();
        }
      }),
    );
  };

  for (const round of [1, 2]) {
    it(`round ${round}: ${CAMERAS} cameras silent at once give exactly one camera.offline each; back at once, exactly one camera.online each`, async () => {
      await uploadEverywhere();
      // line them up: all due at the same instant, 300 ms from now
      await one.ds.query(`UPDATE lims_camera SET last_seen_at = now() - ($2::int * interval '1 millisecond') WHERE id = ANY($1::bigint[])`, [
        cams.map((c) => c.id),
        OFFLINE_AFTER_MS - 300,
      ]);
      await sleep(250);
      await stormOfSweeps(500);
      await until(`${CAMERAS * round} camera.offline`, async () => (await events('camera.offline')).length >= CAMERAS * round, 5000);
      await sleep(SWEEP_MS * 5); // more sweeps on both timers
      assert.deepEqual(await perCamera('camera.offline'), each(round), 'one camera.offline per camera per silence');

      await uploadEverywhere();
      assert.deepEqual(await perCamera('camera.online'), each(round), 'one camera.online per camera per return, with two uploads racing');
      const [flags] = (await one.ds.query(`SELECT count(*)::int AS n FROM lims_camera WHERE id = ANY($1::bigint[]) AND offline_announced`, [cams.map((c) => c.id)])) as {
        n: number;
      }[];
      assert.equal(flags.n, 0, 'every camera is back');
    });
  }

  it('per camera the events alternate offline, online, offline, online', async () => {
    const all = [...(await events('camera.offline')), ...(await events('camera.online'))].sort((a, b) => a.id - b.id);
    for (const c of cams) {
      // the timers may have announced a third silence since the last round: look at the first four
      assert.deepEqual(
        all
          .filter((e) => e.data.camera.id === c.id)
          .slice(0, 4)
          .map((e) => e.type),
        ['camera.offline', 'camera.online', 'camera.offline', 'camera.online'],
        `camera ${c.id}`,
      );
    }
  });
});
