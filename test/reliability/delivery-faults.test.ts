import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCrowdServer, type CrowdServer } from '../doubles/crowd-server';
import { startWebhookReceiver, type WebhookReceiver } from '../doubles/webhook-receiver';
import { startChildService } from '../support/child-service';
import { createTestDatabase, REAL_POSTGRES, REAL_REDIS_URL, type TestDatabase } from '../support/database';
import { jpeg } from '../support/images';
import { sleep } from '../support/raw-http';
import { createSite, detect, type Site } from '../support/sensor';
import { TcpProxy } from '../support/tcp-proxy';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app';
import { MODE, Recorder } from './support';

const NO_PG = 'needs PostgreSQL (TEST_DATABASE_URL): two instances, a killed process and a restarted database need a server';
const TWO = REAL_POSTGRES;

// fast retries so a receiver outage of seconds is ridden out within the test; attempts run until
// the receiver is back (12 entries ≈ 9 s of retries)
const FAST = {
  WEBHOOK_RETRY_SCHEDULE: '200ms,300ms,500ms,700ms,1s,1s,1s,1s,1s,1s,1s,1s',
  WEBHOOK_TIMEOUT_MS: '1000',
  DELIVERY_POLL_INTERVAL: '100ms',
  WEBHOOK_ALLOW_PRIVATE: 'true',
  SENSOR_THROTTLE_MS: '0',
};

interface Hook {
  id: number;
  secret: string;
}

const secretsOf = new WeakMap<WebhookReceiver, string[]>();

/** Adds a webhook pointing at `receiver`, which then verifies with its secret too. */
async function addWebhook(t: TestApp, token: string, receiver: WebhookReceiver, body: Record<string, unknown> = {}): Promise<Hook> {
  const r = await t.request('POST', '/webhooks/', { token, body: { url: receiver.url, ...body } });
  assert.equal(r.status, 201, r.text);
  const secrets = [...(secretsOf.get(receiver) ?? []), r.body.secret as string];
  secretsOf.set(receiver, secrets);
  receiver.setSecrets(secrets);
  return { id: r.body.id as number, secret: r.body.secret as string };
}

/** n events (alternately alert.opened and alert.resolved), written through `apps` in turn; their ids ascending. */
async function makeEvents(apps: TestApp[], token: string, zoneId: number, n: number): Promise<number[]> {
  const before = await lastEventId(apps[0], token);
  let open: number | null = null;
  for (let i = 0; i < n; i++) {
    const t = apps[i % apps.length];
    if (open === null) {
      const r = await t.request('POST', '/alerts/', { token, body: { heading: `e${i}`, status: 'OPEN', zone_id: zoneId } });
      assert.equal(r.status, 201, r.text);
      open = r.body.id as number;
    } else {
      const r = await t.request('PATCH', `/alerts/${open}/`, { token, body: { status: 'CLOSED' } });
      assert.equal(r.status, 200, r.text);
      open = null;
    }
  }
  const r = await apps[0].request('GET', `/events/?after=${before}&limit=500`, { token });
  return (r.body as { id: number }[]).map((e) => e.id);
}

async function lastEventId(t: TestApp, token: string): Promise<number> {
  let after = 0;
  for (;;) {
    const r = await t.request('GET', `/events/?after=${after}&limit=500`, { token });
    const page = r.body as { id: number }[];
    if (!page.length) {
      return after;
    }
    after = page[page.length - 1].id;
  }
}

/** The distinct event ids the receiver got with a valid signature. */
function verifiedIds(receiver: WebhookReceiver): Set<number> {
  return new Set(receiver.received.filter((r) => r.verified).map((r) => Number(r.webhookId.replace(/^evt_/, ''))));
}

describe(`alert delivery under faults: ${MODE} (ALERTING.md §2, §7)`, () => {
  const rec = new Recorder('delivery-faults');
  let crowd: CrowdServer;

  before(async () => {
    crowd = await startCrowdServer();
    crowd.setDefault({ count: 1 });
  });
  after(async () => {
    await crowd.close();
    rec.write();
  });

  it(`receiver down for a while, then back: every committed event arrives, signed, none missing (${TWO ? 'two instances' : 'one instance'})`, async () => {
    const cat = 'webhook receiver outage';
    rec.faultCategory(cat, ['receiver refuses connections for 2 s', 'then answers 503 twice, then 200']);
    const receiver = await startWebhookReceiver();
    const one = await startTestApp({ env: FAST });
    const two = TWO ? await startTestApp({ env: FAST, db: one.db }) : one;
    try {
      const token = (await one.admin()).token;
      const site = await createSite(one);
      await addWebhook(one, token, receiver);
      await receiver.down();
      const ids = await makeEvents([one, two], token, site.zone.id, 20);
      assert.equal(ids.length, 20);
      await sleep(2000);
      let n = 0;
      receiver.behave(() => (++n <= 2 ? { kind: 'status', status: 503 } : { kind: 'ok' }));
      await receiver.up();
      await receiver.waitFor(() => ids.every((id) => verifiedIds(receiver).has(id)), 30000);
      const got = verifiedIds(receiver);
      const missing = ids.filter((id) => !got.has(id));
      for (const id of ids) {
        rec.record(cat, got.has(id) ? 200 : 0, got.has(id)); // one case per committed event: 200 = delivered
      }
      rec.invariant(cat, `all ${ids.length} events delivered after the outage (missing: ${missing.length})`, missing.length === 0);
      assert.deepEqual(missing, []);
      const unverified = receiver.received.filter((r) => !r.verified);
      rec.invariant(cat, `every request verifies with standardwebhooks (${unverified.length} did not)`, unverified.length === 0);
      assert.equal(unverified.length, 0, unverified[0]?.verifyError);
      for (const r of receiver.received) {
        assert.equal(r.json.id, Number(r.webhookId.slice(4)), 'webhook-id is evt_<event id>');
      }
    } finally {
      if (two !== one) {
        await two.close();
      }
      await one.close();
      await receiver.close();
    }
  });

  it(`each attempt is made by one instance: 3 endpoints × 40 events on ${TWO ? 'two instances' : 'one instance'}, every request once, every delivery one attempt`, async () => {
    const cat = 'claims across instances';
    const receivers = await Promise.all([1, 2, 3].map(() => startWebhookReceiver()));
    for (const r of receivers) {
      r.behave({ kind: 'slow', ms: 20 });
    }
    const one = await startTestApp({ env: FAST });
    const two = TWO ? await startTestApp({ env: FAST, db: one.db }) : one;
    try {
      const token = (await one.admin()).token;
      const sites = await Promise.all([1, 2].map(() => createSite(one)));
      for (const r of receivers) {
        await addWebhook(one, token, r);
      }
      // two writers at once, one per instance and zone
      const [a, b] = await Promise.all([makeEvents([one], token, sites[0].zone.id, 20), makeEvents([two], token, sites[1].zone.id, 20)]);
      const ids = [...new Set([...a, ...b])];
      assert.equal(ids.length, 40);
      for (const r of receivers) {
        await r.waitFor(() => ids.every((id) => verifiedIds(r).has(id)), 30000);
      }
      await sleep(1000); // a second attempt of anything would arrive within this
      for (const r of receivers) {
        const perEvent = new Map<string, number>();
        for (const x of r.received) {
          perEvent.set(x.webhookId, (perEvent.get(x.webhookId) ?? 0) + 1);
        }
        const twice = [...perEvent.values()].filter((n) => n > 1).length;
        for (const id of ids) {
          rec.record(cat, perEvent.get(`evt_${id}`) === 1 ? 200 : 0, perEvent.get(`evt_${id}`) === 1);
        }
        rec.invariant(cat, `an endpoint got ${r.received.length} requests for ${ids.length} events (${twice} twice)`, twice === 0 && r.received.length === ids.length);
        assert.equal(twice, 0);
        assert.equal(r.received.length, ids.length);
      }
      const attempts = (await one.ds.query(`SELECT attempts, count(*)::int AS n FROM ecoflow_delivery GROUP BY attempts`)) as { attempts: number; n: number }[];
      assert.deepEqual(attempts, [{ attempts: 1, n: 120 }], 'one attempt per delivery');
    } finally {
      if (two !== one) {
        await two.close();
      }
      await one.close();
      await Promise.all(receivers.map((r) => r.close()));
    }
  });

  it('50 concurrent DANGER uploads on two instances open one alert, one alert.opened, one delivery', async () => {
    const cat = 'concurrent DANGER uploads';
    const receiver = await startWebhookReceiver();
    const one = await startTestApp({ env: { ...FAST, CROWD_PREDICT_URL: crowd.predictUrl } });
    const two = TWO ? await startTestApp({ env: { ...FAST, CROWD_PREDICT_URL: crowd.predictUrl }, db: one.db }) : one;
    try {
      const token = (await one.admin()).token;
      const site: Site = await createSite(one, { capacity: 10 });
      await addWebhook(one, token, receiver, { event_types: ['alert.opened'] });
      crowd.setDefault({ count: 10 });
      const image = await jpeg(32, 32);
      const before = await lastEventId(one, token);
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => detect(i % 2 ? two : one, { key: site.key, zoneId: site.zone.id, file: image })));
      crowd.setDefault({ count: 1 });
      const statuses = answers.map((a) => a.status);
      for (const st of statuses) {
        rec.record(cat, st, st === 200);
      }
      assert.ok(statuses.every((s) => s === 200), JSON.stringify(statuses));
      const created = answers.filter((a) => a.body.alert_created === true);
      const events = (await one.request('GET', `/events/?after=${before}`, { token })).body as { type: string }[];
      rec.invariant(cat, `50 uploads → ${created.length} alert_created, ${events.length} events`, created.length === 1 && events.length === 1);
      assert.equal(created.length, 1);
      assert.deepEqual(events.map((e) => e.type), ['alert.opened']);
      await receiver.waitFor((r) => r.length >= 1, 15000);
      await sleep(1000); // a duplicate delivery would arrive within this
      assert.equal(receiver.received.length, 1, 'exactly one delivery');
      rec.invariant(cat, 'exactly one webhook request', receiver.received.length === 1);
    } finally {
      if (two !== one) {
        await two.close();
      }
      await one.close();
      await receiver.close();
    }
  });

  it('a rolled-back alert change delivers nothing: no event, no delivery row, no request', async () => {
    const cat = 'rolled-back change';
    const receiver = await startWebhookReceiver();
    const t = await startTestApp({ env: FAST });
    try {
      const token = (await t.admin()).token;
      const site = await createSite(t);
      await addWebhook(t, token, receiver);
      const closed = await t.request('POST', '/alerts/', { token, body: { heading: 'a', status: 'CLOSED', zone_id: site.zone.id } });
      const open = await t.request('POST', '/alerts/', { token, body: { heading: 'b', status: 'OPEN', zone_id: site.zone.id } });
      assert.equal(open.status, 201);
      await receiver.waitFor((r) => r.length === 1, 15000); // the alert.opened of b
      const before = (await t.ds.query('SELECT count(*)::int AS n FROM ecoflow_delivery')) as { n: number }[];
      // reopening a onto b's open (zone, camera) fails in the transaction that would write the event
      const conflict = await t.request('PATCH', `/alerts/${closed.body.id}/`, { token, body: { status: 'OPEN' } });
      const duplicate = await t.request('POST', '/alerts/', { token, body: { heading: 'c', status: 'OPEN', zone_id: site.zone.id } });
      assert.deepEqual([conflict.status, duplicate.status], [409, 409]);
      rec.record(cat, conflict.status, conflict.status === 409);
      rec.record(cat, duplicate.status, duplicate.status === 409);
      await sleep(1000);
      const afterRows = (await t.ds.query('SELECT count(*)::int AS n FROM ecoflow_delivery')) as { n: number }[];
      const ok = afterRows[0].n === before[0].n && receiver.received.length === 1;
      rec.invariant(cat, `two 409s: ${afterRows[0].n - before[0].n} new delivery rows, ${receiver.received.length - 1} extra requests`, ok);
      assert.equal(afterRows[0].n, before[0].n);
      assert.equal(receiver.received.length, 1);
    } finally {
      await t.close();
      await receiver.close();
    }
  });

  it('a slow endpoint delays neither another endpoint nor the detection response', async () => {
    const cat = 'slow endpoint isolation';
    const slow = await startWebhookReceiver();
    const fast = await startWebhookReceiver();
    slow.behave({ kind: 'hang' });
    const t = await startTestApp({ env: { ...FAST, CROWD_PREDICT_URL: crowd.predictUrl, WEBHOOK_TIMEOUT_MS: '5000', WEBHOOK_CONCURRENCY: '2' } });
    try {
      const token = (await t.admin()).token;
      const site = await createSite(t, { capacity: 10 });
      await addWebhook(t, token, slow);
      await addWebhook(t, token, fast);
      const t0 = Date.now();
      const ids = await makeEvents([t], token, site.zone.id, 10);
      await fast.waitFor(() => ids.every((id) => verifiedIds(fast).has(id)), 20000);
      const fastMs = Date.now() - t0;
      rec.timing(cat, fastMs);
      for (const id of ids) {
        rec.record(cat, verifiedIds(fast).has(id) ? 200 : 0, verifiedIds(fast).has(id));
      }
      // the slow endpoint holds one of the two slots the whole time, and got at most one request
      assert.ok(slow.received.length <= 1, `slow endpoint got ${slow.received.length} concurrent attempts`);
      assert.ok(fastMs < 5000, `the fast endpoint got all 10 events in ${fastMs} ms, before the slow one's first attempt timed out`);
      rec.invariant(cat, `10 events reached the fast endpoint in ${fastMs} ms while the slow one hung (one slot of two)`, fastMs < 5000);
      crowd.setDefault({ count: 10 });
      const d0 = Date.now();
      const danger = await detect(t, { key: site.key, zoneId: site.zone.id, file: await jpeg(32, 32) });
      const dangerMs = Date.now() - d0;
      crowd.setDefault({ count: 1 });
      rec.record(cat, danger.status, danger.status === 200 && dangerMs < 2000);
      assert.equal(danger.status, 200);
      assert.equal(danger.body.status, 'DANGER');
      assert.ok(dangerMs < 2000, `DANGER answered in ${dangerMs} ms with a hanging webhook`);
      rec.invariant(cat, `DANGER detection answered in ${dangerMs} ms while a webhook hung`, dangerMs < 2000);
    } finally {
      await t.close();
      await slow.close();
      await fast.close();
    }
  });

  describe('on PostgreSQL', { skip: REAL_POSTGRES ? false : NO_PG }, () => {
    it('an instance SIGKILLed mid-delivery: another instance makes the attempt once the lease ends', async () => {
      const cat = 'instance killed mid-delivery';
      rec.faultCategory(cat, ['SIGKILL of the instance whose webhook request is in flight']);
      const receiver = await startWebhookReceiver();
      const db: TestDatabase = await createTestDatabase();
      const env = { ...FAST, WEBHOOK_TIMEOUT_MS: '3000' };
      let token = '';
      let hook: Hook;
      let zoneId = 0;
      {
        const setup = await startTestApp({ env, db });
        token = (await setup.admin()).token;
        zoneId = (await createSite(setup)).zone.id;
        hook = await addWebhook(setup, token, receiver);
        await setup.close();
      }
      receiver.behave({ kind: 'hang' });
      const child = await startChildService({
        NODE_ENV: 'test',
        PORT: '0',
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: 'info', // the "listening" line is how the test knows it started
        ...db.env,
        ...(REAL_REDIS_URL ? { REDIS_URL: REAL_REDIS_URL } : {}),
        ...env,
      });
      let survivor: TestApp | null = null;
      try {
        const created = await fetch(`http://127.0.0.1:${child.port}/alerts/`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ heading: 'h', status: 'OPEN', zone_id: zoneId }),
        });
        assert.equal(created.status, 201);
        await receiver.waitFor((r) => r.length === 1, 15000);
        child.proc.kill('SIGKILL');
        await new Promise((r) => child.proc.once('exit', r));
        const killedAt = Date.now();
        receiver.behave({ kind: 'ok' });
        survivor = await startTestApp({ env, db });
        await receiver.waitFor((r) => r.length >= 2, 30000);
        const recoveredMs = Date.now() - killedAt;
        rec.timing(cat, recoveredMs);
        const [first, second] = receiver.received;
        assert.equal(second.webhookId, first.webhookId, 'the same event, retried');
        assert.ok(second.verified);
        const deliveries = await survivor.request('GET', `/webhooks/${hook!.id}/deliveries/`, { token });
        assert.equal(deliveries.status, 200, deliveries.text);
        assert.equal(deliveries.body.length, 1);
        assert.equal(deliveries.body[0].status, 'succeeded');
        assert.equal(deliveries.body[0].attempts, 2, 'the killed attempt counts');
        rec.record(cat, deliveries.body[0].status === 'succeeded' ? 200 : 0, deliveries.body[0].status === 'succeeded');
        rec.invariant(cat, `delivered by the surviving instance ${recoveredMs} ms after the kill (lease 2 × 3 s + 5 s)`, deliveries.body[0].status === 'succeeded');
      } finally {
        if (child.proc.exitCode === null) {
          child.proc.kill('SIGKILL');
        }
        await survivor?.close();
        await db.drop();
        await receiver.close();
      }
    });

    it('PostgreSQL restarted under load, two instances: events committed before and after are all delivered, none twice in the log', async () => {
      const cat = 'database restart during delivery';
      rec.faultCategory(cat, ['every database connection cut and refused for 2 s while events are delivered']);
      const receiver = await startWebhookReceiver();
      receiver.behave({ kind: 'slow', ms: 50 });
      const db = await createTestDatabase();
      const { proxy, url } = TcpProxy.forUrl(db.url!, 5432);
      await proxy.start();
      const env = { ...FAST, DATABASE_URL: url(), DB_CONNECT_TIMEOUT_MS: '1000', CROWD_PREDICT_URL: crowd.predictUrl };
      const t = await startTestApp({ env, db: { ...db, env: { DATABASE_URL: url() } } });
      // a second instance behind the same proxy: both lose the database, both deliver afterwards
      const t2 = await startTestApp({ env, db: { ...db, env: { DATABASE_URL: url() } } });
      let loading = true;
      const statuses: number[] = [];
      let load: Promise<void> = Promise.resolve();
      try {
        const token = (await t.admin()).token;
        const site = await createSite(t);
        const sensors = await Promise.all([1, 2, 3, 4].map(() => createSite(t)));
        await addWebhook(t, token, receiver);
        // sensors keep posting (NORMAL readings) on four zones the whole time
        const image = await jpeg(32, 32);
        load = (async () => {
          while (loading) {
            const answers = await Promise.all(sensors.map((s, i) => detect(i % 2 ? t2 : t, { key: s.key, zoneId: s.zone.id, file: image }).catch(() => ({ status: 0 }))));
            statuses.push(...answers.map((a) => a.status));
          }
        })();
        const first = await makeEvents([t, t2], token, site.zone.id, 10);
        await proxy.cut();
        await sleep(2000);
        await proxy.start();
        // the pool's dead connections fail once, then the service recovers
        for (const app of [t, t2]) {
          for (let i = 0; i < 40; i++) {
            if ((await app.request('GET', '/events/?limit=1', { token })).status === 200) {
              break;
            }
            await sleep(500);
          }
        }
        const second = await makeEvents([t, t2], token, site.zone.id, 10);
        const ids = [...first, ...second];
        assert.equal(ids.length, 20);
        await receiver.waitFor(() => ids.every((id) => verifiedIds(receiver).has(id)), 30000);
        const got = verifiedIds(receiver);
        rec.invariant(cat, `20 events across a database restart: ${ids.filter((id) => got.has(id)).length} delivered`, ids.every((id) => got.has(id)));
        const rows = (await t.ds.query('SELECT event_id, count(*)::int AS n FROM ecoflow_delivery GROUP BY event_id HAVING count(*) > 1')) as unknown[];
        assert.deepEqual(rows, [], 'one delivery row per event and endpoint');
        loading = false;
        await load;
        // during the cut sensors get the mapped 503; before and after, their readings succeed
        const unexpected = statuses.filter((st) => st !== 200 && st !== 503);
        for (const st of statuses) {
          rec.record(cat, st, st === 200 || st === 503);
        }
        rec.invariant(cat, `${statuses.length} sensor uploads alongside: ${statuses.filter((st) => st === 200).length} × 200, ${statuses.filter((st) => st === 503).length} × 503, ${unexpected.length} other`, unexpected.length === 0);
        assert.deepEqual(unexpected, []);
        assert.ok(statuses.filter((st) => st === 200).length > 10, 'the sensors were served around the cut');
      } finally {
        loading = false;
        await load;
        await t2.close();
        await t.close();
        await proxy.cut();
        await db.drop();
        await receiver.close();
      }
    });
  });
});
