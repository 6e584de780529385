import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseCreateWebhook } from '../../src/webhooks/dto/webhook.input';
import { startWebhookReceiver, type WebhookReceiver } from '../doubles/webhook-receiver';
import { startTestApp, TestApp } from '../support/test-app';
import { until } from '../support/until';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/;
const NO_CREDENTIALS = { detail: 'Authentication credentials were not provided.' };
const FORBIDDEN = { detail: 'You do not have permission to perform this action.' };
const NOT_FOUND = { detail: 'No Webhook matches the given query.' };
const WEBHOOK_KEYS = ['id', 'url', 'event_types', 'organization_id', 'description', 'is_active', 'disabled_reason', 'created_at', 'updated_at'];

/** Admin API of ALERTING.md §2; this app refuses private destinations (WEBHOOK_ALLOW_PRIVATE=false). */
describe('webhooks API', () => {
  let t: TestApp;
  let admin: string;
  let user: string;
  let receiver: WebhookReceiver;
  /** every secret the API handed out, to prove none comes back or reaches the logs */
  const secrets: string[] = [];

  const create = async (body: Record<string, unknown>): Promise<any> => {
    const r = await t.request('POST', '/webhooks/', { token: admin, body });
    assert.equal(r.status, 201, r.text);
    secrets.push(r.body.secret);
    return r.body;
  };
  const deliveries = async (id: number): Promise<any[]> => {
    const r = await t.request('GET', `/webhooks/${id}/deliveries/`, { token: admin });
    assert.equal(r.status, 200, r.text);
    return r.body;
  };

  before(async () => {
    t = await startTestApp({ env: { WEBHOOK_ALLOW_PRIVATE: 'false', DELIVERY_POLL_INTERVAL: '100ms' } });
    admin = (await t.admin()).token;
    user = (await t.operator()).token;
    receiver = await startWebhookReceiver();
  });
  after(async () => {
    await receiver.close();
    await t.close();
  });

  it('creates a webhook with defaults and shows its whsec_ secret once', async () => {
    const r = await t.request('POST', '/webhooks/', { token: admin, body: { url: ' https://hooks.example.com/ecoflow?x=1 ', id: 99, secret: 'mine', disabled_reason: 'x' } });
    assert.equal(r.status, 201, r.text);
    secrets.push(r.body.secret);
    assert.deepEqual(Object.keys(r.body), [...WEBHOOK_KEYS, 'secret']);
    assert.match(r.body.secret, SECRET);
    assert.equal(Buffer.from(r.body.secret.slice(6), 'base64').length, 32);
    assert.notEqual(r.body.id, 99);
    assert.deepEqual({ ...r.body, id: 0, created_at: '', updated_at: '', secret: '' }, {
      id: 0,
      url: 'https://hooks.example.com/ecoflow?x=1',
      event_types: ['*'],
      organization_id: null,
      description: '',
      is_active: true,
      disabled_reason: null,
      created_at: '',
      updated_at: '',
      secret: '',
    });
    assert.match(r.body.created_at, ISO_MS);
    assert.equal(r.body.updated_at, r.body.created_at);

    const one = await t.request('GET', `/webhooks/${r.body.id}/`, { token: admin });
    assert.equal(one.status, 200);
    assert.deepEqual(Object.keys(one.body), WEBHOOK_KEYS, 'GET never shows the secret');
    assert.deepEqual(one.body, Object.fromEntries(Object.entries(r.body).filter(([k]) => k !== 'secret')));
    const noSlash = await t.request('GET', `/webhooks/${r.body.id}`, { token: admin });
    assert.equal(noSlash.status, 200);
  });

  it('keeps every field it is given, with organization, types and description', async () => {
    const org = await t.create('/organizations/', { name: 'Library', org_type: 'LIBRARY' });
    const w = await create({
      url: 'http://receiver.example.org:8080/hook',
      event_types: ['alert.opened', 'alert.resolved', 'alert.opened', 'camera.offline'],
      organization_id: String(org.id),
      description: 'Pager bridge',
      is_active: false,
    });
    assert.deepEqual(w.event_types, ['alert.opened', 'alert.resolved', 'camera.offline'], 'duplicates dropped, order kept');
    assert.equal(w.organization_id, org.id);
    assert.equal(w.description, 'Pager bridge');
    assert.equal(w.is_active, false);
    const star = await create({ url: 'https://a.example.com/', event_types: ['alert.opened', '*'] });
    assert.deepEqual(star.event_types, ['*'], '"*" among others means all');
  });

  it('lists webhooks newest first with X-Total-Count and paging, never with secrets', async () => {
    const a = await create({ url: 'https://list-a.example.com/' });
    const b = await create({ url: 'https://list-b.example.com/' });
    const r = await t.request('GET', '/webhooks/?limit=2', { token: admin });
    assert.equal(r.status, 200);
    const total = Number(r.headers.get('x-total-count'));
    assert.ok(total >= 2);
    assert.deepEqual(
      r.body.map((w: any) => w.id),
      [b.id, a.id],
    );
    for (const w of r.body) {
      assert.deepEqual(Object.keys(w), WEBHOOK_KEYS);
    }
    const all = await t.request('GET', `/webhooks/?limit=500`, { token: admin });
    assert.equal(all.body.length, total);
    const bad = await t.request('GET', '/webhooks/?limit=x&offset=-1', { token: admin });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { limit: ['A valid integer is required.'], offset: ['Ensure this value is greater than or equal to 0.'] });
  });

  it('rejects bad URLs, event types and organizations in the wording of §2, all at once', async () => {
    const post = (body: unknown) => t.request('POST', '/webhooks/', { token: admin, body });
    for (const url of ['not a url', 'ftp://files.example.com/x', 'https://user:pw@example.com/hook', 'https://:pw@example.com/', 'javascript:alert(1)', 'http://', 'https://exa mple.com/']) {
      const r = await post({ url });
      assert.equal(r.status, 400, url);
      assert.deepEqual(r.body, { url: ['Enter a valid URL.'] }, url);
    }
    const long = await post({ url: `https://example.com/${'a'.repeat(2048)}` });
    assert.deepEqual(long.body, { url: ['Ensure this field has no more than 2048 characters.'] });
    const atLimit = `https://example.com/${'a'.repeat(2048 - 'https://example.com/'.length)}`;
    assert.equal((await create({ url: atLimit })).url, atLimit, '2048 characters are accepted');

    const x = await post({ url: 'https://example.com/', event_types: ['x'] });
    assert.deepEqual(x.body, { event_types: ['"x" is not a valid choice.'] });
    const test = await post({ url: 'https://example.com/', event_types: ['alert.opened', 'webhook.test'] });
    assert.deepEqual(test.body, { event_types: ['"webhook.test" is not a valid choice.'] }, 'webhook.test cannot be subscribed to');
    const empty = await post({ url: 'https://example.com/', event_types: [] });
    assert.deepEqual(empty.body, { event_types: ['This list may not be empty.'] });
    const str = await post({ url: 'https://example.com/', event_types: 'alert.opened' });
    assert.deepEqual(str.body, { event_types: ['Expected a list of items but got type "str".'] });
    const nested = await post({ url: 'https://example.com/', event_types: [{ a: 1 }] });
    assert.deepEqual(nested.body, { event_types: ['"dict" is not a valid choice.'] });

    const pk = await post({ url: 'https://example.com/', organization_id: 987654321 });
    assert.deepEqual(pk.body, { organization_id: ['Invalid pk "987654321" - object does not exist.'] });

    const all = await post({ event_types: ['nope'], organization_id: 'abc', is_active: 'maybe', description: 5 });
    assert.equal(all.status, 400);
    assert.deepEqual(all.body, {
      url: ['This field is required.'],
      event_types: ['"nope" is not a valid choice.'],
      organization_id: ['Incorrect type. Expected pk value, received str.'],
      is_active: ['Must be a valid boolean.'],
    });
    const notObject = await post([1, 2]);
    assert.deepEqual(notObject.body, { non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] });
  });

  it('accepts https only when WEBHOOK_ALLOW_HTTP is off (production default)', async () => {
    const exists = async (): Promise<boolean> => true;
    await assert.rejects(parseCreateWebhook({ url: 'http://example.com/' }, exists, { allowHttp: false }), (err: any) => {
      assert.deepEqual(err.fields, { url: ['Only https URLs are accepted.'] });
      return true;
    });
    const ok = await parseCreateWebhook({ url: 'https://example.com/' }, exists, { allowHttp: false });
    assert.equal(ok.url, 'https://example.com/');
  });

  it('PATCH and PUT change only the fields sent; 404 before the body; re-activating clears disabled_reason', async () => {
    const org = await t.create('/organizations/', { name: 'Museum', org_type: 'MUSEUM' });
    const w = await create({ url: 'https://patch.example.com/', description: 'before' });
    const p = await t.request('PATCH', `/webhooks/${w.id}/`, { token: admin, body: { description: 'after', event_types: ['alert.reminder'] } });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.body.description, 'after');
    assert.deepEqual(p.body.event_types, ['alert.reminder']);
    assert.equal(p.body.url, 'https://patch.example.com/');
    assert.deepEqual(Object.keys(p.body), WEBHOOK_KEYS);
    assert.ok(p.body.updated_at >= w.updated_at);
    const put = await t.request('PUT', `/webhooks/${w.id}/`, { token: admin, body: { organization_id: org.id, url: 'https://put.example.com/x' } });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.organization_id, org.id);
    assert.equal(put.body.url, 'https://put.example.com/x');
    assert.equal(put.body.description, 'after');
    const back = await t.request('PATCH', `/webhooks/${w.id}/`, { token: admin, body: { organization_id: null } });
    assert.equal(back.body.organization_id, null);

    const bad = await t.request('PATCH', `/webhooks/${w.id}/`, { token: admin, body: { url: 'ftp://x', event_types: [] } });
    assert.deepEqual(bad.body, { url: ['Enter a valid URL.'], event_types: ['This list may not be empty.'] });
    const missing = await t.request('PUT', '/webhooks/99999999/', { token: admin, body: { url: 'nope' } });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, NOT_FOUND);
    const badId = await t.request('PATCH', '/webhooks/abc/', { token: admin, body: {} });
    assert.deepEqual(badId.body, { id: ['A valid integer is required.'] });

    await t.ds.query(`UPDATE ecoflow_webhook SET is_active = false, disabled_reason = '410 Gone' WHERE id = $1`, [w.id]);
    const desc = await t.request('PATCH', `/webhooks/${w.id}/`, { token: admin, body: { description: 'still off' } });
    assert.equal(desc.body.disabled_reason, '410 Gone', 'kept while it stays disabled');
    const on = await t.request('PATCH', `/webhooks/${w.id}/`, { token: admin, body: { is_active: true } });
    assert.equal(on.body.is_active, true);
    assert.equal(on.body.disabled_reason, null);
  });

  it('rotates the secret: 200 {id, secret}; the previous one keeps signing for 24 h', async () => {
    const w = await create({ url: 'https://rotate.example.com/' });
    const r = await t.request('POST', `/webhooks/${w.id}/rotate-secret/`, { token: admin });
    assert.equal(r.status, 200, r.text);
    secrets.push(r.body.secret);
    assert.deepEqual(Object.keys(r.body), ['id', 'secret']);
    assert.equal(r.body.id, w.id);
    assert.match(r.body.secret, SECRET);
    assert.notEqual(r.body.secret, w.secret);
    const [row] = await t.ds.query(`SELECT secret, previous_secret, previous_secret_expires_at FROM ecoflow_webhook WHERE id = $1`, [w.id]);
    assert.equal(row.secret, r.body.secret);
    assert.equal(row.previous_secret, w.secret);
    const ttl = new Date(row.previous_secret_expires_at).getTime() - Date.now();
    assert.ok(ttl > 23.9 * 3600e3 && ttl <= 24 * 3600e3, `previous secret expires in 24 h (${ttl} ms)`);
    const missing = await t.request('POST', '/webhooks/99999999/rotate-secret/', { token: admin });
    assert.equal(missing.status, 404);
  });

  it('deletes with 204, then 404; its deliveries go with it', async () => {
    const w = await create({ url: 'https://delete.example.com/' });
    const test = await t.request('POST', `/webhooks/${w.id}/test/`, { token: admin });
    assert.equal(test.status, 202);
    const d = await t.request('DELETE', `/webhooks/${w.id}/`, { token: admin });
    assert.equal(d.status, 204);
    assert.equal(d.text, '');
    assert.equal((await t.request('GET', `/webhooks/${w.id}/`, { token: admin })).status, 404);
    assert.equal((await t.request('DELETE', `/webhooks/${w.id}/`, { token: admin })).status, 404);
    assert.equal((await t.request('GET', `/webhooks/${w.id}/deliveries/`, { token: admin })).status, 404);
    const [{ n }] = await t.ds.query(`SELECT count(*)::int AS n FROM ecoflow_delivery WHERE webhook_id = $1`, [w.id]);
    assert.equal(n, 0);
  });

  it('refuses private destinations (WEBHOOK_ALLOW_PRIVATE=false): last_error "destination not allowed", the receiver gets nothing', async () => {
    receiver.setSecrets([]);
    const port = receiver.port;
    for (const url of [receiver.url, `http://localhost:${port}/hook`, `http://[::ffff:127.0.0.1]:${port}/hook`, `http://[::1]:${port}/hook`, 'http://169.254.169.254/latest/meta-data/', 'http://10.1.2.3/']) {
      const w = await create({ url });
      const r = await t.request('POST', `/webhooks/${w.id}/test/`, { token: admin });
      assert.equal(r.status, 202, r.text);
      const [d] = await until(`the refused attempt to ${url}`, async () => {
        const ds = await deliveries(w.id);
        return ds.length && ds[0].attempts >= 1 && ds[0].last_error !== null ? ds : undefined;
      });
      assert.equal(d.last_error, 'destination not allowed', url);
      assert.equal(d.last_response_status, null);
      assert.equal(d.status, 'failed', 'retried later on the schedule');
    }
    assert.equal(receiver.received.length, 0, 'nothing reached the receiver');
  });

  it('test event: 202 {event_id}, one delivery to this endpoint only, not in GET /events/', async () => {
    const w = await create({ url: 'https://test-event.example.com/' });
    const other = await create({ url: 'https://other.example.com/' });
    const r = await t.request('POST', `/webhooks/${w.id}/test/`, { token: admin });
    assert.equal(r.status, 202);
    assert.deepEqual(Object.keys(r.body), ['event_id']);
    assert.equal(typeof r.body.event_id, 'number');
    const [ev] = await t.ds.query(`SELECT type, data FROM ecoflow_event WHERE id = $1`, [r.body.event_id]);
    assert.equal(ev.type, 'webhook.test');
    assert.deepEqual(ev.data, { webhook_id: w.id });
    const mine = await deliveries(w.id);
    assert.deepEqual(
      mine.map((d) => [d.event_id, d.event_type]),
      [[r.body.event_id, 'webhook.test']],
    );
    assert.deepEqual(await deliveries(other.id), []);
    const [{ n }] = await t.ds.query(`SELECT count(*)::int AS n FROM ecoflow_delivery WHERE event_id = $1`, [r.body.event_id]);
    assert.equal(n, 1);
    const events = await t.request('GET', `/events/?after=${r.body.event_id - 1}`, { token: user });
    assert.equal(events.status, 200);
    assert.ok(!events.body.some((e: any) => e.id === r.body.event_id || e.type === 'webhook.test'));

    await t.request('PATCH', `/webhooks/${w.id}/`, { token: admin, body: { is_active: false } });
    const inactive = await t.request('POST', `/webhooks/${w.id}/test/`, { token: admin });
    assert.equal(inactive.status, 409);
    assert.deepEqual(inactive.body, { detail: 'Webhook is not active; set is_active to true first.' });
    assert.equal((await t.request('POST', '/webhooks/99999999/test/', { token: admin })).status, 404);
  });

  it('delivery log: newest first, paged with X-Total-Count, in the §2 shape', async () => {
    const w = await create({ url: 'https://log.example.com/' });
    const ids: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      ids.push((await t.request('POST', `/webhooks/${w.id}/test/`, { token: admin })).body.event_id);
    }
    const r = await t.request('GET', `/webhooks/${w.id}/deliveries/?limit=2&offset=1`, { token: admin });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-total-count'), '3');
    assert.deepEqual(
      r.body.map((d: any) => d.event_id),
      [ids[1], ids[0]],
    );
    assert.deepEqual(Object.keys(r.body[0]), ['id', 'event_id', 'event_type', 'status', 'attempts', 'last_response_status', 'last_error', 'last_attempt_at', 'next_attempt_at', 'duration_ms']);
    assert.ok(['pending', 'failed'].includes(r.body[0].status));
  });

  it('manual retry: 202 for a failed delivery; 409 for pending or succeeded; 404 for unknown webhook or delivery', async () => {
    const w = await create({ url: 'https://retry.example.com/' });
    const other = await create({ url: 'https://retry-other.example.com/' });
    await t.request('POST', `/webhooks/${w.id}/test/`, { token: admin });
    const [failed] = await until('a failed attempt', async () => {
      const ds = await deliveries(w.id);
      return ds.length && ds[0].status === 'failed' && ds[0].attempts === 1 ? ds : undefined;
    });
    assert.ok(new Date(failed.next_attempt_at).getTime() > Date.now() + 1000, 'next attempt on the default schedule (5 s)');
    const r = await t.request('POST', `/webhooks/${w.id}/deliveries/${failed.id}/retry/`, { token: admin });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.body.id, failed.id);
    // recorded, not just claimed: the claim counts the attempt, the record schedules the next one
    await until('the retried attempt recorded', async () => {
      const [d] = await deliveries(w.id);
      return d.attempts === 2 && d.next_attempt_at !== null && new Date(d.next_attempt_at).getTime() > Date.now();
    });

    await t.ds.query(`UPDATE ecoflow_delivery SET status = 'succeeded', next_attempt_at = NULL WHERE id = $1`, [failed.id]);
    const done = await t.request('POST', `/webhooks/${w.id}/deliveries/${failed.id}/retry/`, { token: admin });
    assert.equal(done.status, 409);
    assert.deepEqual(done.body, { detail: 'Only a failed or exhausted delivery can be retried; this one is succeeded.' });
    await t.ds.query(`UPDATE ecoflow_delivery SET status = 'pending', next_attempt_at = now() + interval '1 hour' WHERE id = $1`, [failed.id]);
    const pending = await t.request('POST', `/webhooks/${w.id}/deliveries/${failed.id}/retry/`, { token: admin });
    assert.equal(pending.status, 409);
    assert.deepEqual(pending.body, { detail: 'Only a failed or exhausted delivery can be retried; this one is pending.' });

    const notMine = await t.request('POST', `/webhooks/${other.id}/deliveries/${failed.id}/retry/`, { token: admin });
    assert.equal(notMine.status, 404);
    assert.deepEqual(notMine.body, { detail: 'No Delivery matches the given query.' });
    assert.equal((await t.request('POST', `/webhooks/99999999/deliveries/${failed.id}/retry/`, { token: admin })).status, 404);
    assert.equal((await t.request('POST', `/webhooks/${w.id}/deliveries/99999999/retry/`, { token: admin })).status, 404);
    const badId = await t.request('POST', `/webhooks/${w.id}/deliveries/x/retry/`, { token: admin });
    assert.deepEqual(badId.body, { delivery_id: ['A valid integer is required.'] });
  });

  it('every route: anonymous 401, USER 403, ADMIN allowed', async () => {
    const w = await create({ url: 'https://roles.example.com/' });
    await t.request('POST', `/webhooks/${w.id}/test/`, { token: admin });
    const [d] = await until('a delivery', async () => {
      const ds = await deliveries(w.id);
      return ds.length && ds[0].status === 'failed' ? ds : undefined;
    });
    const routes: [string, string, unknown, number][] = [
      ['GET', '/webhooks/', undefined, 200],
      ['POST', '/webhooks/', { url: 'https://roles-new.example.com/' }, 201],
      ['GET', `/webhooks/${w.id}/`, undefined, 200],
      ['PATCH', `/webhooks/${w.id}/`, { description: 'x' }, 200],
      ['PUT', `/webhooks/${w.id}/`, { description: 'y' }, 200],
      ['POST', `/webhooks/${w.id}/rotate-secret/`, undefined, 200],
      ['POST', `/webhooks/${w.id}/test/`, undefined, 202],
      ['GET', `/webhooks/${w.id}/deliveries/`, undefined, 200],
      ['POST', `/webhooks/${w.id}/deliveries/${d.id}/retry/`, undefined, 202],
      ['DELETE', `/webhooks/${w.id}/`, undefined, 204],
    ];
    for (const [method, path, body, success] of routes) {
      const anon = await t.request(method, path, { body });
      assert.equal(anon.status, 401, `${method} ${path}`);
      assert.deepEqual(anon.body, NO_CREDENTIALS);
      const asUser = await t.request(method, path, { token: user, body });
      assert.equal(asUser.status, 403, `${method} ${path}`);
      assert.deepEqual(asUser.body, FORBIDDEN);
      const asAdmin = await t.request(method, path, { token: admin, body });
      assert.equal(asAdmin.status, success, `${method} ${path}: ${asAdmin.text}`);
      if (asAdmin.body?.secret) {
        secrets.push(asAdmin.body.secret);
      }
    }
  });

  it('never returns a secret after creation or rotation, nor writes one to the logs', async () => {
    assert.ok(secrets.length >= 5);
    const list = await t.request('GET', '/webhooks/?limit=500', { token: admin });
    const pages = [list.text];
    for (const w of list.body) {
      pages.push((await t.request('GET', `/webhooks/${w.id}/`, { token: admin })).text);
      pages.push((await t.request('GET', `/webhooks/${w.id}/deliveries/`, { token: admin })).text);
    }
    const logs = JSON.stringify(t.logs);
    for (const s of secrets) {
      for (const p of pages) {
        assert.ok(!p.includes(s), 'a GET shows a secret');
        assert.ok(!p.includes(s.slice(6)), 'a GET shows a secret key');
      }
      assert.ok(!logs.includes(s.slice(6)), 'a log line holds a secret');
    }
    assert.ok(!/whsec_/.test(logs));
  });
});
