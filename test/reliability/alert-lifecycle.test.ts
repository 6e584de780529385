import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ReminderWorker } from '../../src/alerts/reminder.worker';
import { startCrowdServer, type CrowdServer } from '../doubles/crowd-server';
import { REAL_POSTGRES } from '../support/database';
import { jpeg } from '../support/images';
import { createSite, detect, type Site } from '../support/sensor';
import { startTestApp, type TestApp } from '../support/test-app';

const NO_PG = 'needs PostgreSQL (TEST_DATABASE_URL): PGlite runs one transaction at a time, so two instances never race there';

interface Envelope {
  id: number;
  type: string;
  data: { alert: { id: number }; reminder?: number; resolution?: string };
}

/**
 * ALERTING.md §5, §7 on two instances sharing one PostgreSQL: every due reminder is emitted
 * exactly once although both instances sweep at the same moment, and an alert that two calm readings qualify at
 * the same moment is resolved once.
 */
describe('alert lifecycle on two instances', { skip: REAL_POSTGRES ? false : NO_PG }, () => {
  let one: TestApp;
  let two: TestApp;
  let crowd: CrowdServer;
  let admin: string;

  before(async () => {
    crowd = await startCrowdServer();
    const env = { CROWD_PREDICT_URL: crowd.predictUrl, SENSOR_THROTTLE_MS: '0', LIFECYCLE_SWEEP_INTERVAL: '60s' };
    one = await startTestApp({ env });
    two = await startTestApp({ env, db: one.db });
    admin = (await one.admin()).token;
  });
  after(async () => {
    await two.close();
    await one.close();
    await crowd.close();
  });

  const events = async (type: string, after: number): Promise<Envelope[]> => {
    const out: Envelope[] = [];
    for (;;) {
      const r = await one.request('GET', `/events/?types=${type}&after=${out.length ? out[out.length - 1].id : after}&limit=500`, { token: admin });
      assert.equal(r.status, 200, r.text);
      out.push(...(r.body as Envelope[]));
      if (r.body.length < 500) {
        return out;
      }
    }
  };
  const lastEventId = async (): Promise<number> => {
    const [{ id }] = (await one.ds.query('SELECT COALESCE(max(id), 0)::bigint AS id FROM ecoflow_event')) as { id: number }[];
    return Number(id);
  };

  it('emits each due reminder exactly once across instances', async () => {
    const site = await createSite(one);
    const ids: number[] = [];
    for (let i = 0; i < 40; i += 1) {
      // one open alert per (zone, camera): camera-less ones of fresh zones
      const zone = i === 0 ? site.zone : (await createSite(one)).zone;
      const r = await one.request('POST', '/alerts/', { token: admin, body: { heading: `h${i}`, zone_id: zone.id } });
      assert.equal(r.status, 201, r.text);
      ids.push(r.body.id);
    }
    const from = await lastEventId();
    // 35 minutes old: reminders 1, 2 and 3 are all due; both instances sweep at once, repeatedly
    // (their timers are set to 60 s, so these explicit sweeps are the only ones)
    await one.ds.query(`UPDATE lims_alert SET remind_from = now() - interval '35 minutes' WHERE id = ANY($1)`, [ids]);
    const sweepers = [one.app.get(ReminderWorker), two.app.get(ReminderWorker)];
    let emitted = 0;
    for (let round = 0; round < 5; round += 1) {
      const counts = await Promise.all([...sweepers, ...sweepers].map((w) => w.sweep()));
      emitted += counts.reduce((a, b) => a + b, 0);
    }
    assert.equal(emitted, 120, 'the sweeps together emitted each reminder once');
    const got = (await events('alert.reminder', from)).filter((e) => ids.includes(e.data.alert.id));
    const keys = got.map((e) => `${e.data.alert.id}#${e.data.reminder}`);
    assert.equal(new Set(keys).size, keys.length, 'no reminder twice');
    assert.equal(got.length, 120);
    for (const id of ids) {
      assert.deepEqual(
        got.filter((e) => e.data.alert.id === id).map((e) => e.data.reminder),
        [1, 2, 3],
      );
    }
  });

  it('resolves an alert once when calm readings qualify it on both instances at the same moment', async () => {
    const sites: Site[] = [];
    const alerts: number[] = [];
    const image = await jpeg(64, 48);
    for (let i = 0; i < 10; i += 1) {
      const site = await createSite(one, { capacity: 10 });
      crowd.setDefault({ count: 9 });
      const r = await detect(one, { key: site.key, zoneId: site.zone.id, file: image });
      assert.equal(r.body.alert_created, true);
      crowd.setDefault({ count: 1 });
      assert.equal((await detect(two, { key: site.key, zoneId: site.zone.id, file: image })).status, 200);
      sites.push(site);
      alerts.push(r.body.alert_id);
    }
    const from = await lastEventId();
    await one.ds.query(`UPDATE lims_alert SET calm_since = now() - interval '10 minutes' WHERE id = ANY($1)`, [alerts]);
    const uploads = sites.flatMap((site) => [one, two, one, two].map((t) => detect(t, { key: site.key, zoneId: site.zone.id, file: image })));
    const answers = await Promise.all(uploads);
    assert.deepEqual([...new Set(answers.map((a) => a.status))], [200]);
    const resolved = (await events('alert.resolved', from)).filter((e) => alerts.includes(e.data.alert.id));
    assert.deepEqual(resolved.map((e) => e.data.alert.id).sort((a, b) => a - b), [...alerts].sort((a, b) => a - b), 'each alert resolved exactly once');
    assert.ok(resolved.every((e) => e.data.resolution === 'auto'));
  });
});
