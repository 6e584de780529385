import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlertsRepository } from '../../src/alerts/alerts.repository';
import { OccupancyRepository } from '../../src/occupancy/occupancy.repository';
import { OrganizationsRepository } from '../../src/sites/organizations.repository';
import { CrowdServer, startCrowdServer } from '../doubles/crowd-server';
import { REAL_POSTGRES } from '../support/database';
import { jpeg } from '../support/images';
import { createSite, detect, type Site } from '../support/sensor';
import { startTestApp, type TestApp, type TestResponse } from '../support/test-app';

/**
 * Issue 16 "cheap polling": ETag / If-None-Match → 304 on GET /alerts/, /occupancy/ and
 * /organizations/, decided from the change versions before the list is read.
 */
describe('conditional GETs on polled lists', () => {
  let t: TestApp;
  let crowd: CrowdServer;
  let image: Buffer;
  let operator: string;
  let admin: string;
  /** list reads per route, counted on the repositories' list methods (a 304 must read none) */
  const reads = { alerts: 0, occupancy: 0, organizations: 0 };

  before(async () => {
    crowd = await startCrowdServer();
    t = await startTestApp({ env: { CROWD_PREDICT_URL: crowd.predictUrl, SENSOR_THROTTLE_MS: '0' } });
    image = await jpeg(64, 48);
    operator = (await t.operator()).token;
    admin = (await t.admin()).token;
    const count = <T extends object, K extends keyof T>(target: T, method: K, key: keyof typeof reads): void => {
      const original = target[method] as unknown as (...args: unknown[]) => unknown;
      (target as Record<K, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
        reads[key] += 1;
        return original.apply(this, args);
      };
    };
    count(t.app.get(AlertsRepository), 'findPage', 'alerts');
    count(t.app.get(OccupancyRepository), 'board', 'occupancy');
    count(t.app.get(OrganizationsRepository), 'findPage', 'organizations');
  });
  after(async () => {
    await t?.close();
    await crowd?.close();
  });

  const get = (path: string, ifNoneMatch?: string, app = t): Promise<TestResponse> =>
    app.request('GET', path, { token: operator, headers: ifNoneMatch === undefined ? {} : { 'if-none-match': ifNoneMatch } });

  /** A 200 with an ETag and the polling Cache-Control; the tag. */
  const fresh = async (path: string, ifNoneMatch?: string, app = t): Promise<string> => {
    const r = await get(path, ifNoneMatch, app);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    assert.ok(Array.isArray(r.body));
    assert.notEqual(r.headers.get('x-total-count'), null);
    assert.equal(r.headers.get('cache-control'), 'private, no-cache');
    const tag = r.headers.get('etag');
    assert.match(tag ?? '', /^W\/"[A-Za-z0-9_-]+"$/);
    return tag!;
  };

  /** A 304 without body that read no list; its ETag is `tag`. */
  const notModified = async (path: string, ifNoneMatch: string, tag: string, key: keyof typeof reads, app = t): Promise<void> => {
    const before = reads[key];
    const r = await get(path, ifNoneMatch, app);
    assert.equal(r.status, 304, `${path} with ${ifNoneMatch}: ${r.status} ${r.text}`);
    assert.equal(r.text, '');
    assert.equal(r.headers.get('etag'), tag);
    assert.equal(r.headers.get('cache-control'), 'private, no-cache');
    if (app === t) {
      assert.equal(reads[key], before, `${path}: a 304 must not read the list`);
    }
  };

  const upload = async (site: Site, count: number): Promise<any> => {
    crowd.enqueue({ count });
    const r = await detect(t, { key: site.key, zoneId: site.zone.id, file: image });
    assert.equal(r.status, 200, r.text);
    return r.body;
  };

  it('GET /alerts/: 200 with an ETag, 304 on If-None-Match, a new tag after every change an alert shows', async () => {
    const site = await createSite(t, { capacity: 10 });
    const a1 = await fresh('/alerts/');
    const readsBefore = reads.alerts;
    await notModified('/alerts/', a1, a1, 'alerts');
    await notModified('/alerts/', a1, a1, 'alerts');
    assert.equal(reads.alerts, readsBefore);

    // created
    const created = await t.create('/alerts/', { heading: 'Manual', zone_id: site.zone.id, status: 'OPEN' });
    const r = await get('/alerts/', a1);
    assert.equal(r.status, 200);
    assert.ok(r.body.some((a: { id: number }) => a.id === created.id));
    const a2 = r.headers.get('etag')!;
    assert.notEqual(a2, a1);
    await notModified('/alerts/', a2, a2, 'alerts');

    // closed
    const closed = await t.request('PATCH', `/alerts/${created.id}/`, { token: operator, body: { status: 'CLOSED' } });
    assert.equal(closed.status, 200, closed.text);
    const a3 = await fresh('/alerts/', a2);
    assert.notEqual(a3, a2);

    // a DANGER detection opens an alert, the next one updates its last_people
    const opened = await upload(site, 12);
    assert.equal(opened.status, 'DANGER', JSON.stringify(opened));
    const a4 = await fresh('/alerts/', a3);
    await notModified('/alerts/', a4, a4, 'alerts');
    await upload(site, 14);
    const r5 = await get('/alerts/', a4);
    assert.equal(r5.status, 200);
    assert.equal(r5.body.find((a: { status: string; zone_id: number }) => a.status === 'OPEN' && a.zone_id === site.zone.id)?.last_people, 14);
    const a5 = r5.headers.get('etag')!;
    assert.notEqual(a5, a4);

    // a NORMAL detection only moves the open alert's calm span (not shown): same tag
    await upload(site, 1);
    await notModified('/alerts/', a5, a5, 'alerts');
  });

  it('polls without If-None-Match share one read per version: the serialized answer is kept under its tag', async () => {
    const site = await createSite(t, { capacity: 10 });
    const first = await get('/alerts/?limit=7');
    const before = reads.alerts;
    const again = await Promise.all([get('/alerts/?limit=7'), get('/alerts/?limit=7'), get('/alerts/?limit=7')]);
    assert.equal(reads.alerts, before, 'no list read while nothing changed');
    for (const r of again) {
      assert.equal(r.status, 200);
      assert.equal(r.text, first.text);
      assert.equal(r.headers.get('etag'), first.headers.get('etag'));
      assert.equal(r.headers.get('x-total-count'), first.headers.get('x-total-count'));
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    }
    // a change raises the version: a new tag, read once, with the change in it
    const created = await t.create('/alerts/', { heading: 'Cached?', zone_id: site.zone.id, status: 'OPEN' });
    const after = await Promise.all([get('/alerts/?limit=7'), get('/alerts/?limit=7')]);
    assert.equal(reads.alerts, before + 1, 'two concurrent polls of the new version share one read');
    assert.ok(after.every((r) => r.body.some((a: { id: number }) => a.id === created.id)));
    assert.notEqual(after[0].headers.get('etag'), first.headers.get('etag'));
  });

  it('If-None-Match: *, a list holding the tag, a weak or strong form of it; an unknown tag is a 200', async () => {
    const tag = await fresh('/alerts/');
    await notModified('/alerts/', '*', tag, 'alerts');
    await notModified('/alerts/', `"nope", W/"other", ${tag}`, tag, 'alerts');
    await notModified('/alerts/', tag.slice(2), tag, 'alerts'); // weak comparison: the strong form matches too
    assert.equal(await fresh('/alerts/', 'W/"nope"'), tag);
    assert.equal(await fresh('/alerts/', '"a,b", W/"c"'), tag);
  });

  it('another query is another tag: limit, offset, filters', async () => {
    const site = await createSite(t);
    const tags = new Set<string>();
    for (const q of ['', '?limit=5', '?limit=5&offset=1', '?status=OPEN', '?status=CLOSED', `?zone_id=${site.zone.id}`, `?org_id=${site.zone.organizationId}`]) {
      tags.add(await fresh(`/alerts/${q}`));
    }
    assert.equal(tags.size, 7);
    // the same query written differently is the same answer, the same tag
    assert.equal(await fresh('/alerts/?limit=5&offset=0'), await fresh('/alerts/?offset=0&limit=5'));
    const other = await fresh('/occupancy/?limit=5');
    assert.notEqual(other, await fresh('/occupancy/?limit=6'));
    assert.notEqual(await fresh('/organizations/?limit=5'), await fresh('/organizations/?limit=5&offset=1'));
  });

  it('a bad query is a 400 even with a matching tag', async () => {
    const tag = await fresh('/alerts/');
    for (const [path, inm] of [
      ['/alerts/?limit=abc', tag],
      ['/alerts/?status=open', '*'],
      ['/occupancy/?org_id=x', '*'],
      ['/organizations/?offset=-1', '*'],
    ]) {
      const r = await get(path, inm);
      assert.equal(r.status, 400, `${path}: ${r.status} ${r.text}`);
      assert.equal(r.headers.get('etag'), null);
    }
  });

  it('GET /organizations/: a camera upload (last_seen_at) keeps the tag; a zone rename and a camera deactivation change it', async () => {
    const site = await createSite(t);
    const o1 = await fresh('/organizations/');
    await notModified('/organizations/', o1, o1, 'organizations');
    const before = (await t.ds.query(`SELECT last_seen_at FROM lims_camera WHERE id = $1`, [site.camera.id])) as { last_seen_at: Date | null }[];
    await upload(site, 1);
    const after = (await t.ds.query(`SELECT last_seen_at FROM lims_camera WHERE id = $1`, [site.camera.id])) as { last_seen_at: Date | null }[];
    assert.notDeepEqual(after[0].last_seen_at, before[0].last_seen_at, 'the upload wrote last_seen_at');
    await notModified('/organizations/', o1, o1, 'organizations');

    const renamed = await t.request('PATCH', `/zones/${site.zone.id}/`, { token: admin, body: { name: 'Renamed hall' } });
    assert.equal(renamed.status, 200, renamed.text);
    const r = await get('/organizations/', o1);
    assert.equal(r.status, 200);
    assert.ok(JSON.stringify(r.body).includes('Renamed hall'));
    const o2 = r.headers.get('etag')!;
    assert.notEqual(o2, o1);
    await notModified('/organizations/', o2, o2, 'organizations');

    const cam = await t.request('PATCH', `/cameras/${site.camera.id}/`, { token: admin, body: { is_active: false } });
    assert.equal(cam.status, 200, cam.text);
    const o3 = await fresh('/organizations/', o2);
    assert.notEqual(o3, o2);
  });

  it('GET /occupancy/: a reading, an alert and a zone change change the tag; a zone turning STALE with no write does too', async () => {
    const site = await createSite(t, { capacity: 10 });
    const b1 = await fresh('/occupancy/');
    await notModified('/occupancy/', b1, b1, 'occupancy');
    await upload(site, 2);
    const b2 = await fresh('/occupancy/', b1);
    assert.notEqual(b2, b1);
    await notModified('/occupancy/', b2, b2, 'occupancy');
    await t.create('/alerts/', { heading: 'Board', zone_id: site.zone.id, status: 'OPEN' });
    const b3 = await fresh('/occupancy/', b2);
    assert.notEqual(b3, b2);
    assert.equal((await t.request('PATCH', `/zones/${site.zone.id}/`, { token: admin, body: { capacity: 30 } })).status, 200);
    const b4 = await fresh('/occupancy/', b3);
    assert.notEqual(b4, b3);

    // a reading that turns STALE (OCCUPANCY_STALE_AFTER, 5 min by default) in ~1.5 s, with no write after it
    const quiet = await createSite(t, { capacity: 10 });
    const staleAfter = t.config.occupancy.staleAfterMs;
    await t.ds.query(`INSERT INTO ecoflow_reading (zone_id, camera_id, people, capacity, status, measured_at) VALUES ($1, NULL, 3, 10, 'NORMAL', $2)`, [
      quiet.zone.id,
      new Date(Date.now() - staleAfter + 1500).toISOString(),
    ]);
    const statusOf = (r: TestResponse): string => r.body.find((z: { zone_id: number }) => z.zone_id === quiet.zone.id).status;
    const path = `/occupancy/?org_id=${quiet.zone.organizationId}`;
    const first = await get(path);
    assert.equal(statusOf(first), 'NORMAL');
    const s1 = first.headers.get('etag')!;
    await notModified(path, s1, s1, 'occupancy');
    await new Promise((resolve) => setTimeout(resolve, 1700));
    const later = await get(path, s1);
    assert.equal(later.status, 200, 'the zone turned STALE: the old tag must not match');
    assert.equal(statusOf(later), 'STALE');
    const s2 = later.headers.get('etag')!;
    assert.notEqual(s2, s1);
    await notModified(path, s2, s2, 'occupancy');
  });

  it('OpenAPI documents If-None-Match, the 304 and the ETag on the three lists', async () => {
    const r = await t.request('GET', '/openapi.json');
    assert.equal(r.status, 200);
    for (const p of ['/alerts/', '/occupancy/', '/organizations/']) {
      const op = r.body.paths[p]?.get ?? r.body.paths[p.slice(0, -1)]?.get;
      assert.ok(op, p);
      assert.ok(op.parameters.some((x: { in: string; name: string }) => x.in === 'header' && x.name === 'If-None-Match'), p);
      assert.ok(op.responses['304'], p);
      assert.ok(op.responses['200'].headers.ETag, p);
      assert.ok(op.responses['200'].headers['X-Total-Count'], p);
    }
  });

  describe('two instances on one database', { skip: REAL_POSTGRES ? false : 'needs PostgreSQL (TEST_DATABASE_URL)' }, () => {
    let two: TestApp;
    before(async () => {
      two = await startTestApp({ db: t.db });
    });
    after(async () => {
      await two?.close();
    });

    it('a change made through one instance invalidates the tag the other serves', async () => {
      const site = await createSite(t);
      const a1 = await fresh('/alerts/');
      assert.equal(await fresh('/alerts/', undefined, two), a1, 'both instances compute the same tag for the same data');
      await notModified('/alerts/', a1, a1, 'alerts', two);
      const created = await two.request('POST', '/alerts/', { token: admin, body: { heading: 'From two', zone_id: site.zone.id, status: 'OPEN' } });
      assert.equal(created.status, 201, created.text);
      const r = await get('/alerts/', a1);
      assert.equal(r.status, 200);
      assert.ok(r.body.some((a: { id: number }) => a.id === created.body.id));

      const o1 = await fresh('/organizations/');
      const renamed = await two.request('PATCH', `/zones/${site.zone.id}/`, { token: admin, body: { name: 'Renamed on two' } });
      assert.equal(renamed.status, 200, renamed.text);
      assert.notEqual(await fresh('/organizations/', o1), o1);
    });
  });
});
