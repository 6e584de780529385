import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCrowdServer, type CrowdServer } from '../doubles/crowd-server';
import { startWebhookReceiver, type WebhookReceiver } from '../doubles/webhook-receiver';
import { createSite, type Site } from '../support/sensor';
import { startTestApp, type TestApp } from '../support/test-app';
import { until } from '../support/until';
import { sample } from '../support/prometheus';


/** ALERTING.md §7: the outbox in /api/health/ and the delivery series in /metrics. */
describe('alerting operations: outbox health and delivery metrics', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let crowd: CrowdServer;
  let admin: string;
  let site: Site;

  before(async () => {
    receiver = await startWebhookReceiver();
    crowd = await startCrowdServer(); // a healthy detector: overall_status OK unless something else fails
    t = await startTestApp({ env: { CROWD_PREDICT_URL: crowd.predictUrl, OUTBOX_LAG_ALERT_SECONDS: '30', WEBHOOK_RETRY_SCHEDULE: '100ms', DELIVERY_POLL_INTERVAL: '100ms' } });
    admin = (await t.admin()).token;
    site = await createSite(t);
  });
  after(async () => {
    await t.close();
    await receiver.close();
    await crowd.close();
  });

  const scrape = async (): Promise<string> => {
    const r = await t.request('GET', '/metrics', { token: admin });
    assert.equal(r.status, 200);
    return r.text;
  };

  it('counts committed events by type and delivery attempts by channel and outcome', async () => {
    const hook = await t.request('POST', '/webhooks/', { token: admin, body: { url: receiver.url } });
    assert.equal(hook.status, 201, hook.text);
    receiver.setSecrets([hook.body.secret]);
    const before = await scrape();
    receiver.behave((_req, n) => (n === 1 ? { kind: 'status', status: 500 } : { kind: 'ok' }));
    const a = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'm', status: 'OPEN', zone_id: site.zone.id } });
    assert.equal(a.status, 201);
    await receiver.waitFor((r) => r.length === 2, 15000); // 500, then delivered
    const text = await until('the success to be counted', async () => {
      const s = await scrape();
      return sample(s, 'deliveries_total', { channel: 'webhook', outcome: 'succeeded' }) > sample(before, 'deliveries_total', { channel: 'webhook', outcome: 'succeeded' }) && s;
    });
    assert.equal(sample(text, 'events_total', { type: 'alert.opened' }) - sample(before, 'events_total', { type: 'alert.opened' }), 1);
    assert.equal(sample(text, 'deliveries_total', { channel: 'webhook', outcome: 'failed' }) - sample(before, 'deliveries_total', { channel: 'webhook', outcome: 'failed' }), 1);
    assert.equal(sample(text, 'deliveries_total', { channel: 'webhook', outcome: 'succeeded' }) - sample(before, 'deliveries_total', { channel: 'webhook', outcome: 'succeeded' }), 1);
    assert.ok(sample(text, 'delivery_duration_seconds_count', { channel: 'webhook' }) >= 2);
    assert.match(text, /^outbox_oldest_pending_seconds \d/m);
    assert.match(text, /^sse_connections \d/m);
  });

  it('reports the outbox OK, then LAGGING while a due delivery waits (a claim held by a vanished instance)', async () => {
    const ok = await t.request('GET', '/api/health/');
    assert.deepEqual(ok.body.outbox, { status: 'OK', oldest_pending_s: 0 });
    // an event whose delivery is due for 2 minutes but leased by an instance that died
    const ev = (await t.ds.query(`INSERT INTO ecoflow_event (type, organization_id, created_at, data) VALUES ('alert.deleted', NULL, now(), '{}') RETURNING id`)) as { id: number }[];
    const hooks = (await t.ds.query('SELECT id FROM ecoflow_webhook LIMIT 1')) as { id: number }[];
    await t.ds.query(
      `INSERT INTO ecoflow_delivery (event_id, channel, webhook_id, status, attempts, next_attempt_at, lease_until, lease_token, created_at)
       VALUES ($1, 'webhook', $2, 'pending', 1, now() - interval '120 seconds', now() + interval '1 hour', gen_random_uuid(), now())`,
      [ev[0].id, hooks[0].id],
    );
    // /api/health/ caches its report for 5 s
    const lagging = await until('LAGGING', async () => {
      const r = await t.request('GET', '/api/health/');
      return r.body.outbox.status === 'LAGGING' && r;
    }, 15000);
    assert.ok(lagging.body.outbox.oldest_pending_s >= 120, JSON.stringify(lagging.body.outbox));
    assert.equal(lagging.status, 200, 'a lagging outbox does not make the instance unhealthy');
    assert.equal(lagging.body.overall_status, 'OK');
    const text = await until('the lag gauge', async () => {
      const s = await scrape();
      return sample(s, 'outbox_oldest_pending_seconds') >= 120 && s;
    }, 15000);
    assert.ok(sample(text, 'outbox_oldest_pending_seconds') >= 120);
  });
});
