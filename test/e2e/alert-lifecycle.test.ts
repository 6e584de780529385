import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { ReminderWorker } from '../../src/alerts/reminder.worker';
import { startCrowdServer, type CrowdServer } from '../doubles/crowd-server';
import { jpeg } from '../support/images';
import { createSite, detect, type Site } from '../support/sensor';
import { startTestApp, type TestApp } from '../support/test-app';
import { until } from '../support/until';

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface Envelope {
  id: number;
  type: string;
  data: { alert: { id: number; status: string; resolution: string | null }; resolution?: string; reminder?: number; user_id?: number };
}

/**
 * ALERTING.md §5: acknowledge, resolved fields, last/peak people, auto-resolve with hysteresis
 * (C13), reminders and snapshots. Time is moved by back-dating the rows the rules read (the calm
 * span's start, the reminder base), so the defaults (5m, 10m) are what is tested, without sleeps.
 */
describe('alert lifecycle', () => {
  let t: TestApp;
  let crowd: CrowdServer;
  let admin: string;
  let operator: { token: string; id: number };

  before(async () => {
    crowd = await startCrowdServer();
    t = await startTestApp({ env: { CROWD_PREDICT_URL: crowd.predictUrl, SENSOR_THROTTLE_MS: '0', LIFECYCLE_SWEEP_INTERVAL: '100ms' } });
    admin = (await t.admin()).token;
    const op = await t.operator();
    operator = { token: op.token, id: op.user.id };
  });
  after(async () => {
    await t.close();
    await crowd.close();
  });

  const upload = async (site: Site, people: number, file?: Buffer): Promise<{ status: string; alert_id?: number; alert_created?: boolean }> => {
    crowd.setDefault({ count: people });
    const r = await detect(t, { key: site.key, zoneId: site.zone.id, file: file ?? (await jpeg(64, 48)) });
    assert.equal(r.status, 200, r.text);
    return r.body;
  };
  const alertOf = async (id: number): Promise<Record<string, unknown>> => {
    const r = await t.request('GET', `/alerts/${id}/`, { token: operator.token });
    assert.equal(r.status, 200, r.text);
    return r.body;
  };
  const eventsOf = async (alertId: number, type: string): Promise<Envelope[]> => {
    const r = await t.request('GET', `/events/?types=${type}&limit=500`, { token: admin });
    assert.equal(r.status, 200, r.text);
    return (r.body as Envelope[]).filter((e) => e.data.alert.id === alertId);
  };
  /** Moves the start of the alert's calm span `minutes` into the past. */
  const ageCalmSpan = (alertId: number, minutes: number): Promise<unknown> =>
    t.ds.query(`UPDATE lims_alert SET calm_since = calm_since - $2 * interval '1 minute' WHERE id = $1`, [alertId, minutes]);
  const openAlert = async (site: Site, people = 9): Promise<number> => {
    const r = await upload(site, people);
    assert.equal(r.alert_created, true);
    return r.alert_id!;
  };

  describe('acknowledge', () => {
    it('records the first acknowledgement with one event; a repeat changes nothing; closed is 409; unknown is 404', async () => {
      const site = await createSite(t);
      const id = await openAlert(site);
      const first = await t.request('POST', `/alerts/${id}/acknowledge/`, { token: operator.token });
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.acknowledged_by, operator.id);
      assert.match(first.body.acknowledged_at, ISO_MS);
      assert.equal(first.body.status, 'OPEN');
      const again = await t.request('POST', `/alerts/${id}/acknowledge`, { token: admin });
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, first.body, 'the second acknowledgement changes nothing');
      const acks = await eventsOf(id, 'alert.acknowledged');
      assert.equal(acks.length, 1);
      assert.equal(acks[0].data.user_id, operator.id);

      await t.request('PATCH', `/alerts/${id}/`, { token: operator.token, body: { status: 'CLOSED' } });
      const closed = await t.request('POST', `/alerts/${id}/acknowledge/`, { token: operator.token });
      assert.equal(closed.status, 409);
      assert.deepEqual(closed.body, { detail: 'Alert is closed.' });
      const unknown = await t.request('POST', '/alerts/999999/acknowledge/', { token: operator.token });
      assert.equal(unknown.status, 404);
      const anonymous = await t.request('POST', `/alerts/${id}/acknowledge/`);
      assert.equal(anonymous.status, 401);
    });
  });

  describe('manual close and reopen', () => {
    it('sets resolved_* with resolution manual and the user, and clears them on reopening', async () => {
      const site = await createSite(t);
      const id = await openAlert(site);
      const closed = await t.request('PUT', `/alerts/${id}/`, { token: operator.token, body: { status: 'CLOSED' } });
      assert.equal(closed.status, 200);
      assert.equal(closed.body.resolution, 'manual');
      assert.equal(closed.body.resolved_by, operator.id);
      assert.match(closed.body.resolved_at, ISO_MS);
      const resolved = await eventsOf(id, 'alert.resolved');
      assert.deepEqual(resolved.map((e) => e.data.resolution), ['manual']);
      const reopened = await t.request('PATCH', `/alerts/${id}/`, { token: operator.token, body: { status: 'OPEN' } });
      assert.equal(reopened.status, 200);
      assert.deepEqual([reopened.body.resolution, reopened.body.resolved_by, reopened.body.resolved_at], [null, null, null]);
    });
  });

  describe('DANGER detections on an open alert', () => {
    it('update last_people, last_detected_at and peak_people (the maximum); heading keeps the opening reading', async () => {
      const site = await createSite(t, { capacity: 10 });
      const id = await openAlert(site, 9);
      const opened = await alertOf(id);
      assert.deepEqual([opened.last_people, opened.peak_people], [9, 9]);
      assert.match(String(opened.last_detected_at), ISO_MS);
      assert.equal((await upload(site, 14)).alert_id, id);
      assert.equal((await upload(site, 11)).alert_id, id);
      const now = await alertOf(id);
      assert.deepEqual([now.last_people, now.peak_people], [11, 14]);
      assert.ok(Date.parse(String(now.last_detected_at)) >= Date.parse(String(opened.last_detected_at)));
      assert.equal(now.sub_heading, opened.sub_heading, 'sub_heading keeps the opening reading (the dashboard parses it)');
      // a NORMAL reading is not a DANGER detection
      await upload(site, 2);
      assert.equal((await alertOf(id)).last_people, 11);
    });
  });

  describe('auto-resolve (C13)', () => {
    it('closes once readings stayed below 80 % for the span (default 5m), with at least two readings, and tells it', async () => {
      const site = await createSite(t, { capacity: 10 });
      const id = await openAlert(site);
      await upload(site, 7); // 70 %: calm, the span starts
      await ageCalmSpan(id, 4);
      await upload(site, 7); // 4 minutes of calm: not yet
      assert.equal((await alertOf(id)).status, 'OPEN');
      await ageCalmSpan(id, 1.1);
      await upload(site, 7);
      const a = await alertOf(id);
      assert.deepEqual([a.status, a.resolution, a.resolved_by], ['CLOSED', 'auto', null]);
      assert.match(String(a.resolved_at), ISO_MS);
      const resolved = await eventsOf(id, 'alert.resolved');
      assert.equal(resolved.length, 1);
      assert.equal(resolved[0].data.resolution, 'auto');
      assert.equal(resolved[0].data.alert.status, 'CLOSED');
      // the next DANGER detection opens a new alert
      const next = await upload(site, 9);
      assert.equal(next.alert_created, true);
    });

    it('changes nothing between 80 and 90 % (hysteresis): such a reading restarts the span', async () => {
      const site = await createSite(t, { capacity: 10 });
      const id = await openAlert(site);
      for (let i = 0; i < 3; i += 1) {
        await upload(site, 8); // exactly 80 %: not below
      }
      await ageCalmSpan(id, 60);
      await upload(site, 8);
      assert.equal((await alertOf(id)).status, 'OPEN');
      await upload(site, 7);
      await ageCalmSpan(id, 10);
      await upload(site, 8); // in the band: the calm span is over
      await upload(site, 7);
      assert.equal((await alertOf(id)).status, 'OPEN', 'the 7 after the 8 starts a new span');
    });

    it('never resolves on silence', async () => {
      const site = await createSite(t, { capacity: 10 });
      const id = await openAlert(site);
      await upload(site, 1);
      await upload(site, 1);
      await ageCalmSpan(id, 60);
      // an hour of calm and then silence: sweeps run (every 100 ms), but only a reading decides
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await alertOf(id)).status, 'OPEN');
      await upload(site, 1);
      assert.equal((await alertOf(id)).status, 'CLOSED', 'the next calm reading resolves it');
    });

    it('restarts the span on a DANGER reading', async () => {
      const site = await createSite(t, { capacity: 10 });
      const id = await openAlert(site);
      await upload(site, 2);
      await ageCalmSpan(id, 10);
      assert.equal((await upload(site, 10)).alert_id, id); // DANGER again
      await upload(site, 2);
      assert.equal((await alertOf(id)).status, 'OPEN', 'the calm before the DANGER reading does not count');
    });

    it('is off with ALERT_AUTO_RESOLVE_AFTER=0', async () => {
      const off = await startTestApp({ env: { CROWD_PREDICT_URL: crowd.predictUrl, SENSOR_THROTTLE_MS: '0', ALERT_AUTO_RESOLVE_AFTER: '0' } });
      try {
        const site = await createSite(off, { capacity: 10 });
        crowd.setDefault({ count: 9 });
        const opened = await detect(off, { key: site.key, zoneId: site.zone.id, file: await jpeg(64, 48) });
        const id = opened.body.alert_id as number;
        crowd.setDefault({ count: 1 });
        for (let i = 0; i < 3; i += 1) {
          await detect(off, { key: site.key, zoneId: site.zone.id, file: await jpeg(64, 48) });
          await off.ds.query(`UPDATE lims_alert SET calm_since = now() - interval '1 day' WHERE id = $1`, [id]);
        }
        const [row] = (await off.ds.query('SELECT status FROM lims_alert WHERE id = $1', [id])) as { status: string }[];
        assert.equal(row.status, 'OPEN');
      } finally {
        await off.close();
      }
    });
  });

  describe('reminders', () => {
    /** Moves the alert's reminder base `minutes` into the past. */
    const age = (alertId: number, minutes: number): Promise<unknown> =>
      t.ds.query(`UPDATE lims_alert SET remind_from = remind_from - $2 * interval '1 minute' WHERE id = $1`, [alertId, minutes]);
    const reminders = async (alertId: number): Promise<number[]> => (await eventsOf(alertId, 'alert.reminder')).map((e) => e.data.reminder!);

    it('are sent every 10 minutes while open and unacknowledged, numbered, at most 3 times', async () => {
      const site = await createSite(t);
      const id = await openAlert(site);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(await reminders(id), [], 'none before the first is due');
      await age(id, 10.1);
      await until('the first reminder', async () => (await reminders(id)).length === 1 || undefined, 5000);
      await age(id, 20); // 30 minutes: the 2nd and 3rd are due at once, each told once
      await until('reminders 2 and 3', async () => (await reminders(id)).length === 3 || undefined, 5000);
      await age(id, 60);
      await new Promise((r) => setTimeout(r, 400));
      assert.deepEqual(await reminders(id), [1, 2, 3], 'at most ALERT_REMIND_MAX');
    });

    it('stop after acknowledgement and after closing; reopening starts them over', async () => {
      const site = await createSite(t);
      const acked = await openAlert(site);
      await t.request('POST', `/alerts/${acked}/acknowledge/`, { token: operator.token });
      await age(acked, 45);
      const other = await createSite(t);
      const closed = await openAlert(other);
      await t.request('PATCH', `/alerts/${closed}/`, { token: operator.token, body: { status: 'CLOSED' } });
      await age(closed, 45);
      await new Promise((r) => setTimeout(r, 400));
      assert.deepEqual(await reminders(acked), []);
      assert.deepEqual(await reminders(closed), []);
      await t.request('PATCH', `/alerts/${closed}/`, { token: operator.token, body: { status: 'OPEN' } });
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(await reminders(closed), [], 'a reopened alert is reminded from its reopening');
      await age(closed, 10.1);
      await until('the reopened alert reminded', async () => (await reminders(closed)).length === 1 || undefined, 5000);
      // the sweep's own count agrees: nothing more is due now
      assert.equal(await t.app.get(ReminderWorker).sweep(), 0);
    });
  });

  describe('snapshots', () => {
    it('keep the opening image upright-sized (≤ 1024 px), JPEG, without metadata, behind authentication', async () => {
      const site = await createSite(t);
      const photo = await sharp({ create: { width: 2000, height: 1500, channels: 3, background: { r: 200, g: 100, b: 50 } } })
        .jpeg()
        .withMetadata({ exif: { IFD0: { Copyright: 'secret-serial-123', Make: 'CamCo' } } })
        .toBuffer();
      assert.ok((await sharp(photo).metadata()).exif, 'the upload carries EXIF');
      const r = await upload(site, 9, photo);
      const id = r.alert_id!;
      assert.equal((await alertOf(id)).has_snapshot, true);
      const snap = await t.request('GET', `/alerts/${id}/snapshot/`, { token: operator.token });
      assert.equal(snap.status, 200);
      assert.equal(snap.headers.get('content-type'), 'image/jpeg');
      assert.equal(snap.headers.get('cache-control'), 'private, max-age=86400');
      const meta = await sharp(snap.bytes).metadata();
      assert.equal(meta.format, 'jpeg');
      // 2000 px JPEG: decoded at 1/2 scale (shrink-on-load), within 1024, aspect kept
      assert.deepEqual([meta.width, meta.height], [1000, 750]);
      assert.equal(meta.exif, undefined, 'EXIF stripped');
      assert.ok(!snap.bytes.includes(Buffer.from('secret-serial-123')));
      // a repeat DANGER detection does not replace it
      await upload(site, 10, await jpeg(32, 32));
      const again = await t.request('GET', `/alerts/${id}/snapshot`, { token: admin });
      assert.deepEqual(again.bytes, snap.bytes);
      assert.equal((await t.request('GET', `/alerts/${id}/snapshot/`)).status, 401);
    });

    it('answer 404 "No snapshot." for an alert without one, and the model 404 for an unknown alert', async () => {
      const site = await createSite(t);
      const created = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'manual', zone_id: site.zone.id } });
      assert.equal(created.body.has_snapshot, false);
      const none = await t.request('GET', `/alerts/${created.body.id}/snapshot/`, { token: operator.token });
      assert.equal(none.status, 404);
      assert.deepEqual(none.body, { detail: 'No snapshot.' });
      const unknown = await t.request('GET', '/alerts/999999/snapshot/', { token: operator.token });
      assert.equal(unknown.status, 404);
      assert.notDeepEqual(unknown.body, { detail: 'No snapshot.' });
    });

    it('are purged after SNAPSHOT_RETENTION_DAYS, in batches, leaving the alert', async () => {
      const site = await createSite(t);
      const id = await openAlert(site);
      const other = await openAlert(await createSite(t));
      await t.ds.query(`UPDATE ecoflow_alert_snapshot SET created_at = now() - interval '31 days' WHERE alert_id = $1`, [id]);
      assert.ok((await t.app.get(ReminderWorker).purgeSnapshots()) >= 1);
      assert.equal((await alertOf(id)).has_snapshot, false);
      assert.equal((await t.request('GET', `/alerts/${id}/snapshot/`, { token: admin })).status, 404);
      assert.equal((await alertOf(other)).has_snapshot, true, 'a 30-day-young snapshot stays');
    });

    it('are not kept at all with SNAPSHOT_RETENTION_DAYS=0', async () => {
      const off = await startTestApp({ env: { CROWD_PREDICT_URL: crowd.predictUrl, SNAPSHOT_RETENTION_DAYS: '0' } });
      try {
        const site = await createSite(off);
        crowd.setDefault({ count: 9 });
        const r = await detect(off, { key: site.key, zoneId: site.zone.id, file: await jpeg(640, 480) });
        assert.equal(r.body.alert_created, true);
        const [{ n }] = (await off.ds.query('SELECT count(*)::int AS n FROM ecoflow_alert_snapshot')) as { n: number }[];
        assert.equal(n, 0);
      } finally {
        await off.close();
      }
    });
  });
});
