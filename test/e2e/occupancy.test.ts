import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OccupancyPurgeWorker } from '../../src/occupancy/occupancy-purge.worker';
import { CrowdServer, startCrowdServer } from '../doubles/crowd-server';
import { jpeg } from '../support/images';
import { addCamera, createSite, detect, type Site } from '../support/sensor';
import { SseClient } from '../support/sse-client';
import { startTestApp, type TestApp } from '../support/test-app';

const MIN = 60000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const SIZES: Record<string, number> = { '1m': MIN, '5m': 5 * MIN, '15m': 15 * MIN, '1h': HOUR, '1d': DAY };

interface Reading {
  people: number;
  at: number; // epoch ms
}

interface Point {
  start: string;
  samples: number;
  avg_people: number;
  max_people: number;
  min_people: number;
}

/** The documented rule, on exact integers: sum / samples to 2 decimals, ties away from zero. */
function avg2(sum: number, n: number): number {
  return Number((BigInt(sum) * 200n + BigInt(n)) / (2n * BigInt(n))) / 100;
}

/**
 * What the history must answer, from the raw readings: 1m/5m/15m take readings with
 * from ≤ t < to; 1h/1d take whole hours from the bucket holding `from` to the hour holding `to`.
 */
function reference(readings: Reading[], from: number, to: number, bucket: string): Point[] {
  const size = SIZES[bucket];
  const rollup = size >= HOUR;
  const first = rollup ? Math.floor(from / size) * size : from;
  const groups = new Map<number, number[]>();
  for (const r of readings) {
    const t = rollup ? Math.floor(r.at / HOUR) * HOUR : r.at;
    if (t < first || t >= to) {
      continue;
    }
    const start = Math.floor(r.at / size) * size;
    groups.set(start, [...(groups.get(start) ?? []), r.people]);
  }
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([start, ps]) => ({
      start: new Date(start).toISOString(),
      samples: ps.length,
      avg_people: avg2(
        ps.reduce((s, p) => s + p, 0),
        ps.length,
      ),
      max_people: Math.max(...ps),
      min_people: Math.min(...ps),
    }));
}

/** Deterministic pseudo-random integers (a test must fail the same way twice). */
function rng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
}

/** ALERTING.md §6: the live board, history in buckets, retention, and the stream's zone.occupancy. */
describe('occupancy', () => {
  let t: TestApp;
  let crowd: CrowdServer;
  let image: Buffer;
  let operator: string;
  let admin: string;

  before(async () => {
    crowd = await startCrowdServer();
    t = await startTestApp({ env: { CROWD_PREDICT_URL: crowd.predictUrl, SENSOR_THROTTLE_MS: '0' } });
    image = await jpeg(64, 48);
    operator = (await t.operator()).token;
    admin = (await t.admin()).token;
  });
  after(async () => {
    await t.close();
    await crowd.close();
  });

  const get = async (path: string, token = operator): Promise<{ status: number; body: any; total: string | null }> => {
    const r = await t.request('GET', path, { token });
    return { status: r.status, body: r.body, total: r.headers.get('x-total-count') };
  };

  const upload = async (site: Site, count: number): Promise<any> => {
    crowd.enqueue({ count });
    const r = await detect(t, { key: site.key, zoneId: site.zone.id, file: image });
    assert.equal(r.status, 200, r.text);
    return r.body;
  };

  /** Readings with chosen times, straight into the table (the trigger keeps the latest reading and the roll-ups). */
  const insertReadings = async (zoneId: number, readings: Reading[], capacity = 10): Promise<void> => {
    await t.ds.query(
      `INSERT INTO ecoflow_reading (zone_id, camera_id, people, capacity, status, measured_at)
       SELECT $1, NULL, u.p, $2::int, CASE WHEN u.p >= 0.9 * $2::int THEN 'DANGER' ELSE 'NORMAL' END, u.t
         FROM unnest($3::int[], $4::timestamptz[]) AS u(p, t)`,
      [zoneId, capacity, readings.map((r) => r.people), readings.map((r) => new Date(r.at).toISOString())],
    );
  };

  const history = (zoneId: number, query: string): Promise<{ status: number; body: any; total: string | null }> => get(`/zones/${zoneId}/occupancy/?${query}`);
  const iso = (ms: number): string => encodeURIComponent(new Date(ms).toISOString());

  it('GET /occupancy/ shows NORMAL, DANGER, STALE and NO_DATA zones, the open alert, paged and filtered by org_id', async () => {
    const normal = await createSite(t, { capacity: 10, zoneName: 'Hall' });
    const orgId = normal.zone.organizationId;
    const zone = (name: string, capacity: number): Promise<any> =>
      t.create('/zones/', { name, zone_type: 'HALL', organization_id: orgId, capacity }) as Promise<{ id: number }>;
    const danger = await zone('Stage', 10);
    const dangerCam = await addCamera(t, { id: danger.id, organizationId: orgId } as never);
    const stale = await zone('Attic', 16);
    const empty = await zone('Vault', 7);
    const elsewhere = await createSite(t, { capacity: 5 });

    const n = await upload(normal, 3);
    assert.equal(n.status, 'NORMAL');
    crowd.enqueue({ count: 12 });
    const d = await detect(t, { key: dangerCam.key, zoneId: danger.id, file: image });
    assert.equal(d.body.status, 'DANGER', d.text);
    assert.equal(d.body.alert_created, true);
    await insertReadings(stale.id, [{ people: 3, at: Date.now() - 10 * MIN }], 16);
    await upload(elsewhere, 1);
    // the reading keeps the capacity it was measured against; NO_DATA shows the zone's current one
    assert.equal((await t.request('PATCH', `/zones/${normal.zone.id}/`, { token: admin, body: { capacity: 20 } })).status, 200);
    const manual = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'Manual', zone_id: empty.id, status: 'OPEN' } });
    assert.equal(manual.status, 201, manual.text);

    const r = await get(`/occupancy/?org_id=${orgId}`);
    assert.equal(r.status, 200);
    assert.equal(r.total, '4');
    assert.deepEqual(
      r.body.map((z: any) => z.zone_id),
      [normal.zone.id, danger.id, stale.id, empty.id],
    );
    const [a, b, c, e] = r.body;
    assert.deepEqual(Object.keys(a), ['zone_id', 'zone', 'organization_id', 'capacity', 'people', 'occupancy_percentage', 'status', 'measured_at', 'camera_id', 'open_alert_id']);
    assert.deepEqual(
      { ...a, measured_at: typeof a.measured_at },
      {
        zone_id: normal.zone.id,
        zone: 'Hall',
        organization_id: orgId,
        capacity: 10,
        people: 3,
        occupancy_percentage: '30.0%',
        status: 'NORMAL',
        measured_at: 'string',
        camera_id: normal.camera.id,
        open_alert_id: null,
      },
    );
    assert.match(a.measured_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Math.abs(Date.parse(a.measured_at) - Date.now()) < 60000);
    assert.deepEqual(
      [b.status, b.people, b.capacity, b.occupancy_percentage, b.camera_id, b.open_alert_id],
      ['DANGER', 12, 10, '120.0%', dangerCam.camera.id, d.body.alert_id],
    );
    assert.deepEqual([c.status, c.people, c.capacity, c.occupancy_percentage, c.camera_id], ['STALE', 3, 16, '18.8%', null]);
    assert.deepEqual(
      { ...e },
      {
        zone_id: empty.id,
        zone: 'Vault',
        organization_id: orgId,
        capacity: 7,
        people: null,
        occupancy_percentage: null,
        status: 'NO_DATA',
        measured_at: null,
        camera_id: null,
        open_alert_id: manual.body.id,
      },
    );
    // closing the alert clears open_alert_id, whatever the reading
    await t.request('PATCH', `/alerts/${d.body.alert_id}/`, { token: admin, body: { status: 'CLOSED' } });
    const afterClose = await get(`/occupancy/?org_id=${orgId}&limit=2&offset=1`);
    assert.equal(afterClose.total, '4');
    assert.deepEqual(
      afterClose.body.map((z: any) => [z.zone_id, z.status, z.open_alert_id]),
      [
        [danger.id, 'DANGER', null],
        [stale.id, 'STALE', null],
      ],
    );
    assert.deepEqual((await get(`/occupancy/?org_id=${orgId}&offset=10`)).total, '4');

    const all = await get('/occupancy/?limit=500');
    assert.ok(all.body.some((z: any) => z.zone_id === elsewhere.zone.id));
    assert.deepEqual(
      all.body.map((z: any) => z.zone_id),
      [...all.body.map((z: any) => z.zone_id)].sort((x: number, y: number) => x - y),
    );
    assert.equal(Number(all.total), all.body.length);
    // "every zone": no limit means the whole board, past the lists' default page of 100
    await t.ds.query(
      `INSERT INTO lims_zone (name, zone_type, capacity, organization_id) SELECT 'Bulk ' || g, 'hall', 10, $1 FROM generate_series(1, 120) g`,
      [orgId],
    );
    const whole = await get('/occupancy/');
    assert.ok(whole.body.length > 120, `${whole.body.length} zones`);
    assert.equal(Number(whole.total), whole.body.length);
    const unknown = await get('/occupancy/?org_id=999999999');
    assert.deepEqual([unknown.status, unknown.body, unknown.total], [200, [], '0']);
    assert.deepEqual((await get('/occupancy/?org_id=abc&limit=0')).body, { org_id: ['A valid integer is required.'], limit: ['Ensure this value is greater than or equal to 1.'] });
    assert.equal((await t.request('GET', '/occupancy/')).status, 401);
  });

  it('GET /zones/{id}/occupancy/ matches the readings for every bucket size, at the range edges too', async () => {
    const site = await createSite(t, { capacity: 10 });
    const now = Date.now();
    const rand = rng(42);
    const from = Math.floor((now - 30 * HOUR) / HOUR) * HOUR + 7 * MIN + 30000; // not aligned to any bucket
    const to = now + 2 * MIN;
    const readings: Reading[] = [
      { people: 4, at: from }, // included (from ≤ t)
      { people: 5, at: from - 1 }, // raw: excluded; roll-ups: in the hour holding `from`
      { people: 6, at: Math.floor(from / HOUR) * HOUR - 1 }, // before every bucket
      { people: 7, at: Math.floor(now / DAY) * DAY }, // on a day boundary
    ];
    for (let i = 0; i < 400; i++) {
      readings.push({ people: rand(16), at: from - HOUR + rand(31 * HOUR) });
    }
    await insertReadings(site.zone.id, readings.filter((r) => r.at < now));
    // and real uploads, timed by the database
    await upload(site, 2);
    await upload(site, 9);
    const raw: { people: number; measured_at: Date | string }[] = await t.ds.query(`SELECT people, measured_at FROM ecoflow_reading WHERE zone_id = $1`, [site.zone.id]);
    const all = raw.map((r) => ({ people: r.people, at: new Date(r.measured_at).getTime() }));
    assert.equal(all.length, readings.filter((r) => r.at < now).length + 2);

    for (const bucket of Object.keys(SIZES)) {
      const r = await history(site.zone.id, `bucket=${bucket}&from=${iso(from)}&to=${iso(to)}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(Object.keys(r.body), ['zone_id', 'capacity', 'bucket', 'points']);
      assert.equal(r.body.zone_id, site.zone.id);
      assert.equal(r.body.capacity, 10);
      assert.equal(r.body.bucket, bucket);
      const expected = reference(all, from, to, bucket);
      assert.ok(expected.length > 1);
      assert.deepEqual(r.body.points, expected, bucket);
    }
    // an offset means the same instant; `to` is exclusive
    const edge = await history(site.zone.id, `bucket=1m&from=${iso(from - HOUR)}&to=${encodeURIComponent(new Date(from).toISOString().replace('Z', '+00:00'))}`);
    assert.deepEqual(edge.body.points, reference(all, from - HOUR, from, '1m'));
    const shifted = new Date(from + HOUR).toISOString().replace(/\.\d{3}Z$/, '+01:00');
    const sameInstant = await history(site.zone.id, `bucket=15m&from=${encodeURIComponent(shifted)}&to=${iso(to)}`);
    assert.deepEqual(sameInstant.body.points, reference(all, Math.floor(from / 1000) * 1000, to, '15m'));

    // defaults: 5m over the last 24 h
    const def = await history(site.zone.id, '');
    assert.equal(def.body.bucket, '5m');
    const last = def.body.points.at(-1) as Point;
    const newest = Math.max(...all.map((x) => x.at));
    assert.equal(last.start, new Date(Math.floor(newest / (5 * MIN)) * 5 * MIN).toISOString());
    assert.ok(def.body.points.every((p: Point) => Date.parse(p.start) >= Date.now() - DAY - 5 * MIN));
    const dayAgo = reference(all, Date.now() - DAY + MIN, Date.now(), '5m').slice(1);
    for (const p of dayAgo) {
      assert.ok(def.body.points.some((q: Point) => q.start === p.start && q.samples === p.samples));
    }
  });

  it('rejects bad queries with every error at once, and more than 2000 points', async () => {
    const site = await createSite(t);
    const id = site.zone.id;
    assert.deepEqual((await history(id, 'bucket=2m&from=yesterday&to=2026-02-30T00:00:00Z')).body, {
      bucket: ['"2m" is not a valid choice.'],
      from: ['Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].'],
      to: ['Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].'],
    });
    const same = await history(id, 'from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z');
    assert.deepEqual([same.status, same.body], [400, { from: ['Must be earlier than to.'] }]);
    const tooMany = await history(id, 'bucket=1m&from=2026-01-01T00:00:00Z&to=2026-01-02T09:20:01Z');
    assert.deepEqual([tooMany.status, tooMany.body], [400, { bucket: ['Too many points; use a larger bucket.'] }]);
    assert.equal((await history(id, 'bucket=1m&from=2026-01-01T00:00:00Z&to=2026-01-02T09:20:00Z')).status, 200, 'exactly 2000 buckets');
    assert.equal((await history(id, 'bucket=1h&from=2026-01-01T00:30:00Z&to=2026-03-25T08:00:01Z')).status, 400, '2001 hours touched');
    assert.equal((await history(id, 'bucket=1d&from=2020-01-01&to=2026-01-01T00:00:00Z')).status, 400, 'a date alone is not a timestamp');
    const missing = await get('/zones/999999999/occupancy/');
    assert.deepEqual([missing.status, missing.body], [404, { detail: 'No Zone matches the given query.' }]);
    assert.deepEqual((await get('/zones/999999999/occupancy/?bucket=x')).status, 400, 'query errors before 404');
    assert.deepEqual((await get('/zones/abc/occupancy/')).body, { id: ['A valid integer is required.'] });
    assert.equal((await t.request('GET', `/zones/${id}/occupancy/`)).status, 401);
    const ok = await history(id, 'bucket=1d');
    assert.deepEqual(ok.body, { zone_id: id, capacity: 10, bucket: '1d', points: [] });
  });

  it('purges raw readings after READING_RETENTION_DAYS and roll-ups after ROLLUP_RETENTION_DAYS; 1h and 1d history survives', async () => {
    const worker = t.app.get(OccupancyPurgeWorker);
    await worker.purgeNow(); // the boot round is then no longer due: no purge runs behind the test's back
    const site = await createSite(t, { capacity: 10 });
    const now = Date.now();
    const rand = rng(7);
    const old: Reading[] = [];
    for (let i = 0; i < 300; i++) {
      old.push({ people: rand(12), at: now - 9 * DAY + rand(2 * DAY - HOUR) }); // 7–9 days back, most beyond the retention, none at its edge
    }
    const recent: Reading[] = [{ people: 5, at: now - 2 * HOUR }, { people: 1, at: now - 3 * HOUR }];
    const ancient: Reading[] = [{ people: 9, at: now - 401 * DAY }];
    await insertReadings(site.zone.id, [...recent, ...old, ...ancient]);
    const kept = [...recent, ...old];
    const cutoff = now - 7 * DAY;
    const from = now - 10 * DAY;
    const before = await history(site.zone.id, `bucket=5m&from=${iso(from)}&to=${iso(now)}`);
    assert.equal(before.status, 400, 'ten days of 5m buckets are too many');
    const oldRange = `from=${iso(now - 9 * DAY - MIN)}&to=${iso(cutoff - DAY)}&bucket=15m`;
    assert.ok((await history(site.zone.id, oldRange)).body.points.length > 0);

    const result = await worker.purgeNow();
    assert.ok(result.readings >= old.filter((r) => r.at < cutoff).length + 1, JSON.stringify(result));
    assert.ok(result.rollups >= 1);
    const left: { at: Date | string }[] = await t.ds.query(`SELECT measured_at AS at FROM ecoflow_reading WHERE zone_id = $1`, [site.zone.id]);
    assert.ok(left.every((r) => new Date(r.at).getTime() >= cutoff - 5000), 'no raw reading beyond the retention');
    assert.equal(left.length, kept.filter((r) => r.at >= cutoff).length);
    assert.deepEqual((await history(site.zone.id, oldRange)).body.points, [], 'raw buckets are gone');
    for (const bucket of ['1h', '1d']) {
      const r = await history(site.zone.id, `bucket=${bucket}&from=${iso(from)}&to=${iso(now)}`);
      assert.deepEqual(r.body.points, reference(kept, from, now, bucket), bucket);
    }
    const year = await history(site.zone.id, `bucket=1d&from=${iso(now - 405 * DAY)}&to=${iso(now - 300 * DAY)}`);
    assert.deepEqual(year.body.points, [], 'roll-ups beyond ROLLUP_RETENTION_DAYS are purged');
    // nothing old left: a second round deletes nothing
    assert.deepEqual(await worker.purgeNow(), { readings: 0, rollups: 0 });
  });

  it('streams zone.occupancy after an upload only to clients that asked for it; GET /events/ still refuses the type', async () => {
    const site = await createSite(t, { capacity: 16 });
    const headers = { authorization: `Bearer ${operator}` };
    const asked = await SseClient.connect(`${t.baseUrl}/events/stream?types=zone.occupancy&org_id=${site.zone.organizationId}`, { headers });
    const plain = await SseClient.connect(`${t.baseUrl}/events/stream`, { headers });
    assert.equal(asked.status, 200);
    try {
      await upload(site, 3);
      await asked.waitForEvents(1, 5000);
      const e = asked.events[0];
      assert.equal(e.event, 'zone.occupancy');
      assert.equal(e.id, undefined);
      const env = JSON.parse(e.data);
      assert.equal(env.type, 'zone.occupancy');
      assert.equal(env.organization_id, site.zone.organizationId);
      const board = (await get(`/occupancy/?org_id=${site.zone.organizationId}`)).body[0];
      assert.deepEqual(env.data, { zone_id: site.zone.id, people: 3, capacity: 16, occupancy_percentage: '18.8%', status: 'NORMAL', measured_at: board.measured_at });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(plain.events.length, 0, 'not sent without types=zone.occupancy');
    } finally {
      await Promise.all([asked.close(), plain.close()]);
    }
    assert.deepEqual((await get('/events/?types=zone.occupancy')).body, { types: ['"zone.occupancy" is not a valid choice.'] });
  });

  it('documents both routes in /openapi.json', async () => {
    const doc = (await t.request('GET', '/openapi.json')).body;
    const board = doc.paths['/occupancy'].get;
    assert.equal(board.responses['200'].content['application/json'].schema.items.$ref, '#/components/schemas/ZoneOccupancyDto');
    const hist = doc.paths['/zones/{id}/occupancy'].get;
    assert.equal(hist.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/OccupancyHistoryDto');
    assert.ok(doc.components.schemas.OccupancyPointDto);
    assert.deepEqual(
      hist.parameters.map((p: { name: string }) => p.name).sort(),
      ['bucket', 'from', 'id', 'to'],
    );
  });
});
