import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Alert } from '../../src/alerts/alert.entity';
import { CarbonLog } from '../../src/carbon/carbon-log.entity';
import { CrowdBehaviour, CrowdServer, startCrowdServer, unusedPortUrl } from '../doubles/crowd-server';
import { GeminiBehaviour, GeminiServer, startGeminiServer } from '../doubles/gemini-server';
import { jpeg } from '../support/images';
import { createSite, detect, Site } from '../support/sensor';
import { startTestApp, TestApp } from '../support/test-app';
import { Recorder } from './support';

/*
 * Upstream faults under concurrency. The crowd-API and Gemini doubles are real HTTP servers; the
 * app's own axios client and @google/genai SDK talk to them. Every storm sends N uploads at once
 * and checks, per request: the exact status and body of API.md §5, the time budget, and that a
 * failed detection wrote neither an alert nor a carbon log. The last test checks that sockets and
 * heap are back at the baseline measured after a healthy warm-up round.
 */

const N = 10; // concurrent uploads per storm
const CROWD_TIMEOUT_MS = 1000;
const GEMINI_TIMEOUT_MS = 800;
const GEMINI_MAX_ATTEMPTS = 3;
/** Slack for the request around the upstream call (multipart parsing, database, 10 requests at once). */
const MARGIN_MS = 750;
/** The crowd step has one attempt bounded by CROWD_TIMEOUT_MS (spec §5). */
const CROWD_BUDGET_MS = CROWD_TIMEOUT_MS + MARGIN_MS;
/** The Gemini step, backoff and hints included, is capped by GEMINI_TIMEOUT_MS × GEMINI_MAX_ATTEMPTS (spec §5 step 4). */
const GEMINI_STEP_MS = GEMINI_TIMEOUT_MS * GEMINI_MAX_ATTEMPTS;
const GEMINI_BUDGET_MS = GEMINI_STEP_MS + MARGIN_MS;
/** "Fails fast": an open breaker must answer in well under the timeout. */
const FAST_MS = CROWD_TIMEOUT_MS / 4;
const BREAKER_FAILURES = 3;
const HALF_OPEN_MS = 600;
/** Process-wide TCP sockets may exceed the baseline by this much (pooled database/Redis connections). */
const SOCKET_TOLERANCE = 3;
const HEAP_TOLERANCE_MB = 15;

const TIMEOUT = { error: 'Crowd API timeout. Please try again.' };
const DOWN = { error: 'Cannot connect to Crowd API. Service may be down.' };
const FAILED = { error: 'Crowd Service failed' };
const INVALID = { error: 'Crowd Service returned an invalid response' };
const MARKER = 'UPSTREAM-BODY-MARKER'; // the leak scan flags it if an upstream body is echoed

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const slowest = (shots: { ms: number }[]): number => Math.round(Math.max(...shots.map((s) => s.ms)));

interface Shot {
  status: number;
  body: unknown;
  text: string;
  ms: number;
  filename: string;
}

interface Expected {
  status: number;
  body: unknown;
  /** the request must not end before this (e.g. a 504 really waited for the timeout) */
  minMs?: number;
  /** a tighter bound than the category budget (e.g. fail fast) */
  maxMs?: number;
}

/** The NORMAL success variant for 3 people in a capacity-10 zone, Gemini counting 5. */
function success(zone: string, filename = 'capture.jpg'): object {
  return {
    zone,
    capacity: 10,
    detected_people: 3,
    occupancy_percentage: '30.0%',
    status: 'NORMAL',
    carbon_data: { filename, sahi_count: 3, gemini_count: 5, calculation_result: 0.6, formula: '3 / 5 rounded', message: 'Prediction successful via Gemini API' },
    alert_created: false,
  };
}

/** The NORMAL failure variant: the detection stands, the carbon part failed (spec §5 step 8). */
function geminiFailed(zone: string): object {
  return { zone, capacity: 10, detected_people: 3, occupancy_percentage: '30.0%', status: 'NORMAL', carbon_error: 'Error calling Gemini API' };
}

const gc = ((): (() => void) => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i += 1) {
    gc();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
}

const tcpSockets = (): number => process.getActiveResourcesInfo().filter((x) => x === 'TCPSocketWrap').length;

describe('upstream faults: every request ends within its budget with the mapped answer; sockets and heap return to baseline', () => {
  const rec = new Recorder('upstream-faults');
  let t: TestApp;
  let crowd: CrowdServer;
  let gemini: GeminiServer;
  let img: Buffer;
  const baseline = { sockets: 0, heap: 0 };
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    rejections.push(reason);
  };

  before(async () => {
    process.on('unhandledRejection', onRejection);
    [crowd, gemini] = await Promise.all([startCrowdServer(), startGeminiServer()]);
    crowd.setDefault({ count: 3 });
    gemini.setDefault({ text: '5' });
    t = await startTestApp({
      env: {
        CROWD_PREDICT_URL: crowd.predictUrl,
        CROWD_TIMEOUT_MS: String(CROWD_TIMEOUT_MS),
        CROWD_BREAKER_FAILURES: '1000', // these storms must reach the detector; the breaker has its own test
        GEMINI_API_KEY: 'test-gemini-key',
        GEMINI_BASE_URL: gemini.url,
        GEMINI_TIMEOUT_MS: String(GEMINI_TIMEOUT_MS),
        GEMINI_MAX_ATTEMPTS: String(GEMINI_MAX_ATTEMPTS),
        GEMINI_BREAKER_FAILURES: '1000',
        SENSOR_THROTTLE_MS: '0', // one zone takes a whole storm; the per-zone throttle would answer 429
        LOG_LEVEL: 'warn',
      },
    });
    rec.instrument(t);
    img = await jpeg(64, 48);

    // warm-up: a healthy round through both upstreams, so pools, lazy modules and metrics exist
    const cat = 'healthy upstreams (warm-up, baseline)';
    const site = await newSite('Warm-up hall');
    judge(cat, await storm(t, site, N), () => ({ status: 200, body: success('Warm-up hall') }), GEMINI_BUDGET_MS);
    const settled = await settle();
    baseline.sockets = settled.sockets;
    baseline.heap = await heapAfterGc();
    const clean = settled.doubles === 0 && settled.app === 0;
    rec.invariant(
      cat,
      `baseline after ${N} healthy uploads and closing idle keep-alive connections: ${settled.doubles} connections to the doubles, ${settled.app} to the app, ${baseline.sockets} TCP sockets in the process (database pool and Redis when real), heap ${mb(baseline.heap)} MB after GC`,
      clean,
    );
    assert.ok(clean, `connections left after the warm-up: ${JSON.stringify(settled)}`);
  });

  after(async () => {
    process.off('unhandledRejection', onRejection);
    rec.unhandledRejections = rejections.length;
    rec.write();
    await t.close();
    await Promise.all([crowd.close(), gemini.close()]);
    assert.deepEqual(rejections, [], 'no unhandled rejection');
    assert.deepEqual(rec.leaks, [], 'no response leaked internals, upstream bodies or secrets');
  });

  async function newSite(zoneName: string, app: TestApp = t): Promise<Site> {
    const site = await createSite(app, { capacity: 10, zoneName });
    rec.secrets.push(site.key);
    return site;
  }

  /** n uploads at once, each timed from the client's side. */
  function storm(app: TestApp, site: Site, n: number, name: (i: number) => string = () => 'capture.jpg'): Promise<Shot[]> {
    return Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const filename = name(i);
        const start = performance.now();
        const r = await detect(app, { key: site.key, zoneId: site.zone.id, file: img, filename });
        return { status: r.status, body: r.body, text: r.text, ms: performance.now() - start, filename };
      }),
    );
  }

  /** Records every answer of a storm and asserts status, body and timing of each. */
  function judge(cat: string, shots: Shot[], want: (s: Shot) => Expected, budgetMs: number): void {
    const problems: string[] = [];
    for (const s of shots) {
      const w = want(s);
      const upper = Math.min(budgetMs, w.maxMs ?? Infinity);
      const ok = s.status === w.status && isDeepStrictEqual(s.body, w.body) && s.ms <= upper && s.ms >= (w.minMs ?? 0);
      rec.timing(cat, s.ms);
      rec.record(cat, s.status, ok);
      if (!ok) {
        problems.push(`${s.filename}: ${s.status} ${s.text} after ${Math.round(s.ms)} ms; want ${w.status} ${JSON.stringify(w.body)} within ${w.minMs ?? 0}–${upper} ms`);
      }
    }
    assert.deepEqual(problems, [], cat);
  }

  async function rows(app: TestApp = t): Promise<{ alerts: number; logs: number }> {
    return { alerts: await app.ds.getRepository(Alert).count(), logs: await app.ds.getRepository(CarbonLog).count() };
  }

  /** Asserts (and records) how many alert and carbon-log rows a storm added. */
  async function rowsAdded(cat: string, prior: { alerts: number; logs: number }, want: { alerts: number; logs: number }, what: string, app: TestApp = t): Promise<void> {
    const now = await rows(app);
    const added = { alerts: now.alerts - prior.alerts, logs: now.logs - prior.logs };
    const ok = isDeepStrictEqual(added, want);
    rec.invariant(cat, `${what}: ${added.alerts} alert and ${added.logs} carbon-log rows written (expected ${want.alerts} and ${want.logs})`, ok);
    assert.deepEqual(added, want, `${cat}: ${what}`);
  }

  /** Asserts (and records) how many calls an upstream double received during a storm. */
  function calls(cat: string, got: number, min: number, max: number, what: string): void {
    const ok = got >= min && got <= max;
    rec.invariant(cat, `${what}: ${got} calls (expected ${min === max ? min : `${min}–${max}`})`, ok);
    assert.ok(ok, `${cat}: ${what}: ${got} calls, expected ${min}–${max}`);
  }

  /**
   * Closes idle keep-alive connections on the app and both doubles, then waits (≤ 8 s) until no
   * connection to a double is left and the process-wide socket count is at most `limit`.
   */
  async function settle(limit = Infinity): Promise<{ doubles: number; app: number; sockets: number; ms: number }> {
    const server = t.app.getHttpServer() as Server;
    const start = performance.now();
    let state = { doubles: 0, app: 0, sockets: 0, ms: 0 };
    let previous = -1;
    for (;;) {
      server.closeIdleConnections();
      crowd.closeIdleConnections();
      gemini.closeIdleConnections();
      await sleep(100);
      const app = await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)));
      state = { doubles: crowd.openConnections() + gemini.openConnections(), app, sockets: tcpSockets(), ms: Math.round(performance.now() - start) };
      const stable = state.sockets === previous;
      previous = state.sockets;
      if ((state.doubles === 0 && state.app === 0 && state.sockets <= limit && stable) || state.ms > 8000) {
        return state;
      }
    }
  }

  // ------------------------------------------------------------------ crowd API

  /**
   * One crowd-API fault for a whole storm: every upload meets `behaviour`, gets `want`, the
   * detector is called once per upload, and the rows written are exactly `written`.
   */
  async function crowdStorm(o: {
    cat: string;
    fault: string;
    behaviour: CrowdBehaviour;
    want: Expected;
    written?: { alerts: number; logs: number };
    what: string;
    /** runs before the default behaviour is restored (e.g. wait for late answers) */
    afterStorm?: () => Promise<void>;
  }): Promise<void> {
    rec.faultCategory(o.cat, [o.fault], CROWD_BUDGET_MS);
    const site = await newSite(`${o.cat} hall`);
    crowd.setDefault(o.behaviour);
    const prior = await rows();
    const seen = crowd.received.length;
    try {
      const want = o.want.status === 200 ? { ...o.want, body: success(site.zone.name) } : o.want;
      judge(o.cat, await storm(t, site, N), () => want, CROWD_BUDGET_MS);
      await o.afterStorm?.();
    } finally {
      crowd.setDefault({ count: 3 });
    }
    calls(o.cat, crowd.received.length - seen, N, N, o.want.status === 200 ? 'detector' : 'detector (one attempt per upload, no retry)');
    await rowsAdded(o.cat, prior, o.written ?? { alerts: 0, logs: 0 }, o.what);
  }

  it('crowd API slower than usual but within CROWD_TIMEOUT_MS: every upload succeeds', async () => {
    // positive control for the row checks: successes do write, one carbon log each
    await crowdStorm({
      cat: 'crowd API: slow, under the timeout',
      fault: `200 after ${CROWD_TIMEOUT_MS / 2} ms (timeout ${CROWD_TIMEOUT_MS} ms)`,
      behaviour: { count: 3, delayMs: CROWD_TIMEOUT_MS / 2 },
      want: { status: 200, body: null, minMs: CROWD_TIMEOUT_MS / 2 },
      written: { alerts: 0, logs: N },
      what: `${N} successful NORMAL detections`,
    });
  });

  it('crowd API answering after the timeout: 504 at CROWD_TIMEOUT_MS, and the late answers write nothing', async () => {
    const late = CROWD_TIMEOUT_MS + 500;
    await crowdStorm({
      cat: 'crowd API: slow, past the timeout',
      fault: `200 after ${late} ms (timeout ${CROWD_TIMEOUT_MS} ms)`,
      behaviour: { count: 3, delayMs: late },
      want: { status: 504, body: TIMEOUT, minMs: CROWD_TIMEOUT_MS },
      what: `${N} timed-out detections, checked after the late answers`,
      afterStorm: () => sleep(late - CROWD_TIMEOUT_MS + 300), // the late answers have arrived (on closed sockets)
    });
  });

  it('crowd API that accepts the upload and never answers: 504 at CROWD_TIMEOUT_MS', async () => {
    await crowdStorm({
      cat: 'crowd API: hang',
      fault: 'request read, no response ever',
      behaviour: { hang: true },
      want: { status: 504, body: TIMEOUT, minMs: CROWD_TIMEOUT_MS },
      what: `${N} hung detections`,
    });
  });

  it('crowd API that sends headers at once and drips the body: the timeout covers the read phase', async () => {
    const drip = { chunks: 25, intervalMs: 100 }; // a valid body after 2.5 s
    await crowdStorm({
      cat: 'crowd API: slow-drip body',
      fault: `200 headers at once, then 1 byte every ${drip.intervalMs} ms for ${(drip.chunks * drip.intervalMs) / 1000} s`,
      behaviour: { drip },
      want: { status: 504, body: TIMEOUT, minMs: CROWD_TIMEOUT_MS },
      what: `${N} dripped detections`,
    });
  });

  it('crowd API down (connection refused): 503 at once, without waiting for the timeout', async () => {
    const cat = 'crowd API: connection refused';
    rec.faultCategory(cat, ['CROWD_PREDICT_URL on a closed port: every connect refused'], CROWD_BUDGET_MS);
    // an instance of its own: the main one must keep reaching the detector double
    const t3 = await startTestApp({
      env: {
        CROWD_PREDICT_URL: await unusedPortUrl(),
        CROWD_TIMEOUT_MS: String(CROWD_TIMEOUT_MS),
        CROWD_BREAKER_FAILURES: '1000',
        GEMINI_API_KEY: 'test-gemini-key',
        GEMINI_BASE_URL: gemini.url,
        SENSOR_THROTTLE_MS: '0',
        LOG_LEVEL: 'warn',
      },
    });
    try {
      rec.instrument(t3);
      const site = await newSite('Refused hall', t3);
      const prior = await rows(t3);
      const seen = gemini.received.length;
      // refused needs no timeout: each answer comes before CROWD_TIMEOUT_MS could have fired
      judge(cat, await storm(t3, site, N), () => ({ status: 503, body: DOWN, maxMs: CROWD_TIMEOUT_MS }), CROWD_BUDGET_MS);
      calls(cat, gemini.received.length - seen, 0, 0, 'Gemini (never reached without a head count)');
      await rowsAdded(cat, prior, { alerts: 0, logs: 0 }, `${N} refused detections`, t3);
    } finally {
      await t3.close();
    }
  });

  it('crowd API resetting the connection before or in the middle of its answer: 503', async () => {
    for (const [cat, fault, behaviour] of [
      ['crowd API: reset before the response', 'socket destroyed after the request was read', { reset: true }],
      ['crowd API: reset mid-body', '200 headers and part of the JSON (Content-Length 200), then the socket destroyed', { resetMidBody: true }],
    ] as [string, string, CrowdBehaviour][]) {
      await crowdStorm({ cat, fault, behaviour, want: { status: 503, body: DOWN, maxMs: CROWD_TIMEOUT_MS }, what: `${N} reset detections` });
    }
  });

  it('crowd API answering garbage, 5xx or a 200 without a usable sahi_count: 502 with the right message', async () => {
    const storms: [string, string[], CrowdBehaviour[], object][] = [
      ['crowd API: garbage body', ['200 text/html "<html>definitely not json</html>"'], Array.from({ length: N }, () => ({ garbage: true as const })), INVALID],
      [
        'crowd API: 5xx',
        ['500 JSON error', '502 HTML', '503 empty', '504 text'],
        Array.from({ length: N }, (_, i) => [
          { status: 500, body: { error: `${MARKER} Traceback (most recent call last)` } },
          { status: 502, body: `<html>${MARKER} bad gateway</html>` },
          { status: 503 },
          { status: 504, body: `${MARKER} upstream request timeout` },
        ][i % 4]),
        FAILED,
      ],
      [
        'crowd API: 200 with a missing or bad sahi_count',
        ['no sahi_count', 'negative', 'non-numeric string', 'null', '"1e3"', 'boolean', 'object', 'array body', 'string body', '"-3"'],
        [
          { json: { filename: 'x.jpg', message: `${MARKER} ok` } },
          { count: -1 },
          { count: 'many' },
          { json: { sahi_count: null } },
          { json: { sahi_count: '1e3' } },
          { json: { sahi_count: true } },
          { json: { sahi_count: { n: 3 } } },
          { json: [3] },
          { json: 'sahi_count: 3' },
          { json: { sahi_count: '-3' } },
        ],
        INVALID,
      ],
    ];
    for (const [cat, faults, behaviours, body] of storms) {
      assert.equal(behaviours.length, N);
      rec.faultCategory(cat, faults, CROWD_BUDGET_MS);
      const site = await newSite(`${cat} hall`);
      crowd.enqueue(...behaviours); // exactly one per upload, in arrival order
      const prior = await rows();
      const seen = crowd.received.length;
      judge(cat, await storm(t, site, N), () => ({ status: 502, body, maxMs: CROWD_TIMEOUT_MS }), CROWD_BUDGET_MS);
      calls(cat, crowd.received.length - seen, N, N, 'detector (one attempt per upload, no retry)');
      await rowsAdded(cat, prior, { alerts: 0, logs: 0 }, `${N} failed detections`);
    }
  });

  it('a mixed storm: healthy uploads are not held up by hung ones, and each gets its own mapped answer', async () => {
    const cat = 'crowd API: mixed storm';
    const kinds: Record<string, { b: CrowdBehaviour; want: Expected; fault: string }> = {
      ok: { b: { count: 3 }, want: { status: 200, body: null, maxMs: CROWD_TIMEOUT_MS }, fault: 'healthy' },
      hang: { b: { hang: true }, want: { status: 504, body: TIMEOUT, minMs: CROWD_TIMEOUT_MS }, fault: 'hang' },
      drip: { b: { drip: { chunks: 25, intervalMs: 100 } }, want: { status: 504, body: TIMEOUT, minMs: CROWD_TIMEOUT_MS }, fault: 'slow-drip body' },
      late: { b: { count: 3, delayMs: CROWD_TIMEOUT_MS + 500 }, want: { status: 504, body: TIMEOUT, minMs: CROWD_TIMEOUT_MS }, fault: 'answer after the timeout' },
      reset: { b: { reset: true }, want: { status: 503, body: DOWN, maxMs: CROWD_TIMEOUT_MS }, fault: 'reset' },
      midbody: { b: { resetMidBody: true }, want: { status: 503, body: DOWN, maxMs: CROWD_TIMEOUT_MS }, fault: 'reset mid-body' },
      garbage: { b: { garbage: true }, want: { status: 502, body: INVALID, maxMs: CROWD_TIMEOUT_MS }, fault: 'garbage' },
      err: { b: { status: 500, body: { error: MARKER } }, want: { status: 502, body: FAILED, maxMs: CROWD_TIMEOUT_MS }, fault: '500' },
    };
    // 20 uploads at once, interleaved: 6 healthy ones and 2 of each of the 7 faults
    const names = [...Object.keys(kinds), 'ok', 'ok'];
    const total = names.length * 2;
    rec.faultCategory(cat, [`${total} uploads at once: ${Object.values(kinds).map((k) => k.fault).join(', ')}`], CROWD_BUDGET_MS);
    const site = await newSite('Mixed hall');
    crowd.setRouter((r) => kinds[r.filename.split('-')[0]]?.b);
    const prior = await rows();
    let shots: Shot[];
    try {
      shots = await storm(t, site, total, (i) => `${names[i % names.length]}-${i}.jpg`);
      await sleep(800); // the late answers arrive
    } finally {
      crowd.setRouter(null);
    }
    judge(
      cat,
      shots,
      (s) => {
        const kind = s.filename.split('-')[0];
        return kind === 'ok' ? { ...kinds.ok.want, body: success('Mixed hall', s.filename) } : kinds[kind].want;
      },
      CROWD_BUDGET_MS,
    );
    const healthy = shots.filter((s) => s.filename.startsWith('ok-'));
    const waited = shots.filter((s) => s.status === 504);
    const notHeldUp = slowest(healthy) < CROWD_TIMEOUT_MS && waited.every((s) => s.ms >= CROWD_TIMEOUT_MS);
    rec.invariant(cat, `the ${healthy.length} healthy uploads answered in ≤ ${slowest(healthy)} ms while ${waited.length} others waited out the ${CROWD_TIMEOUT_MS} ms timeout`, notHeldUp);
    assert.ok(notHeldUp, 'healthy uploads are not queued behind hung ones');
    await rowsAdded(cat, prior, { alerts: 0, logs: healthy.length }, `${healthy.length} successes among ${total}`);
  });

  // ------------------------------------------------------------------ Gemini (NORMAL branch only)

  /** One Gemini storm on a fresh NORMAL zone (3 people, capacity 10): every answer is `want`. */
  async function geminiStorm(cat: string, zone: string, fault: GeminiBehaviour | GeminiBehaviour[], want: (zone: string) => Expected): Promise<{ calls: number; prior: { alerts: number; logs: number } }> {
    const site = await newSite(zone);
    const prior = await rows();
    const seen = gemini.received.length;
    if (Array.isArray(fault)) {
      gemini.enqueue(...fault);
    } else {
      gemini.setDefault(fault);
    }
    try {
      judge(cat, await storm(t, site, N), () => want(zone), GEMINI_BUDGET_MS);
    } finally {
      gemini.setDefault({ text: '5' });
    }
    return { calls: gemini.received.length - seen, prior };
  }

  const carbonError = (zone: string): Expected => ({ status: 200, body: geminiFailed(zone) });

  it('Gemini 429 storm with a RetryInfo hint that fits: each hint waited, GEMINI_MAX_ATTEMPTS attempts, generic carbon_error, no log', async () => {
    const cat = 'Gemini: 429 storm (RetryInfo 0.1s)';
    rec.faultCategory(cat, ['429 RESOURCE_EXHAUSTED with google.rpc.RetryInfo retryDelay "0.1s" on every attempt'], GEMINI_BUDGET_MS);
    // two hints of 100 ms are waited: no answer before 200 ms
    const { calls: got, prior } = await geminiStorm(cat, 'Quota hall', { status: 429, retryDelay: '0.1s', message: `${MARKER} quota` }, (z) => ({ ...carbonError(z), minMs: 200 }));
    calls(cat, got, N * GEMINI_MAX_ATTEMPTS, N * GEMINI_MAX_ATTEMPTS, `Gemini (${GEMINI_MAX_ATTEMPTS} attempts per upload)`);
    await rowsAdded(cat, prior, { alerts: 0, logs: 0 }, `${N} failed carbon calculations`);
  });

  it('Gemini 429 storm with a Retry-After beyond the budget: no retry, an immediate carbon_error', async () => {
    const cat = 'Gemini: 429 storm (Retry-After 30)';
    rec.faultCategory(cat, ['429 with Retry-After: 30 (more than the remaining budget)'], GEMINI_BUDGET_MS);
    const { calls: got, prior } = await geminiStorm(cat, 'Retry-After hall', { status: 429, retryAfter: '30' }, (z) => ({ ...carbonError(z), maxMs: GEMINI_TIMEOUT_MS }));
    calls(cat, got, N, N, 'Gemini (one attempt per upload: the hint does not fit)');
    await rowsAdded(cat, prior, { alerts: 0, logs: 0 }, `${N} failed carbon calculations`);
  });

  it('a Gemini 429 storm that clears: the retries succeed and every upload gets its carbon log', async () => {
    const cat = 'Gemini: 429 storm that clears';
    rec.faultCategory(cat, [`${N} × 429 with RetryInfo "0.1s", then healthy`], GEMINI_BUDGET_MS);
    const { calls: got, prior } = await geminiStorm(
      cat,
      'Recovering hall',
      Array.from({ length: N }, () => ({ status: 429, retryDelay: '0.1s' })),
      (z) => ({ status: 200, body: success(z) }),
    );
    calls(cat, got, 2 * N, 2 * N, `Gemini (${N} refused + ${N} answered)`);
    await rowsAdded(cat, prior, { alerts: 0, logs: N }, `${N} successful carbon calculations after the storm`);
  });

  it('Gemini 500 and 503 storms: retried with jittered backoff inside the budget, then carbon_error', async () => {
    for (const status of [500, 503]) {
      const cat = `Gemini: ${status} storm`;
      rec.faultCategory(cat, [`${status} on every attempt, no retry hint`], GEMINI_BUDGET_MS);
      const { calls: got, prior } = await geminiStorm(cat, `Gemini ${status} hall`, { status, message: `${MARKER} internal` }, carbonError);
      // retry 1 waits ≤ 500 ms and always fits; retry 2 (≤ 1000 ms) fits unless the budget is nearly spent
      calls(cat, got, 2 * N, N * GEMINI_MAX_ATTEMPTS, 'Gemini (2–3 attempts per upload)');
      await rowsAdded(cat, prior, { alerts: 0, logs: 0 }, `${N} failed carbon calculations`);
    }
  });

  it('Gemini hanging: every attempt times out and the request still ends within GEMINI_TIMEOUT_MS × GEMINI_MAX_ATTEMPTS', async () => {
    const cat = 'Gemini: hang';
    rec.faultCategory(cat, ['request read, no response ever'], GEMINI_BUDGET_MS);
    const { calls: got, prior } = await geminiStorm(cat, 'Gemini hang hall', { hang: true }, (z) => ({ ...carbonError(z), minMs: 2 * GEMINI_TIMEOUT_MS }));
    calls(cat, got, 2 * N, N * GEMINI_MAX_ATTEMPTS, 'Gemini (2–3 timed-out attempts per upload)');
    await rowsAdded(cat, prior, { alerts: 0, logs: 0 }, `${N} failed carbon calculations`);
  });

  it('Gemini resetting or answering garbage: not retried, an immediate carbon_error', async () => {
    for (const [cat, fault, behaviour] of [
      ['Gemini: reset', 'socket destroyed after the request was read', { reset: true }],
      ['Gemini: reset mid-body', '200 headers and part of the JSON, then the socket destroyed', { resetMidBody: true }],
      ['Gemini: garbage body', '200 text/html "<html>not json</html>"', { garbage: true }],
    ] as [string, string, GeminiBehaviour][]) {
      rec.faultCategory(cat, [fault], GEMINI_BUDGET_MS);
      const { calls: got, prior } = await geminiStorm(cat, `${cat} hall`, behaviour, (z) => ({ ...carbonError(z), maxMs: GEMINI_TIMEOUT_MS }));
      calls(cat, got, N, N, 'Gemini (one attempt per upload: only 429, 5xx and timeouts are retried)');
      await rowsAdded(cat, prior, { alerts: 0, logs: 0 }, `${N} failed carbon calculations`);
    }
  });

  // ------------------------------------------------------------------ crowd breaker

  it('crowd breaker: a timeout storm opens it, later uploads fail fast without reaching the detector, a half-open probe closes it', async () => {
    const cat = 'crowd API: breaker opens under a storm';
    rec.faultCategory(
      cat,
      [`hang storm with CROWD_BREAKER_FAILURES=${BREAKER_FAILURES}`, `reset on the first half-open probe (after ${HALF_OPEN_MS} ms)`, 'healthy again'],
      CROWD_BUDGET_MS,
    );
    const crowd2 = await startCrowdServer();
    const t2 = await startTestApp({
      env: {
        CROWD_PREDICT_URL: crowd2.predictUrl,
        CROWD_TIMEOUT_MS: String(CROWD_TIMEOUT_MS),
        CROWD_BREAKER_FAILURES: String(BREAKER_FAILURES),
        CROWD_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS),
        GEMINI_API_KEY: 'test-gemini-key',
        GEMINI_BASE_URL: gemini.url,
        GEMINI_BREAKER_FAILURES: '1000',
        SENSOR_THROTTLE_MS: '0',
        LOG_LEVEL: 'warn',
      },
    });
    try {
      rec.instrument(t2);
      const site = await newSite('Breaker hall', t2);
      const prior = await rows(t2);

      // 1. every upload waits out the timeout; the failures open the circuit
      crowd2.setDefault({ hang: true });
      judge(cat, await storm(t2, site, N), () => ({ status: 504, body: TIMEOUT, minMs: CROWD_TIMEOUT_MS }), CROWD_BUDGET_MS);
      const health = await t2.request('GET', '/api/health/');
      rec.invariant(cat, `/api/health/ reports the crowd circuit "${String(health.body?.checks?.crowd_api?.circuit)}" after the storm`, health.body?.checks?.crowd_api?.circuit === 'open');
      assert.equal(health.body?.checks?.crowd_api?.circuit, 'open', health.text);

      // 2. open: fail fast with the mapped 503, the detector gets nothing
      let seen = crowd2.received.length;
      const open = await storm(t2, site, N);
      judge(cat, open, () => ({ status: 503, body: DOWN, maxMs: FAST_MS }), CROWD_BUDGET_MS);
      calls(cat, crowd2.received.length - seen, 0, 0, `detector while the circuit is open (${N} uploads answered in ≤ ${slowest(open)} ms, limit ${FAST_MS} ms)`);

      // 3. the half-open probe fails: open again, still fast
      crowd2.setDefault({ reset: true });
      await sleep(HALF_OPEN_MS + 100);
      seen = crowd2.received.length;
      judge(cat, await storm(t2, site, 1), () => ({ status: 503, body: DOWN, maxMs: CROWD_TIMEOUT_MS }), CROWD_BUDGET_MS);
      const reopened = await storm(t2, site, N);
      judge(cat, reopened, () => ({ status: 503, body: DOWN, maxMs: FAST_MS }), CROWD_BUDGET_MS);
      calls(cat, crowd2.received.length - seen, 1, 1, `detector after a failed probe: the probe only (the next ${N} uploads failed fast, ≤ ${slowest(reopened)} ms)`);

      // 4. healthy again: the next probe closes the circuit and a storm succeeds
      crowd2.setDefault({ count: 3 });
      await sleep(HALF_OPEN_MS + 100);
      seen = crowd2.received.length;
      judge(cat, await storm(t2, site, 1), () => ({ status: 200, body: success('Breaker hall') }), CROWD_BUDGET_MS);
      judge(cat, await storm(t2, site, N), () => ({ status: 200, body: success('Breaker hall') }), CROWD_BUDGET_MS);
      calls(cat, crowd2.received.length - seen, N + 1, N + 1, 'detector after recovery (probe + storm)');
      await rowsAdded(cat, prior, { alerts: 0, logs: N + 1 }, `${3 * N + 1} failed and ${N + 1} successful detections`, t2);
    } finally {
      await t2.close();
      await crowd2.close();
    }
  });

  // ------------------------------------------------------------------ logs

  it('every failure is logged with its kind, never with the upstream body', () => {
    const cat = 'logs of the storms';
    const text = t.logs.map((l) => JSON.stringify(l));
    const crowdFailures = t.logs.filter((l) => l.message === 'crowd API call failed').length;
    const carbonFailures = t.logs.filter((l) => l.message === 'carbon calculation failed').length;
    const withBody = text.filter((l) => l.includes(MARKER) || l.includes('Traceback') || l.includes('RESOURCE_EXHAUSTED')).length;
    const ok = crowdFailures > 0 && carbonFailures > 0 && withBody === 0;
    rec.invariant(cat, `${text.length} warning lines: ${crowdFailures} "crowd API call failed", ${carbonFailures} "carbon calculation failed"; ${withBody} contain an upstream body`, ok);
    assert.ok(crowdFailures > 0 && carbonFailures > 0, 'the causes are logged');
    assert.equal(withBody, 0, 'no upstream body in the logs');
  });

  // ------------------------------------------------------------------ baseline

  it('after the storms, connections to the doubles close, process sockets and heap return to baseline', async () => {
    const cat = 'return to baseline';
    const state = await settle(baseline.sockets + SOCKET_TOLERANCE);
    const doublesOk = state.doubles === 0 && state.app === 0;
    rec.invariant(cat, `open connections to the doubles ${state.doubles}, to the app ${state.app} after closing idle keep-alive ones (${state.ms} ms to settle); none left by aborted calls`, doublesOk);
    const socketsOk = state.sockets <= baseline.sockets + SOCKET_TOLERANCE;
    rec.invariant(cat, `TCP sockets in the process ${state.sockets} vs ${baseline.sockets} baseline (limit +${SOCKET_TOLERANCE})`, socketsOk);
    const heap = await heapAfterGc();
    const grown = (heap - baseline.heap) / 2 ** 20;
    const heapOk = grown <= HEAP_TOLERANCE_MB;
    rec.invariant(cat, `heap after storms ${mb(heap)} MB vs ${mb(baseline.heap)} MB baseline (${grown >= 0 ? '+' : ''}${grown.toFixed(1)} MB, limit +${HEAP_TOLERANCE_MB} MB)`, heapOk);
    assert.equal(state.doubles, 0, 'no connection to a double is left open');
    assert.equal(state.app, 0, 'no connection to the app is left open');
    assert.ok(socketsOk, `sockets ${state.sockets} vs baseline ${baseline.sockets}`);
    assert.ok(heapOk, `heap grew by ${grown.toFixed(1)} MB`);
  });
});
