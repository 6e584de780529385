import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Redis from 'ioredis';
import { Client } from 'pg';
import { Lifecycle } from '../../src/common/lifecycle';
import { LOGGER, type AppLogger } from '../../src/common/logger';
import { createShutdownHandler } from '../../src/graceful-shutdown';
import { HealthService } from '../../src/health/health.service';
import { RedisClient } from '../../src/integrations/redis/redis.client';
import { CrowdServer, startCrowdServer } from '../doubles/crowd-server';
import { GeminiServer, startGeminiServer } from '../doubles/gemini-server';
import { createTestDatabase, openDataSource, REAL_POSTGRES, REAL_REDIS_URL, TestDatabase } from '../support/database';
import { jpeg } from '../support/images';
import { createSite, detect, Site } from '../support/sensor';
import { TcpProxy } from '../support/tcp-proxy';
import { startTestApp, TestApp, TestResponse } from '../support/test-app';
import { Recorder } from './support';

/*
 * Infrastructure faults against the real servers. PostgreSQL and Redis are never stopped
 * themselves (other test files share them): the application reaches them through a TCP proxy
 * (test/support/tcp-proxy.ts) that the test cuts (connections destroyed, port refused = the
 * server stopped), restarts on the same port, black-holes or stalls.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const CONNECT_TIMEOUT_MS = 1000;
const STATEMENT_TIMEOUT_MS = 2000;
/** scheduling slack on a loaded 2-core machine; a hung request overruns it by far */
const MARGIN_MS = 1500;
const DB_BUDGET_MS = CONNECT_TIMEOUT_MS + MARGIN_MS;
/** ioredis commandTimeout (src/integrations/redis/redis.client.ts) */
const REDIS_COMMAND_TIMEOUT_MS = 1000;
const REDIS_BUDGET_MS = REDIS_COMMAND_TIMEOUT_MS + MARGIN_MS;
/** a request still unanswered after this is recorded as hung (status 0) */
const HANG_MS = 15_000;
const UNAVAILABLE = { detail: 'Service temporarily unavailable. Please retry.' };

const rec = new Recorder('infra-faults');

interface Sample {
  kind: string;
  start: number;
  end: number;
  status: number;
  body: any;
  retryAfter: string | null;
  /** what the worker asked for (alert heading, zone id) */
  tag: string;
}

/** An outage: it began between `from` and `to` (the fault being injected) and ended at `until`. */
interface Outage {
  from: number;
  to: number;
  until: number;
}

/** Continuous load: workers loop over one request each until stopped, every answer kept. */
class Load {
  readonly samples: Sample[] = [];
  private running = true;
  private readonly workers: Promise<void>[] = [];

  spawn(kind: string, send: (seq: number) => Promise<{ r: TestResponse; tag?: string } | TestResponse>): void {
    this.workers.push(
      (async () => {
        for (let seq = 0; this.running; seq += 1) {
          const start = Date.now();
          let sample: Sample;
          try {
            const out = await deadline(send(seq), HANG_MS);
            const { r, tag } = 'r' in out ? out : { r: out, tag: undefined };
            sample = { kind, start, end: Date.now(), status: r.status, body: r.body, retryAfter: r.headers.get('retry-after'), tag: tag ?? '' };
          } catch (err) {
            // 0: hung past HANG_MS; -1: the connection to the app itself failed
            const hung = err instanceof Error && err.message === 'hung';
            sample = { kind, start, end: Date.now(), status: hung ? 0 : -1, body: String(err), retryAfter: null, tag: '' };
          }
          this.samples.push(sample);
          await sleep(15);
        }
      })(),
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }
}

function deadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('hung')), ms)))]).finally(() => clearTimeout(timer));
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms: number): Promise<number> {
  const started = Date.now();
  while (!(await cond())) {
    assert.ok(Date.now() - started < ms, `${what}: not reached within ${ms} ms`);
    await sleep(20);
  }
  return Date.now() - started;
}

function is503(s: Sample): boolean {
  return s.status === 503 && JSON.stringify(s.body) === JSON.stringify(UNAVAILABLE) && s.retryAfter === '1';
}

function statusCounts(samples: { status: number }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    out[s.status] = (out[s.status] ?? 0) + 1;
  }
  return out;
}

function describeSample(s: Sample, t0: number): string {
  return `${s.kind} ${s.tag} [${s.start - t0}..${s.end - t0} ms] → ${s.status} ${JSON.stringify(s.body).slice(0, 160)}`;
}

/** Records every sample of a load run under `cat` and returns the ones that broke `ok`, described. */
function judgeSamples(rec: Recorder, cat: string, samples: Sample[], t0: number, ok: (s: Sample) => boolean): string[] {
  const bad: string[] = [];
  for (const s of samples) {
    const good = ok(s);
    rec.timing(cat, s.end - s.start);
    rec.record(cat, s.status, good);
    if (!good) {
      bad.push(describeSample(s, t0));
    }
  }
  return bad;
}

/** The three slowest requests, for a failed budget assertion. */
function slowestOf(samples: Sample[], t0: number): string {
  return [...samples]
    .sort((a, b) => b.end - b.start - (a.end - a.start))
    .slice(0, 3)
    .map((s) => describeSample(s, t0))
    .join('; ');
}

after(() => {
  rec.write();
  assert.deepEqual(rec.leaks, [], 'no response leaked internals or secrets');
});

// ---------------------------------------------------------------------------------------------
// 1. PostgreSQL
// ---------------------------------------------------------------------------------------------

describe('PostgreSQL stopped and restarted under load', { skip: !REAL_POSTGRES && 'needs a real PostgreSQL server (TEST_DATABASE_URL): the embedded database cannot be cut' }, () => {
  const CAT_CUT = 'PostgreSQL stopped, then restarted, under load';
  const CAT_HOLE = 'PostgreSQL accepts connections but never answers';
  const CAT_STALL = 'PostgreSQL partitioned with pooled sockets still open';
  let db: TestDatabase;
  let proxy: TcpProxy;
  let t: TestApp;
  let crowd: CrowdServer;
  let gemini: GeminiServer;
  let direct: Client;
  let admin: string;
  let operator: string;
  let danger: Site[];
  let normal: Site[];
  let manual: Site;
  let img: Buffer;
  const run = randomBytes(3).toString('hex');
  /** every request of every phase, and every outage: the row checks look at the whole history */
  const history: Sample[] = [];
  const outages: Outage[] = [];
  let headings = 0;

  before(async () => {
    db = await createTestDatabase();
    const p = TcpProxy.forUrl(db.url!, 5432);
    proxy = p.proxy;
    await proxy.start();
    crowd = await startCrowdServer();
    crowd.setDefault({ count: 5 }); // DANGER in the capacity-5 zones, NORMAL in the capacity-100 ones
    gemini = await startGeminiServer();
    gemini.setDefault({ text: '4' });
    t = await startTestApp({
      db: { ...db, env: { DATABASE_URL: p.url() } },
      env: {
        DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
        SENSOR_THROTTLE_MS: '0',
        CROWD_PREDICT_URL: crowd.predictUrl,
        CROWD_TIMEOUT_MS: '5000',
        GEMINI_BASE_URL: gemini.url,
        GEMINI_API_KEY: 'test-gemini-key',
        GEMINI_MAX_ATTEMPTS: '1',
        LOG_LEVEL: 'fatal',
      },
    });
    rec.instrument(t);
    admin = (await t.admin()).token;
    operator = (await t.operator()).token;
    danger = [];
    normal = [];
    for (let i = 0; i < 3; i += 1) {
      danger.push(await createSite(t, { capacity: 5, zoneName: `Danger ${i}` }));
      normal.push(await createSite(t, { capacity: 100, zoneName: `Normal ${i}` }));
    }
    manual = await createSite(t, { capacity: 10, zoneName: 'Manual' });
    rec.secrets.push(...[...danger, ...normal, manual].map((s) => s.key));
    img = await jpeg(64, 48);
    // the checks read the database directly, never through the proxy
    direct = new Client({ connectionString: db.url!, connectionTimeoutMillis: 5000 });
    await direct.connect();
  });

  after(async () => {
    proxy.forward();
    if (!proxy.listening) {
      await proxy.start();
    }
    await t.close();
    await proxy.close();
    await direct.end();
    await db.drop();
    await crowd.close();
    await gemini.close();
  });

  /** The mixed load of one phase: detections (DANGER and NORMAL), alert lists, creates and closes. */
  function startLoad(): Load {
    const load = new Load();
    for (const s of danger) {
      load.spawn('detect DANGER', async () => ({ r: await detect(t, { key: s.key, zoneId: s.zone.id, file: img }), tag: String(s.zone.id) }));
    }
    for (const s of normal) {
      load.spawn('detect NORMAL', async () => ({ r: await detect(t, { key: s.key, zoneId: s.zone.id, file: img }), tag: String(s.zone.id) }));
    }
    for (let w = 0; w < 2; w += 1) {
      load.spawn('POST /alerts/', async () => {
        const heading = `infra-${run}-${(headings += 1)}`;
        // CLOSED, so creates never conflict: each 201 is exactly one new row named by its heading
        return { r: await t.request('POST', '/alerts/', { token: admin, body: { heading, zone_id: manual.zone.id, status: 'CLOSED' } }), tag: heading };
      });
    }
    for (let w = 0; w < 3; w += 1) {
      load.spawn('GET /alerts/', () => t.request('GET', '/alerts/?limit=20', { token: operator }));
    }
    // an operator closing the open alerts of the DANGER zones, so detections keep opening new ones
    let next = 0;
    load.spawn('PATCH /alerts/{id}/', async () => {
      const zone = danger[next++ % danger.length].zone.id;
      const open = await t.request('GET', `/alerts/?status=OPEN&zone_id=${zone}`, { token: operator });
      if (open.status !== 200 || !Array.isArray(open.body) || open.body.length === 0) {
        return { r: open, tag: 'list' };
      }
      const id = Number(open.body[0].id);
      return { r: await t.request('PATCH', `/alerts/${id}/`, { token: operator, body: { status: 'CLOSED' } }), tag: String(id) };
    });
    return load;
  }

  /** The normal answer of each kind of request. */
  function succeeded(s: Sample): boolean {
    switch (s.kind) {
      case 'detect DANGER':
        return s.status === 200 && s.body?.status === 'DANGER' && Number.isInteger(s.body.alert_id) && typeof s.body.alert_created === 'boolean';
      case 'detect NORMAL':
        return s.status === 200 && s.body?.status === 'NORMAL' && s.body.carbon_data?.calculation_result === 1.25;
      case 'POST /alerts/':
        return s.status === 201 && s.body?.heading === s.tag && s.body.status === 'CLOSED';
      case 'GET /alerts/':
        return s.status === 200 && Array.isArray(s.body);
      case 'PATCH /alerts/{id}/':
        return s.status === 200 && (s.tag === 'list' ? Array.isArray(s.body) : s.body?.status === 'CLOSED' && s.body.id === Number(s.tag));
      default:
        return false;
    }
  }

  /** In flight when the database went away: the normal answer, the 503, or a carbon log that could not be written. */
  function acceptableAcrossFault(s: Sample): boolean {
    if (succeeded(s) || is503(s)) {
      return true;
    }
    return s.kind === 'detect NORMAL' && s.status === 200 && s.body?.carbon_error === 'Error calling Gemini API';
  }

  it('answers 503 fast while PostgreSQL is stopped, recovers without a restart, and loses or duplicates no alert and no carbon log', async () => {
    rec.faultCategory(CAT_CUT, ['PostgreSQL connections destroyed and its port refusing connections for 3 s (TCP proxy cut), then listening again on the same port'], DB_BUDGET_MS);
    const t0 = Date.now();
    const load = startLoad();
    await sleep(2500);
    const cutAt = Date.now();
    await proxy.cut();
    const cutDone = Date.now();
    await sleep(3000);
    const restoreAt = Date.now();
    await proxy.start();
    await sleep(3500);
    await load.stop();
    const samples = load.samples;

    const before = samples.filter((s) => s.end < cutAt);
    const down = samples.filter((s) => s.start >= cutDone && s.end <= restoreAt);
    const atCut = samples.filter((s) => s.start < cutDone && s.end >= cutAt);
    const atRestore = samples.filter((s) => s.start < restoreAt && s.end > restoreAt && s.start >= cutDone);
    const afterRestore = samples.filter((s) => s.start >= restoreAt);
    const bad: string[] = [];
    const check = (s: Sample, ok: boolean, why: string): void => {
      rec.timing(CAT_CUT, s.end - s.start);
      rec.record(CAT_CUT, s.status, ok);
      if (!ok) {
        bad.push(`${why}: ${describeSample(s, t0)}`);
      }
    };
    for (const s of before) {
      check(s, succeeded(s), 'before the cut');
    }
    for (const s of down) {
      check(s, is503(s), 'while stopped (expected the 503)');
    }
    for (const s of [...atCut, ...atRestore]) {
      check(s, acceptableAcrossFault(s), 'across the cut or the restart');
    }
    // recovery: the first moment from which every request started succeeded
    const failedAfter = afterRestore.filter((s) => !succeeded(s));
    const recoveredAt = failedAfter.length ? Math.max(...failedAfter.map((s) => s.end)) : restoreAt;
    for (const s of afterRestore) {
      check(s, succeeded(s) || (s.start < recoveredAt && is503(s)), 'after the restart');
    }
    const slowest = Math.max(...samples.map((s) => s.end - s.start));
    const recoveryMs = recoveredAt - restoreAt;
    console.log(
      `[infra-faults] postgres cut: ${samples.length} requests; before ${JSON.stringify(statusCounts(before))}, ` +
        `stopped ${JSON.stringify(statusCounts(down))}, across cut ${JSON.stringify(statusCounts(atCut))}, across restart ${JSON.stringify(statusCounts(atRestore))}, ` +
        `after ${JSON.stringify(statusCounts(afterRestore))}; slowest ${slowest} ms (budget ${DB_BUDGET_MS}); recovered ${recoveryMs} ms after the restart`,
    );
    assert.deepEqual(bad, [], 'every request got its normal answer or the 503');
    assert.ok(before.length > 50 && down.length > 50, `load in every phase (${before.length} before, ${down.length} while stopped)`);
    for (const kind of ['detect DANGER', 'detect NORMAL', 'POST /alerts/', 'GET /alerts/', 'PATCH /alerts/{id}/']) {
      assert.ok(down.some((s) => s.kind === kind), `${kind} ran while the database was stopped`);
      assert.ok(afterRestore.some((s) => s.kind === kind && s.start >= recoveredAt && succeeded(s)), `${kind} succeeds again after the restart`);
    }
    assert.ok(slowest <= DB_BUDGET_MS, `slowest request ${slowest} ms, budget DB_CONNECT_TIMEOUT_MS + ${MARGIN_MS} = ${DB_BUDGET_MS} ms: ${slowestOf(samples, t0)}`);
    assert.ok(recoveryMs <= 3000, `recovered ${recoveryMs} ms after PostgreSQL came back, without restarting the app`);

    history.push(...samples);
    outages.push({ from: cutAt, to: cutDone, until: restoreAt });
    await checkRows(CAT_CUT);
  });

  /** Row-level checks against the database itself: nothing lost, nothing duplicated, nothing written while down. */
  async function checkRows(cat: string): Promise<void> {
    const samples = history;
    // in flight when an outage began: its write may have committed with the answer lost on the way back
    const inFlightAtCut = (s: Sample): boolean => outages.some((o) => s.start < o.to && s.end >= o.from);
    const insideOutage = (ms: number): boolean => outages.some((o) => ms > o.to && ms < o.until);
    const inv = (text: string, ok: boolean, detail = ''): void => {
      rec.invariant(cat, text, ok);
      assert.ok(ok, `${text} ${detail}`);
    };
    const alerts = (await direct.query(`SELECT id::int AS id, zone_id::int AS zone_id, camera_id::int AS camera_id, heading, status, created_at FROM lims_alert`)).rows as {
      id: number;
      zone_id: number;
      camera_id: number | null;
      heading: string;
      status: string;
      created_at: Date;
    }[];
    const byId = new Map(alerts.map((a) => [a.id, a]));

    // detections: DANGER
    const dangerOk = samples.filter((s) => s.kind === 'detect DANGER' && succeeded(s));
    const missing = dangerOk.filter((s) => byId.get(s.body.alert_id)?.zone_id !== Number(s.tag));
    inv('every alert_id a DANGER detection answered exists in lims_alert, in its zone', missing.length === 0, JSON.stringify(missing.slice(0, 3).map((s) => s.body)));
    const createdIds = dangerOk.filter((s) => s.body.alert_created === true).map((s) => s.body.alert_id as number);
    inv('no alert id was answered alert_created:true twice', new Set(createdIds).size === createdIds.length);
    const dangerZones = new Set(danger.map((s) => s.zone.id));
    const orphans = alerts.filter((a) => dangerZones.has(a.zone_id) && !createdIds.includes(a.id));
    const dangerAmbiguous = samples.filter((s) => s.kind === 'detect DANGER' && is503(s) && inFlightAtCut(s)).length;
    inv(
      `alerts opened by detections that no response announced (${orphans.length}) ≤ DANGER detections in flight at the cut that answered 503 (${dangerAmbiguous}), and all were written before the cut`,
      orphans.length <= dangerAmbiguous && orphans.every((a) => !insideOutage(a.created_at.getTime())),
    );
    const openDupes = (await direct.query(`SELECT zone_id, camera_id, count(*)::int AS n FROM lims_alert WHERE status = 'OPEN' GROUP BY zone_id, camera_id HAVING count(*) > 1`)).rows;
    inv('at most one OPEN alert per zone and camera', openDupes.length === 0, JSON.stringify(openDupes));

    // operator creates (each heading is one request)
    const creates = samples.filter((s) => s.kind === 'POST /alerts/');
    const byHeading = new Map<string, number[]>();
    for (const a of alerts) {
      byHeading.set(a.heading, [...(byHeading.get(a.heading) ?? []), a.id]);
    }
    const lostCreates = creates.filter((s) => succeeded(s) && (byHeading.get(s.tag)?.length !== 1 || byHeading.get(s.tag)![0] !== s.body.id));
    inv('every 201 alert create has exactly its one row', lostCreates.length === 0, JSON.stringify(lostCreates.slice(0, 3).map((s) => s.tag)));
    const dupHeadings = [...byHeading.entries()].filter(([h, ids]) => h.startsWith(`infra-${run}-`) && ids.length > 1);
    inv('no alert create was written twice', dupHeadings.length === 0, JSON.stringify(dupHeadings));
    const failedCreates = creates.filter((s) => !succeeded(s));
    const writtenAnyway = failedCreates.filter((s) => byHeading.has(s.tag));
    inv(
      `creates answered 503 but written anyway (${writtenAnyway.length}) were all in flight at the cut (committed, then the connection died before the answer)`,
      writtenAnyway.every(inFlightAtCut),
      JSON.stringify(writtenAnyway.map((s) => s.tag)),
    );

    // operator closes
    const closes = samples.filter((s) => s.kind === 'PATCH /alerts/{id}/' && s.tag !== 'list' && succeeded(s));
    const notClosed = closes.filter((s) => byId.get(Number(s.tag))?.status !== 'CLOSED');
    inv('every alert a 200 PATCH closed is CLOSED', notClosed.length === 0);

    // nothing written while the database was unreachable
    const writtenWhileDown = alerts.filter((a) => insideOutage(a.created_at.getTime()));
    inv('no alert row is dated inside an outage', writtenWhileDown.length === 0);

    // carbon logs: exact where a response can tell, bounded by the in-flight-at-cut answers where it cannot
    const logs = (await direct.query(`SELECT zone_id::int AS zone_id, count(*)::int AS n FROM lims_carbonlog GROUP BY zone_id`)).rows as { zone_id: number; n: number }[];
    const stamps = (await direct.query(`SELECT "timestamp" AS at FROM lims_carbonlog`)).rows as { at: Date }[];
    const inWindow = stamps.filter((r) => insideOutage(r.at.getTime())).length;
    const parts: string[] = [];
    let carbonOk = true;
    for (const s of normal) {
      const zone = s.zone.id;
      const logged = samples.filter((x) => x.kind === 'detect NORMAL' && x.tag === String(zone) && succeeded(x)).length;
      const ambiguous = samples.filter((x) => x.kind === 'detect NORMAL' && x.tag === String(zone) && x.status === 200 && x.body?.carbon_error && inFlightAtCut(x)).length;
      const rows = logs.find((l) => l.zone_id === zone)?.n ?? 0;
      parts.push(`zone ${zone}: ${rows} rows, ${logged} logged answers, ${ambiguous} ambiguous`);
      carbonOk &&= rows >= logged && rows <= logged + ambiguous;
    }
    inv(
      'carbon logs per zone = NORMAL answers with carbon_data, plus at most the carbon_error answers in flight at the cut (an INSERT committed as the connection died)',
      carbonOk,
      parts.join('; '),
    );
    inv('no carbon log is dated inside an outage', inWindow === 0);
    const stray = (await direct.query(`SELECT count(*)::int AS n FROM lims_carbonlog WHERE zone_id <> ALL($1::bigint[])`, [normal.map((s) => s.zone.id)])).rows[0].n as number;
    inv('no carbon log outside the NORMAL zones', stray === 0);
    console.log(`[infra-faults] rows: ${alerts.length} alerts, ${orphans.length} unannounced DANGER alerts, ${writtenAnyway.length} 503 creates written; carbon ${parts.join('; ')}`);
  }

  it('answers 503 within DB_CONNECT_TIMEOUT_MS when PostgreSQL accepts connections but never answers', async () => {
    rec.faultCategory(CAT_HOLE, ['PostgreSQL connections destroyed; new ones accepted and never answered for 3 s (black hole), then normal again'], DB_BUDGET_MS);
    const t0 = Date.now();
    const load = startLoad();
    await sleep(800);
    const holeAt = Date.now();
    proxy.blackhole();
    await sleep(3000);
    const restoreAt = Date.now();
    proxy.forward();
    await sleep(2500);
    await load.stop();
    const bad: string[] = [];
    const inHole = load.samples.filter((s) => s.start > holeAt && s.end < restoreAt);
    for (const s of load.samples) {
      const across = s.start <= holeAt || (s.start < restoreAt && s.end >= restoreAt);
      const ok = s.end < holeAt || s.start >= restoreAt + CONNECT_TIMEOUT_MS ? succeeded(s) : across || s.start >= restoreAt ? acceptableAcrossFault(s) : is503(s);
      rec.timing(CAT_HOLE, s.end - s.start);
      rec.record(CAT_HOLE, s.status, ok);
      if (!ok) {
        bad.push(describeSample(s, t0));
      }
    }
    // once the app has seen its old sockets die (a few ms), every request waits for a connection
    // that never completes: the connect timeout is what ends it
    const early = inHole.filter((s) => s.start > holeAt + 200 && s.end - s.start < CONNECT_TIMEOUT_MS - 100);
    const slowest = Math.max(...load.samples.map((s) => s.end - s.start));
    console.log(`[infra-faults] postgres black hole: ${load.samples.length} requests, in the hole ${JSON.stringify(statusCounts(inHole))}; slowest ${slowest} ms (budget ${DB_BUDGET_MS})`);
    history.push(...load.samples);
    outages.push({ from: holeAt, to: holeAt, until: restoreAt });
    assert.deepEqual(bad, []);
    assert.ok(inHole.length >= 6, `requests inside the hole (${inHole.length})`);
    assert.deepEqual(early.map((s) => describeSample(s, t0)), [], 'inside the hole, a request ends by the connect timeout, not sooner');
    assert.ok(slowest <= DB_BUDGET_MS, `slowest ${slowest} ms ≤ ${DB_BUDGET_MS} ms: ${slowestOf(load.samples, t0)}`);
    await checkRows(CAT_HOLE);
  });

  it('answers 503 within the read timeout while partitioned, and recovers without a restart when the old connections never come back', async () => {
    // pg's client-side query_timeout is DB_STATEMENT_TIMEOUT_MS + 5 s (data-source-options.ts): the
    // only thing that can end a query whose answer will never arrive
    const readTimeoutMs = STATEMENT_TIMEOUT_MS + 5000;
    const budget = readTimeoutMs + MARGIN_MS;
    rec.faultCategory(
      CAT_STALL,
      ['PostgreSQL partitioned for 8.5 s: every socket stays open, no byte gets through either way', 'then failover: the old sockets stay silent for ever, new connections reach the server'],
      budget,
    );
    // warm the pool so it holds open connections when the partition starts
    await Promise.all(Array.from({ length: 10 }, () => t.request('GET', '/alerts/?limit=5', { token: operator })));
    const t0 = Date.now();
    const load = startLoad();
    await sleep(500);
    const stallAt = Date.now();
    proxy.stall();
    await sleep(readTimeoutMs + 1500);
    const failoverAt = Date.now();
    proxy.failover();
    await sleep(4000);
    await load.stop();
    const samples = load.samples;
    const failedAfter = samples.filter((s) => s.start >= failoverAt && !succeeded(s));
    const recoveredAt = failedAfter.length ? Math.max(...failedAfter.map((s) => s.end)) : failoverAt;
    const bad = judgeSamples(rec, CAT_STALL, samples, t0, (s) => (s.end < stallAt || s.start >= recoveredAt ? succeeded(s) : acceptableAcrossFault(s)));
    const slowest = Math.max(...samples.map((s) => s.end - s.start));
    const during = samples.filter((s) => s.start > stallAt && s.end < failoverAt);
    const after = samples.filter((s) => s.start >= failoverAt);
    const recoveryMs = recoveredAt - failoverAt;
    console.log(
      `[infra-faults] postgres partition: ${samples.length} requests, during ${JSON.stringify(statusCounts(during))}, after failover ${JSON.stringify(statusCounts(after))}; ` +
        `slowest ${slowest} ms (budget ${budget}); recovered ${recoveryMs} ms after failover`,
    );
    history.push(...samples);
    outages.push({ from: stallAt, to: stallAt, until: failoverAt });
    assert.deepEqual(bad, [], 'the normal answer or the 503, never a 500');
    assert.ok(during.filter(is503).length >= 6, 'requests during the partition got the 503');
    assert.ok(slowest <= budget, `slowest ${slowest} ms ≤ query_timeout + ${MARGIN_MS} = ${budget} ms: ${slowestOf(samples, t0)}`);
    assert.ok(recoveryMs <= 3000, `recovered ${recoveryMs} ms after failover, without restarting the app (wedged connections were discarded)`);
    assert.ok(after.filter((s) => s.start >= recoveredAt && succeeded(s)).length >= 20, 'and kept succeeding');
    await checkRows(CAT_STALL);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Redis
// ---------------------------------------------------------------------------------------------

describe('Redis stopped and restarted under load', { skip: !REAL_REDIS_URL && 'needs a real Redis server (TEST_REDIS_URL): without it the stores are in process already' }, () => {
  const CAT_CUT = 'Redis stopped, then restarted, under load';
  const CAT_STALL = 'Redis partitioned with its socket still open';
  const WINDOW_MS = 1500;
  const RATE_LIMITED = JSON.stringify({ error: 'Rate limit exceeded' });
  let proxy: TcpProxy;
  let proxyUrl: string;
  let one: TestApp;
  /** a second instance on the same database and Redis (real PostgreSQL only: PGlite is per process) */
  let two: TestApp | null = null;
  let crowd: CrowdServer;
  let gemini: GeminiServer;
  let direct: Redis;
  let operator: string;
  let img: Buffer;
  const prefix = `ecoflow-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
  const saved = { fixed: process.env.REDIS_KEY_PREFIX_FIXED, prefix: process.env.REDIS_KEY_PREFIX };

  before(async () => {
    const p = TcpProxy.forUrl(REAL_REDIS_URL!, 6379);
    proxy = p.proxy;
    await proxy.start();
    proxyUrl = p.url();
    crowd = await startCrowdServer();
    crowd.setDefault({ count: 3 }); // NORMAL in capacity-10 zones: Gemini, a carbon log, a stats-cache invalidation
    gemini = await startGeminiServer();
    gemini.setDefault({ text: '4' });
    // both instances share one key prefix, so they share the throttle slots
    process.env.REDIS_KEY_PREFIX_FIXED = '1';
    process.env.REDIS_KEY_PREFIX = prefix;
    const env = {
      REDIS_URL: proxyUrl,
      SENSOR_THROTTLE_MS: String(WINDOW_MS),
      CROWD_PREDICT_URL: crowd.predictUrl,
      GEMINI_BASE_URL: gemini.url,
      GEMINI_API_KEY: 'test-gemini-key',
      LOG_LEVEL: 'fatal',
    };
    one = await startTestApp({ env });
    rec.instrument(one);
    if (REAL_POSTGRES) {
      two = await startTestApp({ env, db: one.db });
      rec.instrument(two);
    }
    operator = (await one.operator()).token;
    img = await jpeg(64, 48);
    direct = new Redis(REAL_REDIS_URL!, { maxRetriesPerRequest: 1 });
    await until('both instances connected to Redis', () => instances().every(redisReady), 5000);
  });

  after(async () => {
    proxy.forward();
    if (!proxy.listening) {
      await proxy.start();
    }
    await two?.close();
    await one.close();
    await proxy.close();
    const keys = await direct.keys(`${prefix}*`);
    if (keys.length) {
      await direct.del(...keys);
    }
    direct.disconnect();
    await crowd.close();
    await gemini.close();
    for (const [k, v] of [
      ['REDIS_KEY_PREFIX_FIXED', saved.fixed],
      ['REDIS_KEY_PREFIX', saved.prefix],
    ] as const) {
      if (v === undefined) {
        delete process.env[k];
      } else {
        process.env[k] = v;
      }
    }
  });

  const instances = (): TestApp[] => (two ? [one, two] : [one]);
  const redisReady = (t: TestApp): boolean => t.app.get(RedisClient).redis?.status === 'ready';
  const slotKey = (zoneId: number): string => `${prefix}throttle:zone:${zoneId}`;

  interface RedisLoad {
    load: Load;
    zones: Site[];
  }

  /** Uploads hammering four zones from every instance, stats and health reads, alert lists. */
  async function startLoad(): Promise<RedisLoad> {
    const zones: Site[] = [];
    for (let i = 0; i < 4; i += 1) {
      zones.push(await createSite(one, { capacity: 10 }));
    }
    rec.secrets.push(...zones.map((z) => z.key));
    const load = new Load();
    instances().forEach((t, n) => {
      for (const z of zones) {
        load.spawn(`detect@${n}`, async () => ({ r: await detect(t, { key: z.key, zoneId: z.zone.id, file: img }), tag: String(z.zone.id) }));
      }
    });
    load.spawn('GET /carbon/stats/', async (seq) => one.request('GET', seq % 2 ? '/carbon/stats/' : `/carbon/stats/?zone_id=${zones[seq % 4].zone.id}`, { token: operator }));
    load.spawn('GET /api/health/', () => one.request('GET', '/api/health/'));
    load.spawn('GET /alerts/', () => one.request('GET', '/alerts/?limit=20', { token: operator }));
    return { load, zones };
  }

  function normal(s: Sample): boolean {
    if (s.kind.startsWith('detect@')) {
      const accepted = s.status === 200 && s.body?.status === 'NORMAL' && s.body.carbon_data?.calculation_result === 0.75;
      const throttled = s.status === 429 && JSON.stringify(s.body) === RATE_LIMITED && Number(s.retryAfter) >= 1 && Number(s.retryAfter) <= Math.ceil(WINDOW_MS / 1000);
      return accepted || throttled;
    }
    if (s.kind === 'GET /api/health/') {
      // Redis is only reported: the service stays OK without it
      return s.status === 200 && s.body?.overall_status === 'OK' && ['OK', 'DOWN'].includes(s.body.checks?.redis?.status);
    }
    if (s.kind === 'GET /carbon/stats/') {
      return s.status === 200 && typeof s.body?.summary?.total_saved_all_time === 'number';
    }
    return s.status === 200 && Array.isArray(s.body);
  }

  /**
   * Accepted uploads of one zone, in order; two in a row must be a window apart. A claim happens
   * between a request's start and end, so `second.end - first.start >= WINDOW_MS` is what a
   * working throttle guarantees. `sameInstance` limits it to pairs on one instance (the
   * in-process fallback is per instance).
   */
  function throttlePairs(samples: Sample[], sameInstance: boolean): { pairs: number; violations: string[] } {
    const accepted = samples.filter((s) => s.kind.startsWith('detect@') && s.status === 200).sort((a, b) => a.start - b.start);
    const groups = new Map<string, Sample[]>();
    for (const s of accepted) {
      const k = sameInstance ? `${s.tag}/${s.kind}` : s.tag;
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }
    let pairs = 0;
    const violations: string[] = [];
    for (const list of groups.values()) {
      for (let i = 1; i < list.length; i += 1) {
        pairs += 1;
        if (list[i].end - list[i - 1].start < WINDOW_MS) {
          violations.push(`zone ${list[i].tag}: accepted at [${list[i - 1].start}..${list[i - 1].end}] and [${list[i].start}..${list[i].end}]`);
        }
      }
    }
    return { pairs, violations };
  }

  it('never answers 5xx while Redis is stopped, keeps throttling per instance, and shares the throttle again once Redis is back', async () => {
    rec.faultCategory(CAT_CUT, ['Redis connections destroyed and its port refusing connections for 3.75 s (TCP proxy cut), then listening again on the same port'], REDIS_BUDGET_MS);
    const probeDown = await createSite(one, { capacity: 10 });
    const probeUp = await createSite(one, { capacity: 10 });
    rec.secrets.push(probeDown.key, probeUp.key);
    const t0 = Date.now();
    const { load } = await startLoad();
    await sleep(2000);
    const cutAt = Date.now();
    await proxy.cut();
    const cutDone = Date.now();
    await sleep(500);
    // the throttle degrades to process memory: still one upload per window, and nothing in Redis
    const first = await detect(one, { key: probeDown.key, zoneId: probeDown.zone.id, file: img });
    const second = await detect(one, { key: probeDown.key, zoneId: probeDown.zone.id, file: img });
    const slotWhileDown = await direct.exists(slotKey(probeDown.zone.id));
    // 3.75 s down: the in-process windows start at the cut (0, 1.5, 3 s), so the outage holds
    // at least two whole windows and never ends on a window boundary
    await sleep(Math.max(0, cutDone + 3750 - Date.now()));
    const restoreAt = Date.now();
    await proxy.start();
    const reconnectMs = await until('Redis reconnected on every instance', () => instances().every(redisReady), 5000);
    const readyAt = Date.now();
    await sleep(2500);
    await load.stop();
    const samples = load.samples;

    const bad = judgeSamples(rec, CAT_CUT, samples, t0, normal);
    for (const r of [first, second]) {
      rec.record(CAT_CUT, r.status, r.status < 500);
    }
    const down = samples.filter((s) => s.start >= cutDone && s.end <= restoreAt);
    const slowest = Math.max(...samples.map((s) => s.end - s.start));
    const fiveXX = samples.filter((s) => s.status >= 500 || s.status <= 0).length;
    const shared = throttlePairs(samples.filter((s) => s.end < cutAt || s.start >= readyAt), !two);
    const local = throttlePairs(down, true);
    console.log(
      `[infra-faults] redis cut: ${samples.length} requests; while stopped ${JSON.stringify(statusCounts(down))}, all ${JSON.stringify(statusCounts(samples))}; ` +
        `slowest ${slowest} ms (budget ${REDIS_BUDGET_MS}); reconnected ${reconnectMs} ms after the restart; throttle pairs checked: shared ${shared.pairs}, in-process ${local.pairs}`,
    );
    assert.deepEqual(bad, [], 'every answer is the normal one (200 or the throttle 429), never a 5xx');
    assert.equal(fiveXX, 0);
    assert.ok(down.length > 30, `load while Redis was stopped (${down.length})`);
    assert.ok(slowest <= REDIS_BUDGET_MS, `slowest ${slowest} ms ≤ ${REDIS_BUDGET_MS} ms: ${slowestOf(samples, t0)}`);
    assert.equal(first.status, 200, `first upload while Redis is down: ${first.text}`);
    assert.equal(second.status, 429, 'the in-process throttle still holds the window');
    assert.deepEqual(second.body, { error: 'Rate limit exceeded' });
    assert.equal(slotWhileDown, 0, 'the slot lived in process memory, not in Redis');
    rec.invariant(CAT_CUT, 'while Redis is down, every instance still accepts at most one upload per zone per window', local.violations.length === 0);
    assert.deepEqual(local.violations, [], 'in-process throttle');
    rec.invariant(CAT_CUT, 'while Redis is up, at most one upload per zone per window across both instances', shared.violations.length === 0);
    assert.deepEqual(shared.violations, [], 'shared throttle');
    assert.ok(local.pairs > 0 && shared.pairs > 0, 'both regimes accepted several uploads per zone');
    assert.ok(reconnectMs <= 3000, `reconnected ${reconnectMs} ms after Redis came back`);

    // Redis is used again: the slot is in Redis, and the other instance sees it
    const upOne = await detect(one, { key: probeUp.key, zoneId: probeUp.zone.id, file: img });
    assert.equal(upOne.status, 200, upOne.text);
    const pttl = await direct.pttl(slotKey(probeUp.zone.id));
    assert.ok(pttl > 0 && pttl <= WINDOW_MS, `the slot is in Redis again (PTTL ${pttl})`);
    if (two) {
      const upTwo = await detect(two, { key: probeUp.key, zoneId: probeUp.zone.id, file: img });
      assert.equal(upTwo.status, 429, 'the second instance shares the slot again');
    }
    const stats = await one.request('GET', `/carbon/stats/?zone_id=${probeUp.zone.id}`, { token: operator });
    assert.equal(stats.status, 200);
    // the stats themselves, not an invalidation tombstone
    assert.deepEqual(JSON.parse((await direct.get(`${prefix}carbon_stats:${probeUp.zone.id}`)) ?? 'null'), stats.body, 'the stats cache is in Redis again');
  });

  it('never answers 5xx while Redis is partitioned (socket open, no answer), every request bounded by the command timeout, then uses Redis again', async () => {
    // a request makes at most two Redis round trips in a row (throttle claim, stats-cache delete)
    const budget = 2 * REDIS_COMMAND_TIMEOUT_MS + MARGIN_MS;
    rec.faultCategory(CAT_STALL, ['Redis partitioned for 3 s: its socket stays open, no byte gets through either way, then delivered'], budget);
    const probe = await createSite(one, { capacity: 10 });
    const probeRace = await createSite(one, { capacity: 10 });
    rec.secrets.push(probe.key, probeRace.key);
    const t0 = Date.now();
    const { load } = await startLoad();
    await sleep(1000);
    const stallAt = Date.now();
    proxy.stall();
    await sleep(300);
    // each claim times out on Redis, then falls back to the in-process store: still one winner
    const raceStart = Date.now();
    const racers = await Promise.all(Array.from({ length: 3 }, () => detect(one, { key: probeRace.key, zoneId: probeRace.zone.id, file: img })));
    rec.timing(CAT_STALL, Date.now() - raceStart);
    for (const r of racers) {
      rec.record(CAT_STALL, r.status, r.status === 200 || r.status === 429);
    }
    await sleep(Math.max(0, stallAt + 3000 - Date.now()));
    const healAt = Date.now();
    proxy.forward();
    await sleep(2500);
    await load.stop();
    const samples = load.samples;
    const bad = judgeSamples(rec, CAT_STALL, samples, t0, normal);
    const during = samples.filter((s) => s.start >= stallAt && s.end <= healAt);
    const slowest = Math.max(...samples.map((s) => s.end - s.start));
    console.log(
      `[infra-faults] redis partition: ${samples.length} requests; during ${JSON.stringify(statusCounts(during))}, all ${JSON.stringify(statusCounts(samples))}; ` +
        `slowest ${slowest} ms (budget ${budget}); simultaneous uploads to one zone while partitioned: ${racers.map((r) => r.status).join(', ')}`,
    );
    assert.deepEqual(bad, [], 'every answer is the normal one, never a 5xx');
    const oneWins = JSON.stringify(racers.map((r) => r.status).sort()) === JSON.stringify([200, 429, 429]);
    rec.invariant(CAT_STALL, 'while Redis does not answer, three simultaneous uploads to one zone on one instance: exactly one accepted (in-process slot)', oneWins);
    assert.ok(oneWins, `one of three simultaneous uploads accepted: ${racers.map((r) => r.status).join(', ')}`);
    assert.ok(during.length > 10, `load during the partition (${during.length})`);
    assert.ok(slowest <= budget, `slowest ${slowest} ms ≤ ${budget} ms: ${slowestOf(samples, t0)}`);
    // after the partition heals the same connection carries on: the stores are shared again
    const up = await detect(one, { key: probe.key, zoneId: probe.zone.id, file: img });
    assert.equal(up.status, 200, up.text);
    const pttl = await direct.pttl(slotKey(probe.zone.id));
    assert.ok(pttl > 0 && pttl <= WINDOW_MS, `the throttle slot is in Redis again (PTTL ${pttl})`);
    const stats = await one.request('GET', `/carbon/stats/?zone_id=${probe.zone.id}`, { token: operator });
    assert.equal(stats.status, 200);
    // the stats themselves, not an invalidation tombstone
    assert.deepEqual(JSON.parse((await direct.get(`${prefix}carbon_stats:${probe.zone.id}`)) ?? 'null'), stats.body, 'the stats cache is in Redis again');
  });
});

// ---------------------------------------------------------------------------------------------
// 3. SIGTERM
// ---------------------------------------------------------------------------------------------

interface SlowReply {
  status: number;
  text: string;
  body: any;
  start: number;
  end: number;
}

/** One request on its own connection, its JSON body sent in `pieces` parts `gapMs` apart. */
function sendSlowly(port: number, method: string, path: string, token: string, body: unknown, pieces: number, gapMs: number, onHeadersSent: () => void): Promise<SlowReply> {
  const raw = Buffer.from(JSON.stringify(body));
  const size = Math.ceil(raw.length / pieces);
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, agent: false, headers: { 'content-type': 'application/json', 'content-length': raw.length, authorization: `Bearer ${token}` } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, body: parsed, start, end: Date.now() });
        });
      },
    );
    req.on('error', reject);
    let i = 0;
    const next = (): void => {
      req.write(raw.subarray(i * size, (i + 1) * size));
      if (i === 0) {
        onHeadersSent();
      }
      i += 1;
      if (i < pieces) {
        setTimeout(next, gapMs);
      } else {
        req.end();
      }
    };
    next();
  });
}

/** 'connected' or the error code of a fresh TCP connection attempt. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('SIGTERM under load', () => {
  const CAT = 'SIGTERM with requests in flight';
  const DRAIN_MS = 8000;
  const CLOSE_MS = 3000;
  const DETECTOR_DELAY_MS = 1500;
  let db: TestDatabase;
  let t: TestApp;
  let crowd: CrowdServer;
  let gemini: GeminiServer;
  let closed = false;

  before(async () => {
    if (REAL_POSTGRES) {
      db = await createTestDatabase();
    } else {
      // on disk, so the rows can be read back after the shutdown closed the database
      const dir = mkdtempSync(join(tmpdir(), 'ecoflow-infra-'));
      db = { env: { EMBEDDED_DB_DIR: dir }, url: null, drop: async () => rmSync(dir, { recursive: true, force: true }) };
    }
    crowd = await startCrowdServer();
    crowd.setDefault({ count: 3, delayMs: DETECTOR_DELAY_MS }); // DANGER at capacity 3, NORMAL at capacity 10
    gemini = await startGeminiServer();
    gemini.setDefault({ text: '4' });
    t = await startTestApp({
      db,
      env: {
        SENSOR_THROTTLE_MS: '0',
        CROWD_PREDICT_URL: crowd.predictUrl,
        GEMINI_BASE_URL: gemini.url,
        GEMINI_API_KEY: 'test-gemini-key',
        LOG_LEVEL: 'fatal',
      },
    });
    rec.instrument(t);
  });

  after(async () => {
    if (!closed) {
      await t.close();
    }
    await db.drop();
    await crowd.close();
    await gemini.close();
  });

  it('completes all 30 in-flight requests with their normal answers, refuses new connections, turns readiness off, exits 0, and keeps every row', async () => {
    rec.faultCategory(CAT, [`SIGTERM with 30 requests in flight: 10 detections held ${DETECTOR_DELAY_MS} ms by the detector, 20 uploads still sending their bodies`], DRAIN_MS);
    const admin = (await t.admin()).token;
    const dangerSites: Site[] = [];
    const normalSites: Site[] = [];
    for (let i = 0; i < 5; i += 1) {
      dangerSites.push(await createSite(t, { capacity: 3 }));
      normalSites.push(await createSite(t, { capacity: 10 }));
    }
    rec.secrets.push(...[...dangerSites, ...normalSites].map((s) => s.key));
    const img = await jpeg(64, 48);
    const port = Number(new URL(t.baseUrl).port);
    const tag = randomBytes(3).toString('hex');

    const received = crowd.received.length;
    const detections = [...dangerSites, ...normalSites].map(async (site) => {
      const start = Date.now();
      const r = await detect(t, { key: site.key, zoneId: site.zone.id, file: img });
      return { r, start, end: Date.now(), site, danger: dangerSites.includes(site) };
    });
    let sending = 0;
    const uploads = Array.from({ length: 20 }, (_, i) => {
      const isAlert = i < 10;
      const title = `shutdown-${tag}-${i}`;
      const body = isAlert ? { heading: title, zone_id: dangerSites[0].zone.id, status: 'CLOSED', sub_heading: 'x'.repeat(2000) } : { title, message: 'y'.repeat(2000) };
      // 4 s of body: still sending when the signal comes, even on a loaded machine where the detections are slow to reach the detector
      return sendSlowly(port, 'POST', isAlert ? '/alerts/' : '/notifications/', admin, body, 5, 1000, () => (sending += 1)).then((r) => ({ r, title, isAlert }));
    });
    await until('the 10 detections reached the detector', () => crowd.received.length >= received + 10, 5000);
    await until('the 20 uploads sent their headers', () => sending === 20, 5000);
    await sleep(50);

    const exits: { code: number; at: number }[] = [];
    const onSignal = createShutdownHandler(t.app, t.app.get<AppLogger>(LOGGER), { drainMs: DRAIN_MS, closeMs: CLOSE_MS, exit: (code) => exits.push({ code, at: Date.now() }) });
    const signalAt = Date.now();
    onSignal('SIGTERM');
    closed = true;

    assert.equal(t.app.get(Lifecycle).shuttingDown, true);
    assert.equal(await t.app.get(HealthService).ready(), false, 'readiness is off from the signal on');
    assert.equal(await tryConnect(port), 'ECONNREFUSED', 'new connections are refused');

    const detected = await Promise.all(detections);
    const uploaded = await Promise.all(uploads);
    const bad: string[] = [];
    for (const d of detected) {
      const ok =
        d.r.status === 200 &&
        (d.danger ? d.r.body?.status === 'DANGER' && d.r.body.alert_created === true && Number.isInteger(d.r.body.alert_id) : d.r.body?.carbon_data?.calculation_result === 0.75);
      rec.timing(CAT, d.end - d.start);
      rec.record(CAT, d.r.status, ok);
      if (!ok || d.end <= signalAt) {
        bad.push(`detection ${d.site.zone.id} [${d.start - signalAt}..${d.end - signalAt} ms] → ${d.r.status} ${d.r.text.slice(0, 120)}`);
      }
    }
    for (const u of uploaded) {
      rec.scan(`POST ${u.isAlert ? '/alerts/' : '/notifications/'} (slow)`, { status: u.r.status, headers: new Headers(), text: u.r.text, bytes: Buffer.from(u.r.text), body: u.r.body });
      const ok = u.r.status === 201 && (u.isAlert ? u.r.body?.heading === u.title : u.r.body?.title === u.title) && Number.isInteger(u.r.body?.id);
      rec.timing(CAT, u.r.end - u.r.start);
      rec.record(CAT, u.r.status, ok);
      if (!ok || u.r.end <= signalAt) {
        bad.push(`${u.title} [${u.r.start - signalAt}..${u.r.end - signalAt} ms] → ${u.r.status} ${u.r.text.slice(0, 120)}`);
      }
    }
    const lastAnswer = Math.max(...detected.map((d) => d.end), ...uploaded.map((u) => u.r.end));
    await until('the shutdown finished', () => exits.length > 0, DRAIN_MS + CLOSE_MS + 2000);
    console.log(
      `[infra-faults] SIGTERM: 30 requests in flight, answers ${JSON.stringify(statusCounts([...detected.map((d) => d.r), ...uploaded.map((u) => u.r)]))}; ` +
        `last answer ${lastAnswer - signalAt} ms after the signal, exit(${exits[0].code}) ${exits[0].at - signalAt} ms after it`,
    );
    assert.deepEqual(bad, [], 'every in-flight request completed after the signal with its normal answer');
    assert.deepEqual(
      exits.map((e) => e.code),
      [0],
    );
    assert.equal(t.ds.isInitialized, false, 'the pool is closed');

    // the rows behind every answer are there
    const ds = await openDataSource(db);
    try {
      const alertIds = [...detected.filter((d) => d.danger).map((d) => d.r.body.alert_id as number), ...uploaded.filter((u) => u.isAlert).map((u) => u.r.body.id as number)];
      const alerts = (await ds.query(`SELECT id FROM lims_alert WHERE id = ANY($1)`, [alertIds])) as unknown[];
      const notes = (await ds.query(`SELECT id FROM lims_notification WHERE title LIKE $1`, [`shutdown-${tag}-%`])) as unknown[];
      const logs = (await ds.query(`SELECT count(*)::int AS n FROM lims_carbonlog WHERE zone_id = ANY($1)`, [normalSites.map((s) => s.zone.id)])) as { n: number }[];
      const complete = alerts.length === 15 && notes.length === 10 && Number(logs[0].n) === 5;
      rec.invariant(CAT, 'every answered request has its row after the shutdown: 15 alerts, 10 notifications, 5 carbon logs', complete);
      assert.equal(alerts.length, 15, 'alerts of the 5 DANGER detections and the 10 creates');
      assert.equal(notes.length, 10, 'notifications');
      assert.equal(Number(logs[0].n), 5, 'carbon logs of the 5 NORMAL detections');
    } finally {
      await ds.destroy();
    }
  });
});
