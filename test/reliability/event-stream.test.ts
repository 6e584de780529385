import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StreamHub } from '../../src/events/stream/stream-hub';
import { REAL_POSTGRES, REAL_REDIS_URL } from '../support/database';
import { shareRedisPrefix } from '../support/env';
import { createSite, type Site } from '../support/sensor';
import { SseClient } from '../support/sse-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { Recorder } from './support';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const CLIENTS = 200;
const ZONES = 60; // each zone: one alert opened, then closed → 2 events
const EVENTS = ZONES * 2;
/** ALERTING.md §4 targets 1 s; asserted loosely here (a shared CI machine), the figures are printed */
const P99_BOUND_MS = 5000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

describe('event stream: every client gets every event exactly once, in order, across instances', () => {
  const rec = new Recorder('event-stream');
  const TWO = REAL_POSTGRES;
  const where = TWO ? `two instances, one database${REAL_REDIS_URL ? ' and Redis' : ''}` : 'one instance (embedded database)';
  let one: TestApp;
  let two: TestApp;
  let restoreEnv = (): void => undefined;
  const on = (i: number): TestApp => (i % 2 === 0 ? one : two);

  before(async () => {
    restoreEnv = shareRedisPrefix('event-stream');
    const env = { DB_POOL_MAX: '10' };
    one = await startTestApp({ env });
    two = TWO ? await startTestApp({ env, db: one.db }) : one;
    for (const t of new Set([one, two])) {
      rec.instrument(t);
    }
  });

  after(async () => {
    rec.write();
    if (two !== one) {
      await two.close();
    }
    await one.close();
    restoreEnv();
  });

  it(`${CLIENTS} clients split across ${where}; ${EVENTS} events created concurrently on both`, async () => {
    const category = `stream fan-out (${where})`;
    const admin = (await one.admin()).token;
    const operator = (await one.operator()).token;
    const sites: Site[] = [];
    for (let i = 0; i < ZONES; i++) {
      sites.push(await createSite(one));
    }

    // connect in batches, half on each instance
    const clients: SseClient[] = [];
    for (let b = 0; b < CLIENTS; b += 25) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(25, CLIENTS - b) }, (_, k) =>
          SseClient.connect(`${on(b + k).baseUrl}/events/stream/`, { headers: { authorization: `Bearer ${operator}` } }),
        ),
      );
      clients.push(...batch);
    }
    assert.ok(clients.every((c) => c.status === 200));
    const hubs = [...new Set([one, two])].map((t) => t.app.get(StreamHub));
    assert.equal(
      hubs.reduce((n, h) => n + h.stats().clients, 0),
      CLIENTS,
    );
    const before = ((await one.request('GET', `/events/?after=0&limit=500`, { token: operator })).body as { id: number }[]).map((e) => e.id);
    const startId = before.length ? before[before.length - 1] : 0;

    // the events: every zone's alert opened, on alternating instances, all at once; then all closed
    const respondedAt = new Map<string, number>();
    const opened = await Promise.all(
      sites.map(async (s, i) => {
        const r = await on(i).request('POST', '/alerts/', { token: admin, body: { heading: `load ${i}`, zone_id: s.zone.id, status: 'OPEN' } });
        rec.record(category, r.status, r.status === 201);
        assert.equal(r.status, 201, r.text);
        respondedAt.set(`alert.opened:${r.body.id}`, Date.now());
        return r.body.id as number;
      }),
    );
    await Promise.all(
      opened.map(async (id, i) => {
        const r = await on(i + 1).request('PATCH', `/alerts/${id}/`, { token: admin, body: { status: 'CLOSED' } });
        rec.record(category, r.status, r.status === 200);
        assert.equal(r.status, 200, r.text);
        respondedAt.set(`alert.resolved:${id}`, Date.now());
      }),
    );

    const expected = ((await one.request('GET', `/events/?after=${startId}&limit=500`, { token: operator })).body as { id: number }[]).map((e) => e.id);
    assert.equal(expected.length, EVENTS);
    const deadline = Date.now() + 60000;
    for (const c of clients) {
      await c.waitFor(() => c.events.length >= EVENTS, Math.max(1, deadline - Date.now()), `${EVENTS} events`);
    }
    await sleep(500); // anything extra (a duplicate) would arrive now

    let exact = 0;
    const firstAt = new Map<number, { created: number; first: number; last: number }>();
    const fromCreated: number[] = [];
    const fromResponse: number[] = [];
    for (const c of clients) {
      const ids = c.ids();
      if (ids.length === expected.length && ids.every((id, i) => id === expected[i])) {
        exact += 1;
      }
      for (const e of c.envelopes().map((env, i) => ({ env, at: c.events[i].at }))) {
        fromCreated.push(e.at - Date.parse(e.env.created_at));
        const f = firstAt.get(e.env.id) ?? { created: Date.parse(e.env.created_at), first: Infinity, last: 0 };
        f.first = Math.min(f.first, e.at);
        f.last = Math.max(f.last, e.at);
        firstAt.set(e.env.id, f);
        const responded = respondedAt.get(`${e.env.type}:${e.env.data.alert.id}`);
        if (responded !== undefined) {
          fromResponse.push(Math.max(0, e.at - responded));
        }
      }
    }
    rec.invariant(category, `each of ${CLIENTS} clients received each of ${EVENTS} events exactly once, in increasing id order`, exact === CLIENTS);
    assert.equal(exact, CLIENTS, `${CLIENTS - exact} clients missed, repeated or reordered events`);

    fromCreated.sort((a, b) => a - b);
    const toFirst = [...firstAt.values()].map((f) => f.first - f.created).sort((a, b) => a - b);
    const spread = [...firstAt.values()].map((f) => f.last - f.first).sort((a, b) => a - b);
    fromResponse.sort((a, b) => a - b);
    const figures = {
      clients: CLIENTS,
      events: EVENTS,
      deliveries: fromCreated.length,
      created_at_to_client_ms: { p50: percentile(fromCreated, 50), p99: percentile(fromCreated, 99), max: fromCreated[fromCreated.length - 1] },
      created_at_to_first_client_ms: { p50: percentile(toFirst, 50), p99: percentile(toFirst, 99) },
      first_to_last_client_ms: { p50: percentile(spread, 50), p99: percentile(spread, 99) },
      response_to_client_ms: { p50: percentile(fromResponse, 50), p99: percentile(fromResponse, 99), max: fromResponse[fromResponse.length - 1] },
    };
    console.log(`# event-stream latency (${where}): ${JSON.stringify(figures)}`);
    rec.timing(category, figures.created_at_to_client_ms.p99);
    rec.invariant(
      category,
      `commit → client latency p50 ${figures.created_at_to_client_ms.p50} ms, p99 ${figures.created_at_to_client_ms.p99} ms (spec target 1000 ms; asserted ≤ ${P99_BOUND_MS} ms)`,
      figures.created_at_to_client_ms.p99 <= P99_BOUND_MS,
    );
    assert.ok(figures.created_at_to_client_ms.p99 <= P99_BOUND_MS, `p99 ${figures.created_at_to_client_ms.p99} ms`);

    await Promise.all(clients.map((c) => c.close()));
    for (let i = 0; i < 100 && hubs.some((h) => h.stats().clients > 0); i++) {
      await sleep(20);
    }
    for (const h of hubs) {
      assert.deepEqual(
        { clients: h.stats().clients, timers: h.stats().timers, running: h.stats().running },
        { clients: 0, timers: 0, running: false },
      );
    }
  });
});
