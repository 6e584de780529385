import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CrowdServer, startCrowdServer } from '../doubles/crowd-server';
import { jpeg } from '../support/images';
import { createSite, detect, type Site } from '../support/sensor';
import { startTestApp, type TestApp } from '../support/test-app';

/** ALERTING.md §1: one event per alert change, in the change's transaction; GET /events/. */
describe('event log', () => {
  let t: TestApp;
  let crowd: CrowdServer;
  let site: Site;
  let admin: string;
  let image: Buffer;

  before(async () => {
    crowd = await startCrowdServer();
    t = await startTestApp({ env: { CROWD_PREDICT_URL: crowd.predictUrl, SENSOR_THROTTLE_MS: '0' } });
    site = await createSite(t, { capacity: 10, zoneName: 'Lobby' });
    admin = (await t.admin()).token;
    image = await jpeg(64, 48);
  });
  after(async () => {
    await t.close();
    await crowd.close();
  });

  const events = async (query = ''): Promise<any[]> => {
    const r = await t.request('GET', `/events/${query}`, { token: admin });
    assert.equal(r.status, 200, r.text);
    return r.body as any[];
  };
  const lastId = async (): Promise<number> => (await events('?limit=500')).reduce((m, e) => Math.max(m, e.id as number), 0);

  it('a DANGER detection that opens an alert writes alert.opened with the alert context; a repeat writes nothing', async () => {
    const from = await lastId();
    crowd.enqueue({ count: 9 }, { count: 10 });
    const first = await detect(t, { key: site.key, zoneId: site.zone.id, file: image });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.alert_created, true);
    const second = await detect(t, { key: site.key, zoneId: site.zone.id, file: image });
    assert.equal(second.body.alert_created, false);
    const got = await events(`?after=${from}`);
    assert.equal(got.length, 1, JSON.stringify(got));
    const e = got[0];
    assert.equal(e.type, 'alert.opened');
    assert.equal(e.organization_id, site.zone.organizationId);
    assert.match(e.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const alert = await t.request('GET', `/alerts/${first.body.alert_id}/`, { token: admin });
    // as on GET /alerts/{id}/ when it opened: the repeat has since become its last detection
    assert.equal(e.data.alert.last_people, first.body.detected_people);
    const { last_people, peak_people, last_detected_at } = alert.body;
    assert.deepEqual({ ...e.data.alert, last_people, peak_people, last_detected_at }, alert.body, 'the alert as on GET /alerts/{id}/');
    assert.deepEqual(e.data.zone, { id: site.zone.id, name: 'Lobby', capacity: 10 });
    assert.equal(e.data.organization.id, site.zone.organizationId);
    assert.equal(typeof e.data.organization.name, 'string');
    assert.deepEqual(e.data.camera, { id: site.camera.id, name: site.camera.name });
    assert.equal(e.data.detected_people, 9);
    // leave no open alert behind for the next case
    await t.request('PATCH', `/alerts/${first.body.alert_id}/`, { token: admin, body: { status: 'CLOSED' } });
  });

  it('create OPEN, close, reopen and delete through the API write opened, resolved, reopened and deleted in order', async () => {
    const from = await lastId();
    const created = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'h', sub_heading: 's', status: 'OPEN', zone_id: site.zone.id } });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id as number;
    const closedOne = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'old', status: 'CLOSED', zone_id: site.zone.id, camera_id: site.camera.id } });
    assert.equal(closedOne.status, 201);
    assert.equal((await t.request('PATCH', `/alerts/${id}/`, { token: admin, body: { heading: 'renamed' } })).status, 200); // no status change: no event
    assert.equal((await t.request('PATCH', `/alerts/${id}/`, { token: admin, body: { status: 'CLOSED' } })).status, 200);
    assert.equal((await t.request('PUT', `/alerts/${id}/`, { token: admin, body: { status: 'OPEN' } })).status, 200);
    assert.equal((await t.request('DELETE', `/alerts/${id}/`, { token: admin })).status, 204);
    const got = await events(`?after=${from}`);
    assert.deepEqual(
      got.map((e) => [e.type, e.data.alert.id, e.data.alert.status, e.data.resolution ?? null]),
      [
        ['alert.opened', id, 'OPEN', null],
        ['alert.resolved', id, 'CLOSED', 'manual'],
        ['alert.reopened', id, 'OPEN', null],
        ['alert.deleted', id, 'OPEN', null],
      ],
    );
    assert.equal(got[0].data.detected_people, null, 'an admin-created alert has no reading');
    assert.equal(got[1].data.alert.heading, 'renamed', 'the alert as it is after the change');
    const ids = got.map((e) => e.id as number);
    assert.deepEqual([...ids].sort((a, b) => a - b), ids, 'ascending');
  });

  it('a rolled-back change writes no event: reopening onto another open alert is a 409 and leaves the log as it was', async () => {
    const a = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'a', status: 'CLOSED', zone_id: site.zone.id } });
    const b = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'b', status: 'OPEN', zone_id: site.zone.id } });
    assert.equal(b.status, 201, b.text);
    const from = await lastId();
    const conflict = await t.request('PATCH', `/alerts/${a.body.id}/`, { token: admin, body: { status: 'OPEN' } });
    assert.equal(conflict.status, 409, conflict.text);
    const failedCreate = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'c', status: 'OPEN', zone_id: site.zone.id } });
    assert.equal(failedCreate.status, 409);
    assert.deepEqual(await events(`?after=${from}`), []);
    const rows = (await t.ds.query('SELECT count(*)::int AS n FROM ecoflow_event WHERE id > $1', [from])) as { n: number }[];
    assert.equal(rows[0].n, 0);
    await t.request('DELETE', `/alerts/${b.body.id}/`, { token: admin });
  });

  it('GET /events/ filters by types and org_id, pages with after and limit, and validates its query', async () => {
    const other = await createSite(t, { zoneName: 'Other' });
    const from = await lastId();
    for (const zoneId of [site.zone.id, other.zone.id, site.zone.id]) {
      const r = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'x', status: 'OPEN', zone_id: zoneId } });
      await t.request('PATCH', `/alerts/${r.body.id}/`, { token: admin, body: { status: 'CLOSED' } });
    }
    const all = await events(`?after=${from}`);
    assert.equal(all.length, 6);
    const opened = await events(`?after=${from}&types=alert.opened`);
    assert.deepEqual(opened.map((e) => e.type), ['alert.opened', 'alert.opened', 'alert.opened']);
    const both = await events(`?after=${from}&types=alert.opened,alert.resolved&org_id=${other.zone.organizationId}`);
    assert.deepEqual(both.map((e) => [e.type, e.organization_id]), [
      ['alert.opened', other.zone.organizationId],
      ['alert.resolved', other.zone.organizationId],
    ]);
    const page1 = await events(`?after=${from}&limit=4`);
    const page2 = await events(`?after=${page1[3].id}&limit=4`);
    assert.deepEqual([...page1, ...page2].map((e) => e.id), all.map((e) => e.id), 'after= resumes exactly');

    const bad = await t.request('GET', '/events/?types=alert.opened,nope&after=x&limit=0', { token: admin });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, {
      after: ['A valid integer is required.'],
      types: ['"nope" is not a valid choice.'],
      limit: ['Ensure this value is greater than or equal to 1.'],
    });
    assert.equal((await t.request('GET', '/events/?types=webhook.test', { token: admin })).status, 400, 'test events are not listed');
    assert.equal((await t.request('GET', '/events/')).status, 401);
    const operator = (await t.operator()).token;
    assert.equal((await t.request('GET', '/events/', { token: operator })).status, 200, 'any user reads the log');
  });

  it('purges events older than EVENT_RETENTION_DAYS in batches, deliveries with them', async () => {
    const from = await lastId();
    await t.request('POST', '/alerts/', { token: admin, body: { heading: 'old', status: 'CLOSED', zone_id: site.zone.id } });
    const r = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'p', status: 'OPEN', zone_id: site.zone.id } });
    await t.request('DELETE', `/alerts/${r.body.id}/`, { token: admin });
    const mine = await events(`?after=${from}`);
    assert.equal(mine.length, 2);
    await t.ds.query(`UPDATE ecoflow_event SET created_at = now() - interval '31 days' WHERE id = $1`, [mine[0].id]);
    const { EventsRepository } = await import('../../src/events/events.repository');
    const repo = t.app.get(EventsRepository);
    const n = await repo.purgeBefore(new Date(Date.now() - 30 * 86400000), 1000);
    assert.ok(n >= 1);
    const left = await events(`?after=${from}`);
    assert.deepEqual(left.map((e) => e.id), [mine[1].id]);
  });
});
