import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { LOGGER, type AppLogger } from '../../src/common/logger';
import { UnitOfWork } from '../../src/database/unit-of-work';
import { EventsRepository } from '../../src/events/events.repository';
import { MAX_QUEUED_BYTES, StreamHub } from '../../src/events/stream/stream-hub';
import { createShutdownHandler } from '../../src/graceful-shutdown';
import { createSite, type Site } from '../support/sensor';
import { SseClient } from '../support/sse-client';
import { startTestApp, type TestApp } from '../support/test-app';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function connect(t: TestApp, query = '', headers: Record<string, string> = {}, path = '/events/stream'): Promise<SseClient> {
  return SseClient.connect(`${t.baseUrl}${path}${query ? `?${query}` : ''}`, { headers });
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** Alert lifecycle through the real API, each step one event (ALERTING.md §1). */
async function openAlert(t: TestApp, site: Site): Promise<number> {
  const r = await t.request('POST', '/alerts/', { token: (await t.admin()).token, body: { heading: 'Overcrowding', zone_id: site.zone.id, status: 'OPEN' } });
  assert.equal(r.status, 201, r.text);
  return r.body.id as number;
}

async function setStatus(t: TestApp, id: number, status: 'OPEN' | 'CLOSED'): Promise<void> {
  const r = await t.request('PATCH', `/alerts/${id}/`, { token: (await t.admin()).token, body: { status } });
  assert.equal(r.status, 200, r.text);
}

async function deleteAlert(t: TestApp, id: number): Promise<void> {
  const r = await t.request('DELETE', `/alerts/${id}/`, { token: (await t.admin()).token });
  assert.equal(r.status, 204, r.text);
}

async function lastEventId(t: TestApp): Promise<number> {
  return t.app.get(EventsRepository).lastId();
}

async function sseGauge(t: TestApp): Promise<number> {
  const r = await t.request('GET', '/metrics', { token: (await t.admin()).token });
  const m = /^sse_connections (\d+)/m.exec(r.text);
  assert.ok(m, 'sse_connections is exported');
  return Number(m[1]);
}

async function noLeaks(t: TestApp): Promise<void> {
  const hub = t.app.get(StreamHub);
  // the server sees a client's close a moment after the client does
  for (let i = 0; i < 100 && hub.stats().clients > 0; i++) {
    await sleep(20);
  }
  assert.deepEqual(hub.stats().clients, 0, 'no client left in the hub');
  assert.equal(hub.stats().timers, 0, 'no timer left');
  assert.equal(hub.stats().running, false, 'the hub stops listening without clients');
  assert.equal(await sseGauge(t), 0, 'sse_connections back to 0');
}

describe('event stream (ALERTING.md §4)', () => {
  let t: TestApp;
  let site: Site;
  let other: Site;
  let operator: string;

  before(async () => {
    t = await startTestApp({ env: { SSE_KEEPALIVE_INTERVAL: '200ms', SSE_MAX_DURATION: '10m' } });
    site = await createSite(t);
    other = await createSite(t);
    operator = (await t.operator()).token;
  });
  after(async () => t.close());

  it('POST /events/stream-ticket/ issues a random ticket for 60 s; only its sha256 is stored', async () => {
    const r = await t.request('POST', '/events/stream-ticket/', { token: operator });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body).sort(), ['expires_in', 'ticket']);
    assert.equal(r.body.expires_in, 60);
    assert.ok(typeof r.body.ticket === 'string' && r.body.ticket.length >= 32);
    const rows = (await t.ds.query(`SELECT ticket_hash, user_id, extract(epoch FROM expires_at - now()) AS ttl FROM ecoflow_stream_ticket`)) as {
      ticket_hash: string;
      user_id: string | number;
      ttl: string | number;
    }[];
    const hash = createHash('sha256').update(r.body.ticket).digest('hex');
    const row = rows.find((x) => x.ticket_hash === hash);
    assert.ok(row, 'the hash is stored');
    assert.ok(!rows.some((x) => x.ticket_hash === r.body.ticket), 'the ticket itself is not');
    assert.equal(Number(row.user_id), (await t.operator()).user.id);
    assert.ok(Number(row.ttl) > 55 && Number(row.ttl) <= 60, `expires in ${row.ttl} s`);
    const second = await t.request('POST', '/events/stream-ticket', { token: operator });
    assert.notEqual(second.body.ticket, r.body.ticket);
    assert.equal((await t.request('POST', '/events/stream-ticket/')).status, 401);
  });

  it('streams with a Bearer token: SSE headers, then alert.opened/resolved/reopened/deleted live, each as on GET /events/', async () => {
    const before = await openAlert(t, other); // committed before the connection: not sent
    const c = await connect(t, '', bearer(operator));
    assert.equal(c.status, 200);
    assert.equal(c.headers['content-type'], 'text/event-stream');
    assert.equal(c.headers['cache-control'], 'no-cache');
    assert.equal(c.headers['x-accel-buffering'], 'no');
    assert.equal(c.headers['content-encoding'], undefined);
    const start = await lastEventId(t);
    const id = await openAlert(t, site);
    await setStatus(t, id, 'CLOSED');
    await setStatus(t, id, 'OPEN');
    await deleteAlert(t, id);
    await c.waitForEvents(4);
    await sleep(200);
    assert.deepEqual(
      c.events.map((e) => e.event),
      ['alert.opened', 'alert.resolved', 'alert.reopened', 'alert.deleted'],
    );
    const logged = (await t.request('GET', `/events/?after=${start}`, { token: operator })).body as { id: number }[];
    assert.deepEqual(c.envelopes(), logged, 'the envelope is the one GET /events/ lists');
    assert.deepEqual(
      c.events.map((e) => e.id),
      logged.map((e) => String(e.id)),
    );
    assert.equal(c.envelopes()[0].data.alert.id, id);
    assert.ok(!c.envelopes().some((e) => e.data.alert.id === before));
    await c.close();
    await deleteAlert(t, before);
  });

  it('also answers on /events/stream/ (trailing slash) and sends a keep-alive comment every SSE_KEEPALIVE_INTERVAL', async () => {
    const c = await connect(t, '', bearer(operator), '/events/stream/');
    assert.equal(c.status, 200);
    await c.waitFor(() => c.comments.length >= 3, 5000, 'three keep-alives');
    assert.ok(c.comments.every((x) => x.text === 'keep-alive'));
    const gap = c.comments[2].at - c.comments[1].at;
    assert.ok(gap >= 100 && gap < 2000, `keep-alives ${gap} ms apart`);
    await c.close();
  });

  it('authenticates with a single-use ticket; used, expired, unknown tickets and inactive users get 401', async () => {
    const issue = async (token = operator): Promise<string> => (await t.request('POST', '/events/stream-ticket/', { token })).body.ticket as string;
    const ticket = await issue();
    const c = await connect(t, `ticket=${encodeURIComponent(ticket)}`);
    assert.equal(c.status, 200);
    const id = await openAlert(t, site);
    await c.waitForEvents(1);
    assert.equal(c.envelopes()[0].data.alert.id, id);
    await c.close();

    const again = await connect(t, `ticket=${encodeURIComponent(ticket)}`);
    assert.equal(again.status, 401, 'a ticket works once');
    assert.equal(again.json.detail, 'Invalid or expired stream ticket.');
    assert.equal(again.headers['www-authenticate'], 'Bearer realm="api"');

    const expired = await issue();
    await t.ds.query(`UPDATE ecoflow_stream_ticket SET expires_at = now() - interval '1 second' WHERE ticket_hash = $1`, [
      createHash('sha256').update(expired).digest('hex'),
    ]);
    assert.equal((await connect(t, `ticket=${encodeURIComponent(expired)}`)).status, 401, 'an expired ticket');
    assert.equal((await connect(t, 'ticket=nonsense')).status, 401, 'an unknown ticket');
    assert.equal((await connect(t, 'ticket=')).status, 401, 'an empty ticket');

    const inactive = await t.createUser({ isActive: true });
    const inactiveTicket = await issue(t.tokenFor(inactive));
    await t.ds.query(`UPDATE lims_user SET is_active = false WHERE id = $1`, [inactive.id]);
    const refused = await connect(t, `ticket=${encodeURIComponent(inactiveTicket)}`);
    assert.equal(refused.status, 401);
    assert.equal(refused.json.detail, 'User is inactive');
    // a new ticket purges the expired ones on the way
    await issue();
    await sleep(100);
    const [{ n }] = (await t.ds.query(`SELECT count(*)::int AS n FROM ecoflow_stream_ticket WHERE expires_at <= now()`)) as { n: number }[];
    assert.equal(Number(n), 0, 'expired tickets purged');
    await setStatus(t, id, 'CLOSED');
  });

  it('answers 401 and 400 as JSON like every other route', async () => {
    const none = await connect(t);
    assert.equal(none.status, 401);
    assert.deepEqual(none.json, { detail: 'Authentication credentials were not provided.' });
    assert.match(String(none.headers['content-type']), /^application\/json/);
    const forged = await connect(t, '', { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJ1c2VyX2lkIjoiMSJ9.' });
    assert.equal(forged.status, 401);
    assert.equal(forged.json.code, 'token_not_valid');
    const gone = await t.createUser();
    const token = t.tokenFor(gone);
    await t.ds.query(`UPDATE lims_user SET is_active = false WHERE id = $1`, [gone.id]);
    const inactive = await connect(t, '', bearer(token));
    assert.equal(inactive.status, 401);
    assert.equal(inactive.json.detail, 'User is inactive');
    // a Bearer header wins over a ticket: a bad header is not rescued by a ticket
    assert.equal((await connect(t, 'ticket=x', { authorization: 'Bearer garbage' })).status, 401);

    const badTypes = await connect(t, 'types=alert.opened,nope', bearer(operator));
    assert.equal(badTypes.status, 400);
    assert.deepEqual(badTypes.json, { types: ['"nope" is not a valid choice.'] });
    assert.equal((await connect(t, 'types=webhook.test', bearer(operator))).status, 400, 'webhook.test is not streamable');
    const badOrg = await connect(t, 'org_id=abc&after=-1', bearer(operator));
    assert.equal(badOrg.status, 400);
    assert.deepEqual(Object.keys(badOrg.json).sort(), ['after', 'org_id']);
    const badHeader = await connect(t, '', { ...bearer(operator), 'last-event-id': 'x' });
    assert.equal(badHeader.status, 400);
    assert.ok(badHeader.json['Last-Event-ID']);
    // an unauthenticated caller learns nothing about its query
    assert.equal((await connect(t, 'types=nope')).status, 401);
    assert.equal((await connect(t, 'types=nope&ticket=nonsense')).status, 401);
  });

  it('filters by ?types= and ?org_id=', async () => {
    const byType = await connect(t, 'types=alert.resolved,alert.deleted', bearer(operator));
    const byOrg = await connect(t, `org_id=${other.zone.organizationId}`, bearer(operator));
    const all = await connect(t, '', bearer(operator));
    const a = await openAlert(t, site);
    const b = await openAlert(t, other);
    await setStatus(t, a, 'CLOSED');
    await deleteAlert(t, b);
    await all.waitForEvents(4);
    await byType.waitForEvents(2);
    await byOrg.waitForEvents(2);
    await sleep(300);
    assert.deepEqual(
      byType.events.map((e) => e.event),
      ['alert.resolved', 'alert.deleted'],
    );
    assert.deepEqual(
      byOrg.envelopes().map((e) => [e.type, e.organization_id, e.data.alert.id]),
      [
        ['alert.opened', other.zone.organizationId, b],
        ['alert.deleted', other.zone.organizationId, b],
      ],
    );
    assert.equal(all.events.length, 4);
    await Promise.all([byType.close(), byOrg.close(), all.close()]);
  });

  it('Last-Event-ID replays exactly the missed events in order, then continues live; ?after= does the same', async () => {
    const first = await connect(t, '', bearer(operator));
    const a = await openAlert(t, site);
    await setStatus(t, a, 'CLOSED');
    await first.waitForEvents(2);
    const last = first.lastEventId!;
    await first.close();

    // missed while disconnected
    await setStatus(t, a, 'OPEN');
    await setStatus(t, a, 'CLOSED');
    await setStatus(t, a, 'OPEN');
    const missed = ((await t.request('GET', `/events/?after=${last}`, { token: operator })).body as { id: number }[]).map((e) => e.id);
    assert.equal(missed.length, 3);

    const resumed = await connect(t, 'after=1', { ...bearer(operator), 'last-event-id': last });
    await resumed.waitForEvents(3);
    assert.deepEqual(resumed.ids(), missed, 'exactly the missed ones, in order (Last-Event-ID wins over ?after=)');
    await setStatus(t, a, 'CLOSED');
    await resumed.waitForEvents(4);
    await sleep(200);
    const ids = resumed.ids();
    assert.equal(ids.length, 4, 'then the live one, nothing twice');
    assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]), 'increasing');
    assert.ok(ids[0] > Number(last));
    await resumed.close();

    const viaQuery = await connect(t, `after=${last}`, bearer(operator));
    await viaQuery.waitForEvents(4);
    assert.deepEqual(viaQuery.ids(), ids);
    await viaQuery.close();
  });

  it('replay races live events: events committed during the replay arrive once, in order', async () => {
    const start = await lastEventId(t);
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) {
      const id = await openAlert(t, site);
      await setStatus(t, id, 'CLOSED');
      ids.push(id);
    }
    const clients: SseClient[] = [];
    // clients connect (and replay) while more events commit
    const writer = (async () => {
      for (let i = 0; i < 5; i++) {
        const id = await openAlert(t, site);
        await setStatus(t, id, 'CLOSED');
      }
    })();
    for (let i = 0; i < 5; i++) {
      clients.push(await connect(t, `after=${start}`, bearer(operator)));
      await sleep(10);
    }
    await writer;
    const expected = ((await t.request('GET', `/events/?after=${start}&limit=500`, { token: operator })).body as { id: number }[]).map((e) => e.id);
    assert.equal(expected.length, 22);
    for (const c of clients) {
      await c.waitForEvents(expected.length);
    }
    await sleep(300);
    for (const c of clients) {
      assert.deepEqual(c.ids(), expected);
    }
    await Promise.all(clients.map((c) => c.close()));
  });

  it('never streams webhook.test events, live or replayed', async () => {
    const start = await lastEventId(t);
    const c = await connect(t, '', bearer(operator));
    const events = t.app.get(EventsRepository);
    await t.app.get(UnitOfWork).run((tx) => events.append('webhook.test', null, { webhook_id: 1 }, tx));
    const a = await openAlert(t, site);
    await c.waitForEvents(1);
    await sleep(300);
    assert.deepEqual(
      c.events.map((e) => e.event),
      ['alert.opened'],
    );
    const replay = await connect(t, `after=${start}`, bearer(operator));
    await replay.waitForEvents(1);
    await sleep(200);
    assert.deepEqual(
      replay.events.map((e) => e.event),
      ['alert.opened'],
    );
    await Promise.all([c.close(), replay.close()]);
    await setStatus(t, a, 'CLOSED');
  });

  it('sends transient zone.occupancy events (no id) only to streams that asked for them', async () => {
    const asked = await connect(t, `types=zone.occupancy&org_id=${site.zone.organizationId}`, bearer(operator));
    const all = await connect(t, '', bearer(operator));
    const hub = t.app.get(StreamHub);
    hub.publishTransient('zone.occupancy', other.zone.organizationId, { zone_id: other.zone.id, people: 1 });
    hub.publishTransient('zone.occupancy', site.zone.organizationId, { zone_id: site.zone.id, people: 3 });
    await asked.waitForEvents(1);
    await sleep(200);
    assert.equal(asked.events.length, 1);
    assert.equal(asked.events[0].id, undefined);
    assert.equal(asked.events[0].event, 'zone.occupancy');
    const env = asked.envelopes()[0];
    assert.equal(env.organization_id, site.zone.organizationId);
    assert.deepEqual(env.data, { zone_id: site.zone.id, people: 3 });
    assert.equal(all.events.length, 0);
    await Promise.all([asked.close(), all.close()]);
  });

  it('disconnects a client that does not read once more than 1 MiB is queued for it', async () => {
    const slow = await connect(t, 'types=zone.occupancy', bearer(operator));
    const fast = await connect(t, 'types=zone.occupancy', bearer(operator));
    slow.pause();
    const hub = t.app.get(StreamHub);
    const blob = 'x'.repeat(64 * 1024);
    let sent = 0;
    while (hub.stats().clients === 2 && sent < 64 * 1024 * 1024) {
      hub.publishTransient('zone.occupancy', null, { blob });
      sent += blob.length;
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(hub.stats().clients, 1, `the slow client was cut off after ${sent} bytes`);
    assert.ok(sent > MAX_QUEUED_BYTES, `${sent} bytes published before the cut`);
    // a paused socket only sees the close once it reads what was already on its way
    slow.resume();
    await slow.waitFor(() => slow.isEnded, 5000, 'the slow client closed');
    assert.ok(slow.events.length * blob.length < sent, 'the slow client did not get everything');
    assert.equal(hub.stats().clients, 1, 'the reading client stays');
    await fast.waitFor(() => fast.events.length * blob.length >= sent * 0.9, 10000, 'the reading client gets everything');
    await fast.close();
  });

  it('is documented in /openapi.json as text/event-stream, with the ticket route', async () => {
    const doc = (await t.request('GET', '/openapi.json')).body;
    const stream = doc.paths['/events/stream'].get;
    assert.ok(stream.responses['200'].content['text/event-stream'], 'produces text/event-stream');
    assert.ok(stream.responses['401'] && stream.responses['400']);
    assert.deepEqual(
      stream.parameters.map((p: { name: string }) => p.name).sort(),
      ['Last-Event-ID', 'after', 'org_id', 'ticket', 'types'],
    );
    const ticket = doc.paths['/events/stream-ticket'].post;
    assert.ok(ticket.responses['200'].content['application/json']);
  });

  it('leaves no client, timer or gauge behind after many connect/disconnect cycles', async () => {
    for (let i = 0; i < 40; i++) {
      const c = await connect(t, i % 2 ? `after=${Math.max(0, (await lastEventId(t)) - 3)}` : '', bearer(operator));
      if (i % 3 === 0) {
        await c.waitFor(() => c.comments.length > 0, 3000, 'a keep-alive');
      }
      await c.close();
    }
    // and clients that vanish while others stay
    const stay = await connect(t, '', bearer(operator));
    const burst = await Promise.all(Array.from({ length: 20 }, () => connect(t, '', bearer(operator))));
    assert.equal(t.app.get(StreamHub).stats().clients, 21);
    assert.equal(t.app.get(StreamHub).stats().timers, 21 * 2 + 1);
    assert.equal(await sseGauge(t), 21);
    await Promise.all(burst.map((c) => c.close()));
    await stay.close();
    await noLeaks(t);
  });
});

describe('event stream limits: request timeout, SSE_MAX_DURATION, shutdown', () => {
  let t: TestApp;
  let site: Site;
  let operator: string;
  let shutDown = false;

  before(async () => {
    t = await startTestApp({ env: { SSE_KEEPALIVE_INTERVAL: '200ms', SSE_MAX_DURATION: '2500ms', REQUEST_BODY_TIMEOUT_MS: '1000' } });
    site = await createSite(t);
    operator = (await t.operator()).token;
  });
  after(async () => {
    if (shutDown) {
      await t.db.drop();
    } else {
      await t.close();
    }
  });

  it('outlives REQUEST_BODY_TIMEOUT_MS on keep-alives, delivers late events, and ends after SSE_MAX_DURATION with retry: 1000', async () => {
    const c = await connect(t, '', bearer(operator));
    const opened = Date.now();
    await sleep(1600); // past the request timeout (1000 ms) and Node's 1 s check of it
    const id = await openAlert(t, site);
    await c.waitForEvents(1);
    assert.equal(c.envelopes()[0].data.alert.id, id);
    await c.ended;
    const lived = c.endedAt - opened;
    assert.ok(lived >= 2400 && lived < 6000, `the stream lived ${lived} ms`);
    assert.deepEqual(
      c.retries.map((r) => r.ms),
      [1000],
    );
    assert.ok(c.comments.length >= 8, `${c.comments.length} keep-alives`);
    await noLeaks(t);
    await setStatus(t, id, 'CLOSED');
  });

  it('at SIGTERM open streams end at once with retry: 1000 instead of holding the drain', async () => {
    const streams = await Promise.all([connect(t, '', bearer(operator)), connect(t, 'types=alert.opened', bearer(operator))]);
    await sleep(100);
    const exits: { code: number; at: number }[] = [];
    const onSignal = createShutdownHandler(t.app, t.app.get<AppLogger>(LOGGER), { drainMs: 5000, closeMs: 3000, exit: (code) => exits.push({ code, at: Date.now() }) });
    const signalAt = Date.now();
    onSignal('SIGTERM');
    shutDown = true;
    await Promise.all(streams.map((s) => s.ended));
    for (const s of streams) {
      assert.deepEqual(
        s.retries.map((r) => r.ms),
        [1000],
      );
      assert.ok(s.endedAt - signalAt < 1000, `ended ${s.endedAt - signalAt} ms after the signal`);
    }
    for (let i = 0; i < 300 && exits.length === 0; i++) {
      await sleep(10);
    }
    assert.deepEqual(
      exits.map((e) => e.code),
      [0],
    );
    assert.ok(exits[0].at - signalAt < 2500, `shutdown took ${exits[0].at - signalAt} ms, not the 5 s drain`);
  });
});
