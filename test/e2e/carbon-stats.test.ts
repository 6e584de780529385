import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CarbonLogService } from '../../src/carbon/carbon-log.service';
import { CarbonStatsCache } from '../../src/carbon/carbon-stats.cache';
import { CarbonStatsService } from '../../src/carbon/carbon-stats.service';
import { Zone } from '../../src/sites/zone.entity';
import { CrowdServer, startCrowdServer } from '../doubles/crowd-server';
import { GeminiServer, startGeminiServer } from '../doubles/gemini-server';
import { REAL_REDIS_URL } from '../support/database';
import { jpeg } from '../support/images';
import { createSite, detect } from '../support/sensor';
import { startTestApp, TestApp } from '../support/test-app';

describe('GET /carbon/stats/', () => {
  let t: TestApp;
  let crowd: CrowdServer;
  let gemini: GeminiServer;
  let token: string;

  before(async () => {
    [crowd, gemini] = await Promise.all([startCrowdServer(), startGeminiServer()]);
    t = await startTestApp({
      env: { CROWD_PREDICT_URL: crowd.predictUrl, GEMINI_API_KEY: 'test-gemini-key', GEMINI_BASE_URL: gemini.url, GEMINI_MAX_ATTEMPTS: '1', SENSOR_THROTTLE_MS: '0' },
    });
    token = (await t.operator()).token;
  });
  after(async () => {
    await t.close();
    await Promise.all([crowd.close(), gemini.close()]);
  });

  const stats = (query = ''): ReturnType<TestApp['request']> => t.request('GET', `/carbon/stats/${query}`, { token });

  /** A log written straight to the table: bypasses the cache invalidation on purpose. */
  async function rawLog(zoneId: number, saved: number, at: Date): Promise<void> {
    await t.ds.query('INSERT INTO lims_carbonlog (zone_id, saved_amount, "timestamp") VALUES ($1, $2, $3)', [zoneId, saved, at]);
  }

  it('needs a signed-in user; any role will do', async () => {
    const anon = await t.request('GET', '/carbon/stats/');
    assert.equal(anon.status, 401);
    const r = await stats();
    assert.equal(r.status, 200);
  });

  it('validates zone_id', async () => {
    for (const bad of ['abc', '1.5', '-1']) {
      const r = await stats(`?zone_id=${encodeURIComponent(bad)}`);
      assert.equal(r.status, 400, bad);
      assert.deepEqual(r.body, { zone_id: ['A valid integer is required.'] });
    }
  });

  it('answers zeros and an empty history for a zone without logs and for an unknown zone', async () => {
    const s = await createSite(t);
    for (const q of [`?zone_id=${s.zone.id}`, '?zone_id=987654321', '?zone_id=99999999999999999']) {
      const r = await stats(q);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { summary: { total_saved_all_time: 0, average_per_detection: 0 }, recent_history: [] }, q);
    }
  });

  it('sums, averages and rounds half to even on the exact double; lists the 10 newest with the current zone name', async () => {
    const s = await createSite(t, { zoneName: 'Lobby' });
    const other = await createSite(t, { zoneName: 'Other' });
    const logs = t.app.get(CarbonLogService);
    const base = Date.UTC(2026, 10, 22, 19, 7, 30);
    // 12 logs of 0.125 in Lobby: sum 1.5, avg 0.125 → 0.12 (a tie, to even)
    for (let i = 0; i < 12; i += 1) {
      await logs.record(s.zone.id, 0.125, new Date(base + i * 60_000));
    }
    await logs.record(other.zone.id, 2.675, new Date(base + 3_600_000));
    await t.ds.getRepository(Zone).update(s.zone.id, { name: 'Lobby renamed' });

    const r = await stats(`?zone_id=${s.zone.id}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.summary, { total_saved_all_time: 1.5, average_per_detection: 0.12 });
    assert.equal(r.body.recent_history.length, 10);
    assert.deepEqual(r.body.recent_history[0], { zone: 'Lobby renamed', saved: 0.125, date: '2026-11-22 19:18' });
    assert.deepEqual(r.body.recent_history[9], { zone: 'Lobby renamed', saved: 0.125, date: '2026-11-22 19:09' });

    const one = await stats(`?zone_id=${other.zone.id}`);
    assert.deepEqual(one.body, { summary: { total_saved_all_time: 2.67, average_per_detection: 2.67 }, recent_history: [{ zone: 'Other', saved: 2.675, date: '2026-11-22 20:07' }] });
  });

  it('rounds 0.135 up and keeps the unrounded value in the history', async () => {
    const s = await createSite(t);
    await t.app.get(CarbonLogService).record(s.zone.id, 0.135, new Date(Date.UTC(2026, 0, 2, 3, 4)));
    const r = await stats(`?zone_id=${s.zone.id}`);
    assert.deepEqual(r.body, { summary: { total_saved_all_time: 0.14, average_per_detection: 0.14 }, recent_history: [{ zone: s.zone.name, saved: 0.135, date: '2026-01-02 03:04' }] });
  });

  it('orders the history by timestamp then id, newest first, across all zones', async () => {
    const a = await createSite(t, { zoneName: 'Tie A' });
    const b = await createSite(t, { zoneName: 'Tie B' });
    const future = new Date(Date.UTC(2030, 5, 1, 12, 0));
    await rawLog(a.zone.id, 1, future);
    await rawLog(b.zone.id, 2, future);
    await t.app.get(CarbonLogService).record(a.zone.id, 3, new Date(Date.UTC(2030, 4, 1))); // invalidates "all"
    const r = await stats();
    assert.deepEqual(
      r.body.recent_history.slice(0, 3).map((h: { zone: string; saved: number }) => [h.zone, h.saved]),
      [
        ['Tie B', 2],
        ['Tie A', 1],
        ['Tie A', 3],
      ],
    );
    const [{ total, average }] = (await t.ds.query('SELECT SUM(saved_amount) AS total, AVG(saved_amount) AS average FROM lims_carbonlog')) as { total: number; average: number }[];
    assert.equal(r.body.summary.total_saved_all_time, Math.round(Number(total) * 100) / 100);
    assert.ok(Math.abs(r.body.summary.average_per_detection - Number(average)) <= 0.005);
  });

  it('is cached for 30 s and invalidated when a detection writes a new log', async () => {
    const s = await createSite(t, { capacity: 10 });
    const first = await stats(`?zone_id=${s.zone.id}`);
    assert.deepEqual(first.body.summary, { total_saved_all_time: 0, average_per_detection: 0 });
    const all = (await stats()).body;

    // a row written behind the service's back is not seen: the answer comes from the cache
    await rawLog(s.zone.id, 5, new Date());
    assert.deepEqual((await stats(`?zone_id=${s.zone.id}`)).body, first.body);
    assert.deepEqual((await stats()).body, all);

    // a detection's carbon log invalidates this zone's and the all-zone entries
    crowd.enqueue({ count: 3 });
    gemini.enqueue({ text: '4' });
    const d = await detect(t, { key: s.key, zoneId: s.zone.id, file: await jpeg(16, 16) });
    assert.equal(d.body.carbon_data.calculation_result, 0.75);
    const fresh = await stats(`?zone_id=${s.zone.id}`);
    assert.deepEqual(fresh.body.summary, { total_saved_all_time: 5.75, average_per_detection: 2.88 });
    assert.equal(fresh.body.recent_history.length, 2);
    assert.notDeepEqual((await stats()).body, all);
  });
});

describe(`carbon stats cache races (${REAL_REDIS_URL ? 'Redis' : 'in-process'} store)`, () => {
  let t: TestApp;
  let cache: CarbonStatsCache;
  before(async () => {
    t = await startTestApp();
    cache = t.app.get(CarbonStatsCache);
  });
  after(async () => t.close());

  it('a miss filled after a new log was recorded does not bring back the old figures', async () => {
    // reader: miss, computes from the database (before the new log commits) ...
    const read = await cache.read(7001);
    assert.equal(read.value, null);
    // ... writer: a new carbon log for the zone invalidates its key ...
    await cache.invalidateZone(7001);
    // ... reader: tries to cache what it computed; refused, so the next read recomputes
    assert.equal(await cache.fill(7001, read.stamp, { stale: true }), false);
    assert.equal(await cache.get(7001), null);
    // the all-zone key is invalidated by every zone's log too
    const all = await cache.read(null);
    await cache.invalidateZone(7002);
    assert.equal(await cache.fill(null, all.stamp, { stale: true }), false);
    assert.equal(await cache.get(null), null);
  });

  it('deleting a zone or organization refuses every fill that read before it, cached or not', async () => {
    const never = await cache.read(7003); // a key that was never cached
    await cache.invalidateAll();
    assert.equal(await cache.fill(7003, never.stamp, { stale: true }), false);
    assert.equal(await cache.get(7003), null);
  });

  it('fills when nothing changed in between, and other zones’ logs do not get in the way', async () => {
    const read = await cache.read<{ fresh: number }>(7004);
    await cache.invalidateZone(7005);
    assert.equal(await cache.fill(7004, read.stamp, { fresh: 1 }), true);
    assert.deepEqual(await cache.get(7004), { fresh: 1 });
    // a fill after an earlier invalidation (the key holds a tombstone) works too
    await cache.invalidateZone(7004);
    const again = await cache.read<{ fresh: number }>(7004);
    assert.equal(again.value, null);
    assert.equal(await cache.fill(7004, again.stamp, { fresh: 2 }), true);
    assert.deepEqual(await cache.get(7004), { fresh: 2 });
  });

  it('GET /carbon/stats/ never caches figures computed before a log that committed meanwhile', async () => {
    const { token } = await t.admin();
    const site = await createSite(t);
    const stats = async (): Promise<number> => (await t.request('GET', `/carbon/stats/?zone_id=${site.zone.id}`, { token })).body.summary.total_saved_all_time as number;
    // hold the stats request between its database read and its cache fill until the log is in
    const service = t.app.get(CarbonStatsService) as unknown as { compute: (z: number | null) => Promise<unknown> };
    const compute = service.compute.bind(service);
    let logged: Promise<unknown> = Promise.resolve();
    let readDone: () => void = () => undefined;
    service.compute = async (z) => {
      const figures = await compute(z);
      readDone();
      await logged;
      return figures;
    };
    try {
      for (let i = 1; i <= 3; i += 1) {
        let release!: () => void;
        logged = new Promise<void>((r) => (release = r));
        const read = new Promise<void>((r) => (readDone = r));
        const racing = stats(); // reads the old total, then waits
        // an event, not a timer (a loaded machine overran 50 ms): the racing request has read the
        // database, or answered from the cache without reading it
        await Promise.race([read, racing]);
        await t.app.get(CarbonLogService).record(site.zone.id, 1);
        release();
        assert.equal(await racing, i - 1, 'the racing request itself answered what it read');
        assert.equal(await stats(), i, `round ${i}: the new log is visible at once, not after the 30 s TTL`);
      }
    } finally {
      service.compute = compute;
    }
  });
});
