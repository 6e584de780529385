import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { isDisallowedAddress } from '../../src/integrations/webhooks/destination-guard';
import { startWebhookReceiver, type ReceivedWebhook, type ReceiverBehaviour, type WebhookReceiver } from '../doubles/webhook-receiver';
import { startTestApp, TestApp } from '../support/test-app';
import { until } from '../support/until';

/**
 * Webhook delivery end to end (ALERTING.md §2): the real app, its outbox worker and HTTP sender,
 * against a local receiver that verifies every request with the reference `standardwebhooks`.
 */

interface Fixture {
  org: any;
  zone: any;
  hook: any;
  receiver: WebhookReceiver;
  /** alerts opened so far: one OPEN alert per zone, so each further alert gets a zone of its own */
  alerts: number;
}

function helpers(get: () => TestApp) {
  const admin = async (): Promise<string> => (await get().admin()).token;
  const deliveries = async (hookId: number): Promise<any[]> => {
    const r = await get().request('GET', `/webhooks/${hookId}/deliveries/`, { token: await admin() });
    assert.equal(r.status, 200, r.text);
    return r.body;
  };
  /** the newest delivery of a webhook once `pred` holds for it */
  const deliveryWhen = (hookId: number, what: string, pred: (d: any) => boolean, timeoutMs?: number): Promise<any> =>
    until(
      what,
      async () => {
        const [d] = await deliveries(hookId);
        return d && pred(d) ? d : undefined;
      },
      timeoutMs,
    );
  const webhook = async (id: number): Promise<any> => (await get().request('GET', `/webhooks/${id}/`, { token: await admin() })).body;
  /** an organization and zone of its own, a receiver, and a webhook for that organization only */
  const fixture = async (hookFields: Record<string, unknown> = {}): Promise<Fixture> => {
    const t = get();
    const org = await t.create('/organizations/', { name: `Org ${Math.random().toString(36).slice(2, 8)}`, org_type: 'LIBRARY' });
    const zone = await t.create('/zones/', { name: 'Lobby', zone_type: 'HALL', organization_id: org.id, capacity: 10 });
    const receiver = await startWebhookReceiver();
    const hook = await t.create('/webhooks/', { url: receiver.url, organization_id: org.id, ...hookFields });
    receiver.setSecrets([hook.secret]);
    return { org, zone, hook, receiver, alerts: 0 };
  };
  /** a DANGER alert: POST /alerts/ as ADMIN with status OPEN emits alert.opened */
  const openAlert = async (f: Fixture, heading = 'Overcrowding in Lobby'): Promise<any> => {
    f.alerts += 1;
    const zone = f.alerts === 1 ? f.zone : await get().create('/zones/', { name: `Hall ${f.alerts}`, zone_type: 'HALL', organization_id: f.org.id, capacity: 10 });
    return get().create('/alerts/', { heading, sub_heading: 'Detected 12/10 people.', zone_id: zone.id, status: 'OPEN' });
  };
  const eventOf = async (type: string, orgId: number): Promise<any> => {
    const r = await get().request('GET', `/events/?types=${type}&org_id=${orgId}`, { token: await admin() });
    assert.equal(r.status, 200, r.text);
    return r.body[r.body.length - 1];
  };
  return { until, deliveries, deliveryWhen, webhook, fixture, openAlert, eventOf, admin };
}

const verifiesWith = (secret: string, r: ReceivedWebhook, signature = r.signature): boolean => {
  try {
    new Webhook(secret).verify(r.body, { 'webhook-id': r.webhookId, 'webhook-timestamp': r.timestamp, 'webhook-signature': signature });
    return true;
  } catch {
    return false;
  }
};

describe('webhook delivery (WEBHOOK_RETRY_SCHEDULE=200ms,200ms)', () => {
  let t: TestApp;
  const h = helpers(() => t);
  const receivers: WebhookReceiver[] = [];
  const secrets: string[] = [];
  const fixture = async (fields?: Record<string, unknown>): Promise<Fixture> => {
    const f = await h.fixture(fields);
    receivers.push(f.receiver);
    secrets.push(f.hook.secret);
    return f;
  };

  before(async () => {
    t = await startTestApp({ env: { WEBHOOK_RETRY_SCHEDULE: '200ms,200ms', DELIVERY_POLL_INTERVAL: '100ms', WEBHOOK_TIMEOUT_MS: '5000' } });
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await t.close();
  });

  it('delivers alert.opened with the §1 envelope, signed so that standardwebhooks verifies it', async () => {
    const f = await fixture();
    const alert = await h.openAlert(f);
    await f.receiver.waitFor((rs) => rs.length >= 1);
    const [r] = f.receiver.received;
    assert.equal(r.verified, true, r.verifyError);
    const event = await h.eventOf('alert.opened', f.org.id);
    assert.deepEqual(r.json, event, 'the body is the envelope GET /events/ shows');
    assert.equal(r.json.type, 'alert.opened');
    assert.equal(r.json.organization_id, f.org.id);
    assert.equal(r.json.data.alert.id, alert.id);
    assert.deepEqual(r.json.data.zone, { id: f.zone.id, name: 'Lobby', capacity: 10 });
    assert.equal(r.json.data.organization.id, f.org.id);
    assert.equal(r.webhookId, `evt_${event.id}`);
    assert.ok(Math.abs(Number(r.timestamp) - Date.now() / 1000) < 120, 'webhook-timestamp is unix seconds of the attempt');
    assert.match(r.signature, /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['user-agent'], 'EcoFlow-Webhooks/1');
    const d = await h.deliveryWhen(f.hook.id, 'the delivery recorded as succeeded', (x) => x.status === 'succeeded');
    assert.deepEqual(
      { event_id: d.event_id, event_type: d.event_type, status: d.status, attempts: d.attempts, last_response_status: d.last_response_status, last_error: d.last_error, next_attempt_at: d.next_attempt_at },
      { event_id: event.id, event_type: 'alert.opened', status: 'succeeded', attempts: 1, last_response_status: 200, last_error: null, next_attempt_at: null },
    );
    assert.equal(typeof d.duration_ms, 'number');
    assert.equal(f.receiver.received.length, 1, 'delivered once');
  });

  it('only events the webhook asked for, of its organization', async () => {
    const f = await fixture({ event_types: ['alert.resolved'] });
    const other = await fixture();
    const alert = await h.openAlert(f);
    await h.openAlert(other);
    await other.receiver.waitFor((rs) => rs.length >= 1);
    const closed = await t.request('PATCH', `/alerts/${alert.id}/`, { token: await h.admin(), body: { status: 'CLOSED' } });
    assert.equal(closed.status, 200, closed.text);
    await f.receiver.waitFor((rs) => rs.length >= 1);
    assert.deepEqual(
      f.receiver.received.map((r) => r.json.type),
      ['alert.resolved'],
    );
    assert.ok(other.receiver.received.every((r) => r.json.organization_id === other.org.id), 'no event of another organization');
  });

  it('signs with both secrets during a rotation; each signature verifies with its own secret', async () => {
    const f = await fixture();
    const old = f.hook.secret;
    const rot = await t.request('POST', `/webhooks/${f.hook.id}/rotate-secret/`, { token: await h.admin() });
    assert.equal(rot.status, 200);
    const fresh = rot.body.secret;
    secrets.push(fresh);
    f.receiver.setSecrets([fresh]);
    await h.openAlert(f);
    await f.receiver.waitFor((rs) => rs.length >= 1);
    const [r] = f.receiver.received;
    assert.equal(r.verified, true, r.verifyError);
    const sigs = r.signature.split(' ');
    assert.equal(sigs.length, 2, 'two space-separated signatures');
    assert.equal(verifiesWith(fresh, r, sigs[0]), true, 'the first signature is the new secret');
    assert.equal(verifiesWith(old, r, sigs[1]), true, 'the second is the previous secret');
    assert.equal(verifiesWith(old, r, sigs[0]), false);
    assert.equal(verifiesWith(fresh, r, sigs[1]), false);
    assert.equal(verifiesWith(old, r), true, 'a receiver still on the old secret accepts the request');

    // once the overlap has ended only the new secret signs
    await t.ds.query(`UPDATE ecoflow_webhook SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1`, [f.hook.id]);
    await h.openAlert(f, 'second');
    await f.receiver.waitFor((rs) => rs.length >= 2);
    const second = f.receiver.received[1];
    assert.equal(second.signature.split(' ').length, 1);
    assert.equal(verifiesWith(fresh, second), true);
    assert.equal(verifiesWith(old, second), false);
  });

  it('410 Gone disables the endpoint and nothing more is sent to it', async () => {
    const f = await fixture();
    f.receiver.behave({ kind: 'status', status: 410 });
    await h.openAlert(f);
    const d = await h.deliveryWhen(f.hook.id, 'the 410 recorded', (x) => x.attempts >= 1 && x.last_response_status === 410);
    assert.equal(d.status, 'failed');
    assert.equal(d.next_attempt_at, null, 'never retried');
    const w = await h.until('the webhook disabled', async () => {
      const x = await h.webhook(f.hook.id);
      return x.is_active === false ? x : undefined;
    });
    assert.equal(w.disabled_reason, '410 Gone');
    await h.openAlert(f, 'after 410');
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(f.receiver.received.length, 1);
    assert.equal((await h.deliveries(f.hook.id)).length, 1, 'no delivery for an inactive endpoint');
  });

  it('5xx is retried on the schedule, then exhausted after entries + 1 attempts, all with the same webhook-id', async () => {
    const f = await fixture();
    f.receiver.behave({ kind: 'status', status: 500 });
    await h.openAlert(f);
    const d = await h.deliveryWhen(f.hook.id, 'the delivery exhausted', (x) => x.status === 'exhausted');
    assert.equal(d.attempts, 3);
    assert.equal(d.last_response_status, 500);
    assert.equal(d.last_error, 'HTTP 500');
    assert.equal(d.next_attempt_at, null);
    assert.equal(f.receiver.received.length, 3);
    assert.equal(new Set(f.receiver.received.map((r) => r.webhookId)).size, 1, 'receivers dedupe on webhook-id');
    assert.ok(f.receiver.received.every((r) => r.verified));
    const ts = f.receiver.received.map((r) => r.receivedAt);
    assert.ok(ts[1] - ts[0] >= 150 && ts[2] - ts[1] >= 150, `retries wait the scheduled 200 ms ± 20 % (gaps ${ts[1] - ts[0]}, ${ts[2] - ts[1]})`);
    assert.equal((await h.webhook(f.hook.id)).is_active, true, 'an exhausted delivery does not disable the endpoint');

    // manual retry: one more attempt, now answered
    f.receiver.behave({ kind: 'ok' });
    const r = await t.request('POST', `/webhooks/${f.hook.id}/deliveries/${d.id}/retry/`, { token: await h.admin() });
    assert.equal(r.status, 202, r.text);
    const done = await h.deliveryWhen(f.hook.id, 'the retried delivery succeeded', (x) => x.status === 'succeeded');
    assert.equal(done.attempts, 4);
    assert.equal(done.last_error, null);
    assert.equal(f.receiver.received.length, 4);
    assert.equal(f.receiver.received[3].webhookId, f.receiver.received[0].webhookId);
    const again = await t.request('POST', `/webhooks/${f.hook.id}/deliveries/${d.id}/retry/`, { token: await h.admin() });
    assert.equal(again.status, 409);
  });

  it('a reset connection or a receiver that is down is retried until delivered (at-least-once)', async () => {
    const f = await fixture();
    f.receiver.behave((_r, n) => (n === 1 ? { kind: 'reset' } : { kind: 'ok' }));
    await h.openAlert(f);
    const d = await h.deliveryWhen(f.hook.id, 'delivered after a reset', (x) => x.status === 'succeeded');
    assert.equal(d.attempts, 2);
    assert.equal(f.receiver.received.length, 2);

    await f.receiver.down();
    await h.openAlert(f, 'while down');
    const refused = await h.deliveryWhen(f.hook.id, 'attempts refused while down', (x) => x.status === 'exhausted');
    assert.equal(refused.last_error, 'connection refused');
    assert.equal(refused.last_response_status, null);
    await f.receiver.up();
    assert.equal((await t.request('POST', `/webhooks/${f.hook.id}/deliveries/${refused.id}/retry/`, { token: await h.admin() })).status, 202);
    await h.deliveryWhen(f.hook.id, 'delivered once the receiver is back', (x) => x.status === 'succeeded');
    assert.equal(f.receiver.received.length, 3);
    assert.equal(f.receiver.received[2].json.data.alert.heading, 'while down');
  });

  it('test event: delivered to that endpoint only, verified, and not listed by GET /events/', async () => {
    const f = await fixture();
    const other = await fixture();
    const r = await t.request('POST', `/webhooks/${f.hook.id}/test/`, { token: await h.admin() });
    assert.equal(r.status, 202);
    await f.receiver.waitFor((rs) => rs.length >= 1);
    const [got] = f.receiver.received;
    assert.equal(got.verified, true, got.verifyError);
    assert.equal(got.webhookId, `evt_${r.body.event_id}`);
    assert.equal(got.json.id, r.body.event_id);
    assert.equal(got.json.type, 'webhook.test');
    assert.equal(got.json.organization_id, f.org.id);
    assert.deepEqual(got.json.data, { webhook_id: f.hook.id });
    await h.deliveryWhen(f.hook.id, 'the test delivery succeeded', (x) => x.status === 'succeeded');
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(other.receiver.received.length, 0, 'no other endpoint gets it');
    const events = await t.request('GET', `/events/?after=${r.body.event_id - 1}`, { token: await h.admin() });
    assert.ok(!events.body.some((e: any) => e.id === r.body.event_id));
  });

  it('does not follow redirects: a 3xx is a failure and the Location gets nothing', async () => {
    const target = await startWebhookReceiver();
    receivers.push(target);
    const f = await fixture();
    f.receiver.behave({ kind: 'status', status: 302, location: target.url });
    await h.openAlert(f);
    const d = await h.deliveryWhen(f.hook.id, 'the redirect recorded', (x) => x.status === 'exhausted');
    assert.equal(d.last_response_status, 302);
    assert.match(d.last_error, /^HTTP 302/);
    assert.equal(f.receiver.received.length, 3);
    assert.equal(target.received.length, 0);
  });

  it('a 1 MiB answer does not hurt: succeeded, read no further than the cap', async () => {
    const f = await fixture();
    f.receiver.behave({ kind: 'big', bytes: 1024 * 1024 });
    await h.openAlert(f);
    const d = await h.deliveryWhen(f.hook.id, 'the delivery succeeded', (x) => x.status === 'succeeded');
    assert.equal(d.last_response_status, 200);
    assert.equal(d.attempts, 1);
    const probe = await t.request('GET', '/api/health/');
    assert.ok([200, 503].includes(probe.status), 'the service still answers');
  });

  it('logs neither secrets nor request or response bodies', () => {
    const logs = JSON.stringify(t.logs);
    assert.ok(secrets.length >= 10);
    for (const s of secrets) {
      assert.ok(!logs.includes(s.slice('whsec_'.length)), 'a log line holds a signing secret');
    }
    assert.ok(!/whsec_|v1,[A-Za-z0-9+/]{43}=/.test(logs), 'no secret or signature in the logs');
    assert.ok(!logs.includes('"type":"alert.opened"') && !logs.includes('{\\"ok\\":true}') && !logs.includes('aaaaaaaaaaaaaaaa'), 'no envelope or answer body in the logs');
  });
});

describe('destination guard (WEBHOOK_ALLOW_PRIVATE=false)', () => {
  it('refuses loopback, private, link-local, unique-local, multicast, unspecified and metadata addresses, mapped forms included', () => {
    for (const a of [
      '127.0.0.1',
      '127.255.0.9',
      '10.0.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '169.254.0.1',
      '0.0.0.0',
      '0.1.2.3',
      '224.0.0.1',
      '239.255.255.250',
      '255.255.255.255',
      '100.64.0.1',
      '::1',
      '::',
      'fe80::1',
      'fe80::1%eth0',
      'febf::1',
      'fc00::1',
      'fd12:3456::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.0.0.1',
      '::ffff:a9fe:a9fe',
      '0:0:0:0:0:ffff:c0a8:101',
      '::127.0.0.1',
      '64:ff9b::a00:1',
      'not-an-ip',
    ]) {
      assert.equal(isDisallowedAddress(a), true, a);
    }
    for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '172.15.255.255', '192.169.0.1', '169.255.0.1', '2606:4700:4700::1111', '2001:db8::1', '::ffff:8.8.8.8', '64:ff9b::808:808']) {
      assert.equal(isDisallowedAddress(a), false, a);
    }
  });
});

describe('webhook delivery (WEBHOOK_TIMEOUT_MS=500, WEBHOOK_RETRY_SCHEDULE=1s,1s,1s)', () => {
  let t: TestApp;
  const h = helpers(() => t);
  const receivers: WebhookReceiver[] = [];
  const fixture = async (fields?: Record<string, unknown>): Promise<Fixture> => {
    const f = await h.fixture(fields);
    receivers.push(f.receiver);
    return f;
  };

  before(async () => {
    t = await startTestApp({ env: { WEBHOOK_RETRY_SCHEDULE: '1s,1s,1s', WEBHOOK_TIMEOUT_MS: '500', DELIVERY_POLL_INTERVAL: '100ms' } });
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await t.close();
  });

  it('a receiver that never answers is a timeout, recorded within the time limit', async () => {
    const f = await fixture();
    f.receiver.behave({ kind: 'hang' });
    await h.openAlert(f);
    const d = await h.deliveryWhen(f.hook.id, 'the timeout recorded', (x) => x.attempts >= 1 && x.last_error !== null);
    assert.equal(d.last_error, 'timeout');
    assert.equal(d.last_response_status, null);
    assert.equal(d.status, 'failed');
    assert.ok(d.duration_ms >= 450 && d.duration_ms < 5000, `gave up after WEBHOOK_TIMEOUT_MS (${d.duration_ms} ms)`);
    assert.ok(f.receiver.received.length >= 1, 'the request did arrive');
    await t.request('PATCH', `/webhooks/${f.hook.id}/`, { token: await h.admin(), body: { is_active: false } });
  });

  it('429/503 with Retry-After (seconds or HTTP date) wait that long, capped at 4 × the next scheduled delay', async () => {
    const f = await fixture();
    const plan = (n: number): ReceiverBehaviour => {
      if (n === 1) {
        return { kind: 'status', status: 429, retryAfter: '2' };
      }
      if (n === 2) {
        return { kind: 'status', status: 503, retryAfter: new Date(Date.now() + 3000).toUTCString() };
      }
      if (n === 3) {
        return { kind: 'status', status: 429, retryAfter: '3600' };
      }
      return { kind: 'ok' };
    };
    f.receiver.behave((_r, n) => plan(n));
    await h.openAlert(f);
    await h.deliveryWhen(f.hook.id, 'delivered after three waits', (x) => x.status === 'succeeded', 60000);
    const ts = f.receiver.received.map((r) => r.receivedAt);
    assert.equal(ts.length, 4);
    const gaps = [ts[1] - ts[0], ts[2] - ts[1], ts[3] - ts[2]];
    assert.ok(gaps[0] >= 1900, `Retry-After: 2 waited ${gaps[0]} ms (the schedule alone would be 800–1200)`);
    assert.ok(gaps[1] >= 1500, `Retry-After as an HTTP date waited ${gaps[1]} ms`);
    assert.ok(gaps[2] >= 3100, `Retry-After: 3600 is capped at 4 × the next delay (3.2–4.8 s), waited ${gaps[2]} ms`);
    assert.ok(f.receiver.received.every((r) => r.verified));
  });
});

describe('webhook delivery (WEBHOOK_DISABLE_AFTER=1s)', () => {
  let t: TestApp;
  const h = helpers(() => t);
  let f: Fixture | undefined;

  before(async () => {
    t = await startTestApp({ env: { WEBHOOK_RETRY_SCHEDULE: '300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms', WEBHOOK_DISABLE_AFTER: '1s', DELIVERY_POLL_INTERVAL: '100ms' } });
  });
  after(async () => {
    await f?.receiver.close();
    await t.close();
  });

  it('an endpoint whose deliveries all failed for WEBHOOK_DISABLE_AFTER is disabled: "failing since …"', async () => {
    f = await h.fixture();
    f.receiver.behave({ kind: 'status', status: 500 });
    await h.openAlert(f);
    const w = await h.until('the webhook disabled', async () => {
      const x = await h.webhook(f!.hook.id);
      return x.is_active === false ? x : undefined;
    });
    assert.match(w.disabled_reason, /^failing since \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const d = await h.deliveryWhen(f.hook.id, 'the delivery stopped', (x) => x.next_attempt_at === null);
    assert.ok(d.attempts >= 2);
    const n = f.receiver.received.length;
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(f.receiver.received.length, n, 'nothing more is sent to a disabled endpoint');
  });
});
