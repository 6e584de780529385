import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync } from 'node:fs';
import net from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import sharp from 'sharp';
import { countBy, latencyStats, PlannedRequest, runLoad, Sample } from './load';
import { arrivalStats, startReceivers, startStreamClients } from './subscribers';
import { startBareForwarder, startBenchUpstreams } from './upstreams';

/**
 * `npm run bench [-- --scenario sensor|alerts|soak|delivery --duration 30 --connections 80 --zones 2000
 *   --crowd-latency 50 --gemini-latency 300]`
 * Starts the production build as a child process (real PostgreSQL when DATABASE_URL is set, in a
 * fresh database; else the embedded one in a temp dir; Redis when REDIS_URL is set), local
 * upstream stand-ins with injected latency, seeds zones and cameras through the API, drives
 * load, and writes bench-results.json. See docs/performance.md.
 */
interface Options {
  scenario: 'sensor' | 'alerts' | 'soak' | 'delivery';
  duration: number;
  connections: number;
  zones: number;
  crowdLatency: number;
  geminiLatency: number;
  phaseSeconds: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { scenario: 'sensor', duration: 30, connections: 80, zones: 2000, crowdLatency: 50, geminiLatency: 300, phaseSeconds: 10 };
  for (let i = 0; i < argv.length; i += 1) {
    const [k, v] = argv[i].includes('=') ? argv[i].split('=', 2) : [argv[i], argv[i + 1]];
    const take = (): string => {
      if (!argv[i].includes('=')) {
        i += 1;
      }
      return v;
    };
    switch (k) {
      case '--scenario':
        o.scenario = take() as Options['scenario'];
        break;
      case '--duration':
        o.duration = Number(take());
        break;
      case '--connections':
        o.connections = Number(take());
        break;
      case '--zones':
        o.zones = Number(take());
        break;
      case '--crowd-latency':
        o.crowdLatency = Number(take());
        break;
      case '--gemini-latency':
        o.geminiLatency = Number(take());
        break;
      case '--phase-seconds':
        o.phaseSeconds = Number(take());
        break;
      default:
        throw new Error(`unknown flag ${k}`);
    }
  }
  if (o.scenario === 'soak' && !argv.some((a) => a.startsWith('--duration'))) {
    o.duration = 600;
  }
  if (o.scenario === 'alerts' && !argv.some((a) => a.startsWith('--connections'))) {
    o.connections = 200;
  }
  return o;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function json(base: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function pool<T>(items: T[], concurrency: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (i < items.length) {
        const item = items[i++];
        await fn(item);
      }
    }),
  );
}

/** A realistic 1920×1080 camera frame (textured noise, ~0.3–0.5 MB as JPEG), generated once. */
async function frame(): Promise<{ path: string; buf: Buffer }> {
  const path = join(tmpdir(), 'ecoflow-bench-frame-1080p.jpg');
  if (!existsSync(path)) {
    const buf = await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
      .blur(1.2)
      .jpeg({ quality: 85 })
      .toBuffer();
    writeFileSync(path, buf);
  }
  return { path, buf: readFileSync(path) };
}

interface Service {
  base: string;
  proc: ChildProcess;
  logFile: string;
  stop(): Promise<number | null>;
}

async function startService(env: Record<string, string>): Promise<Service> {
  const port = await freePort();
  const logFile = join(tmpdir(), `ecoflow-bench-${process.pid}.log`);
  const fd = openSync(logFile, 'w');
  // BENCH_NODE_FLAGS passes flags to the service only, e.g. "--cpu-prof --cpu-prof-dir=prof"
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...flags, 'dist/main.js'], { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', fd, fd] });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 240; i += 1) {
    if (proc.exitCode !== null) {
      throw new Error(`the service exited with ${proc.exitCode}; see ${logFile}`);
    }
    try {
      const r = await fetch(`${base}/health/ready`);
      if (r.status === 200) {
        return {
          base,
          proc,
          logFile,
          stop: async () => {
            proc.kill('SIGTERM');
            for (let j = 0; j < 150 && proc.exitCode === null; j += 1) {
              await sleep(100);
            }
            if (proc.exitCode === null) {
              proc.kill('SIGKILL');
            }
            return proc.exitCode;
          },
        };
      }
    } catch {
      /* not listening yet */
    }
    await sleep(250);
  }
  throw new Error('the service did not become ready in 60 s');
}

/** Peak RSS (from /proc), heap, event-loop lag and pool waiting, sampled while load runs. */
class Sampler {
  rssPeakMb = 0;
  heapPeakMb = 0;
  lagP99MaxMs = 0;
  poolWaitingPeak = 0;
  rssSeries: Array<{ t: number; mb: number }> = [];
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly svc: Service,
    private readonly token: string,
  ) {}

  start(everyMs: number): void {
    const t0 = Date.now();
    this.timer = setInterval(() => {
      if (this.busy) {
        return;
      }
      this.busy = true;
      void this.sample(t0).finally(() => {
        this.busy = false;
      });
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async sample(t0: number): Promise<void> {
    try {
      const status = readFileSync(`/proc/${this.svc.proc.pid}/status`, 'utf8');
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const mb = rssKb / 1024;
      this.rssPeakMb = Math.max(this.rssPeakMb, mb);
      this.rssSeries.push({ t: (Date.now() - t0) / 1000, mb });
    } catch {
      /* not Linux */
    }
    try {
      const r = await fetch(`${this.svc.base}/metrics`, { headers: { authorization: `Bearer ${this.token}` } });
      if (r.status === 200) {
        const text = await r.text();
        const val = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
        const heap = val(/^nodejs_heap_size_used_bytes\s+([0-9.e+]+)/m);
        const lag = val(/^nodejs_eventloop_lag_p99_seconds\s+([0-9.e+-]+)/m);
        const waiting = val(/^db_pool_connections\{state="waiting"\}\s+([0-9.e+]+)/m);
        if (!Number.isNaN(heap)) {
          this.heapPeakMb = Math.max(this.heapPeakMb, heap / 2 ** 20);
        }
        if (!Number.isNaN(lag)) {
          this.lagP99MaxMs = Math.max(this.lagP99MaxMs, lag * 1000);
        }
        if (!Number.isNaN(waiting)) {
          this.poolWaitingPeak = Math.max(this.poolWaitingPeak, waiting);
        }
      }
    } catch {
      /* a missed sample is fine */
    }
  }
}

/** Hands out zones so that no zone is reused inside its throttle window (any 429 is then a bug). */
class ZoneScheduler {
  private readonly lastUse: number[];
  private i = 0;
  constructor(
    private readonly zones: Array<{ id: number; cameraId: number; key: string }>,
    private readonly windowMs: number,
  ) {
    this.lastUse = zones.map(() => 0);
  }
  async take(): Promise<{ id: number; cameraId: number; key: string }> {
    const idx = this.i;
    this.i = (this.i + 1) % this.zones.length;
    const wait = this.lastUse[idx] + this.windowMs - performance.now();
    if (wait > 0) {
      await sleep(wait);
    }
    this.lastUse[idx] = performance.now();
    return this.zones[idx];
  }
}

function multipart(zoneId: number, cameraId: number, filename: string, image: Buffer): { body: Buffer; type: string } {
  const boundary = `----ecoflowbench${randomBytes(6).toString('hex')}`;
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="zone_id"\r\n\r\n${zoneId}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="camera_id"\r\n\r\n${cameraId}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: image/jpeg\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  return { body: Buffer.concat([Buffer.from(head), image, Buffer.from(tail)]), type: `multipart/form-data; boundary=${boundary}` };
}

function summarize(samples: Sample[], seconds: number, injected: Record<string, number>) {
  const ok = samples.filter((s) => s.status === 200);
  const byKind: Record<string, unknown> = {};
  for (const kind of ['NORMAL', 'DANGER']) {
    const ks = ok.filter((s) => s.kind === kind);
    if (ks.length) {
      const st = latencyStats(ks);
      const inj = injected[kind] ?? 0;
      const overhead = ks.map((s) => s.latencyMs - inj).sort((a, b) => a - b);
      byKind[kind] = {
        count: ks.length,
        latency_ms: round(st),
        overhead_ms: { p50: r1(overhead[Math.floor(overhead.length * 0.5)]), p99: r1(overhead[Math.min(overhead.length - 1, Math.ceil(overhead.length * 0.99) - 1)]) },
      };
    }
  }
  return {
    requests: samples.length,
    requests_per_sec: r1(samples.length / seconds),
    latency_ms: round(latencyStats(samples)),
    statuses: countBy(samples, (s) => String(s.status)),
    carbon_errors: samples.filter((s) => s.carbonError).length,
    by_path: byKind,
  };
}

const r1 = (n: number): number => Math.round(n * 10) / 10;
const round = (o: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, r1(v)]));

function slopeMbPerMin(series: Array<{ t: number; mb: number }>, warmupSec: number): number {
  const pts = series.filter((p) => p.t >= warmupSec);
  if (pts.length < 3) {
    return NaN;
  }
  const n = pts.length;
  const mt = pts.reduce((a, p) => a + p.t, 0) / n;
  const mm = pts.reduce((a, p) => a + p.mb, 0) / n;
  const num = pts.reduce((a, p) => a + (p.t - mt) * (p.mb - mm), 0);
  const den = pts.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  return (num / den) * 60;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const out: Record<string, unknown> = {
    scenario: o.scenario,
    options: o,
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model, mem_gb: r1(totalmem() / 2 ** 30), node: process.version },
    database: process.env.DATABASE_URL ? 'postgres' : 'embedded',
    redis: Boolean(process.env.REDIS_URL),
    started_at: new Date().toISOString(),
  };
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const img = await frame();
    const up = await startBenchUpstreams(o.crowdLatency, o.geminiLatency);
    cleanups.push(() => up.close());

    const env: Record<string, string> = {
      NODE_ENV: 'production',
      JWT_SECRET: randomBytes(32).toString('hex'),
      CROWD_PREDICT_URL: up.crowdUrl,
      GEMINI_BASE_URL: up.geminiUrl,
      GEMINI_API_KEY: 'bench',
      LOG_LEVEL: 'info',
      REDIS_KEY_PREFIX: `ecoflow-bench:${process.pid}:`,
      // the delivery scenario's receivers listen on loopback over plain HTTP
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_ALLOW_HTTP: 'true',
    };
    if (process.env.DATABASE_URL) {
      const name = `ecoflow_bench_${process.pid}`;
      const admin = new Client({ connectionString: process.env.DATABASE_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const u = new URL(process.env.DATABASE_URL);
      u.pathname = `/${name}`;
      env.DATABASE_URL = u.toString();
      cleanups.push(async () => {
        const c = new Client({ connectionString: process.env.DATABASE_URL });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      });
    } else {
      // production refuses the embedded database; the bench runs it as development on purpose
      env.NODE_ENV = 'development';
      const dir = mkdtempSync(join(tmpdir(), 'ecoflow-bench-db-'));
      env.EMBEDDED_DB_DIR = dir;
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    }
    console.log(`starting the service (${out.database} database${out.redis ? ', Redis' : ''}) …`);
    const svc = await startService(env);
    cleanups.unshift(async () => {
      out.service_exit_code = await svc.stop();
    });

    const email = 'bench-admin@example.com';
    await json(svc.base, 'POST', '/auth/register/', { email, password: 'bench-password-1' });
    const login = await json(svc.base, 'POST', '/auth/login/', { email, password: 'bench-password-1' });
    const token = login.body.access as string;
    const org = await json(svc.base, 'POST', '/organizations/', { name: 'Bench', org_type: 'BENCH' }, token);

    const zoneCount = o.scenario === 'alerts' ? 500 : o.zones;
    console.log(`seeding ${zoneCount} zones …`);
    const zones: Array<{ id: number; cameraId: number; key: string }> = [];
    const seedStart = performance.now();
    await pool([...Array(zoneCount).keys()], 16, async (i) => {
      const z = await json(svc.base, 'POST', '/zones/', { name: `Zone ${i}`, zone_type: 'ROOM', organization_id: org.body.id, capacity: 10 }, token);
      if (o.scenario === 'alerts') {
        zones.push({ id: z.body.id, cameraId: 0, key: '' });
        return;
      }
      const c = await json(svc.base, 'POST', '/cameras/', { name: `Cam ${i}`, zone_id: z.body.id }, token);
      zones.push({ id: z.body.id, cameraId: c.body.id, key: c.body.device_key });
    });
    out.seed_seconds = r1((performance.now() - seedStart) / 1000);

    const sampler = new Sampler(svc, token);
    if (o.scenario === 'alerts') {
      console.log('seeding 10 000 alerts …');
      const items = [...Array(10000).keys()];
      await pool(items, 16, async (i) => {
        const zone = zones[i % zones.length];
        await json(svc.base, 'POST', '/alerts/', { heading: `Overcrowding in Zone ${i}`, sub_heading: `Detected 9/10 people. (Cam: None)`, zone_id: zone.id, status: i < zones.length ? 'OPEN' : 'CLOSED' }, token);
      });
      sampler.start(500);
      console.log(`alerts: ${o.connections} dashboards polling GET /alerts/?status=OPEN for ${o.duration} s …`);
      const res = await runLoad({
        baseUrl: svc.base,
        connections: o.connections,
        durationSec: o.duration,
        next: () => ({ method: 'GET', path: '/alerts/?status=OPEN', headers: { authorization: `Bearer ${token}` }, tag: 'alerts' }),
      });
      sampler.stop();
      out.alerts = summarize(res.samples, res.durationSec, {});
    } else {
      const scheduler = new ZoneScheduler(zones, 2200);
      let n = 0;
      const plan = (mode: 'mix' | 'normal' | 'danger') => async (): Promise<PlannedRequest> => {
        const z = await scheduler.take();
        n += 1;
        const danger = mode === 'danger' || (mode === 'mix' && n % 5 === 0);
        const m = multipart(z.id, z.cameraId, `capture-${n}${danger ? '-danger' : ''}.jpg`, img.buf);
        return { method: 'POST', path: '/sensor/detect/', headers: { 'content-type': m.type, 'x-device-key': z.key }, body: m.body, tag: danger ? 'DANGER' : 'NORMAL' };
      };
      const injected = { NORMAL: o.crowdLatency + o.geminiLatency, DANGER: o.crowdLatency };
      console.log('warm-up 3 s …');
      await runLoad({ baseUrl: svc.base, connections: o.connections, durationSec: 3, next: plan('mix') });
      sampler.start(o.scenario === 'soak' ? 5000 : 500);
      console.log(`${o.scenario}: mix 80 % NORMAL / 20 % DANGER, ${o.connections} connections, ${o.duration} s …`);
      const mix = await runLoad({ baseUrl: svc.base, connections: o.connections, durationSec: o.duration, next: plan('mix'), parseBody: true });
      sampler.stop();
      out.mix = summarize(mix.samples, mix.durationSec, injected);
      if (o.scenario === 'delivery') {
        // A–B–A: the mix without subscribers before and after the run with them, so drift
        // between phases (a growing database, a warming cache) does not count as their cost
        await closeOpenAlerts(svc.base, token);
        const receivers = await startReceivers(3);
        cleanups.push(() => receivers.close());
        const hookIds: number[] = [];
        for (const url of receivers.urls) {
          const w = await json(svc.base, 'POST', '/webhooks/', { url }, token);
          if (w.status !== 201) {
            throw new Error(`POST /webhooks/ answered ${w.status}: ${JSON.stringify(w.body)}`);
          }
          hookIds.push(w.body.id as number);
        }
        const streams = await startStreamClients(svc.base, token, 200);
        cleanups.push(async () => streams.close());
        const lastBefore = await lastEventId(svc.base, token);
        console.log(`delivery: the same mix with 3 webhooks and 200 stream clients attached, ${o.duration} s …`);
        const attached = await runLoad({ baseUrl: svc.base, connections: o.connections, durationSec: o.duration, next: plan('mix'), parseBody: true });
        out.mix_with_subscribers = summarize(attached.samples, attached.durationSec, injected);
        // let deliveries of the last events land before counting
        await sleep(3000);
        const ids = new Set(await eventIdsAfter(svc.base, token, lastBefore));
        streams.close();
        for (const id of hookIds) {
          await json(svc.base, 'DELETE', `/webhooks/${id}/`, undefined, token);
        }
        await closeOpenAlerts(svc.base, token);
        console.log(`delivery: the mix again without subscribers, ${o.duration} s …`);
        const after = await runLoad({ baseUrl: svc.base, connections: o.connections, durationSec: o.duration, next: plan('mix'), parseBody: true });
        out.mix_after = summarize(after.samples, after.durationSec, injected);
        const okRps = (r: { samples: Sample[]; durationSec: number }): number => r.samples.filter((x) => x.status === 200).length / r.durationSec;
        out.delivery = {
          events: ids.size,
          throughput_with_over_without: Math.round((okRps(attached) / ((okRps(mix) + okRps(after)) / 2)) * 100) / 100,
          without_before_and_after_req_s: [r1(okRps(mix)), r1(okRps(after))],
          webhook_event_to_receiver: arrivalStats(receivers.arrivals, ids),
          stream_event_to_client: arrivalStats(streams.arrivals, ids),
        };
      } else if (o.scenario === 'soak') {
        out.soak = { rss_slope_mb_per_min_after_60s: r1(slopeMbPerMin(sampler.rssSeries, 60) * 100) / 100, pool_ever_waited: sampler.poolWaitingPeak > 0, rss_series: sampler.rssSeries };
      } else {
        console.log(`NORMAL only, ${o.phaseSeconds} s …`);
        const normal = await runLoad({ baseUrl: svc.base, connections: o.connections, durationSec: o.phaseSeconds, next: plan('normal'), parseBody: true });
        console.log(`DANGER only, ${o.phaseSeconds} s …`);
        const danger = await runLoad({ baseUrl: svc.base, connections: o.connections, durationSec: o.phaseSeconds, next: plan('danger'), parseBody: true });
        out.normal_only = summarize(normal.samples, normal.durationSec, injected);
        out.danger_only = summarize(danger.samples, danger.durationSec, injected);

        console.log(`ceiling: resize only, ${o.phaseSeconds} s …`);
        const ceiling = await new Promise<{ opsPerSec: number }>((resolve, reject) => {
          const p = spawn(process.execPath, [join(__dirname, 'resize-ceiling.js'), img.path, String(o.connections), String(o.phaseSeconds)], { env: process.env });
          let s = '';
          p.stdout.on('data', (c: Buffer) => (s += c.toString()));
          p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(s) as { opsPerSec: number }) : reject(new Error(`resize ceiling exited ${code}`))));
        });
        console.log(`ceiling: bare forwarder, ${o.phaseSeconds} s …`);
        const fwd = await startBareForwarder(up.crowdUrl);
        cleanups.push(() => fwd.close());
        const fwdRes = await runLoad({
          baseUrl: fwd.url,
          connections: o.connections,
          durationSec: o.phaseSeconds,
          next: () => {
            const m = multipart(1, 1, 'capture-danger.jpg', img.buf);
            return { method: 'POST', path: '/predict', headers: { 'content-type': m.type }, body: m.body, tag: 'forward' };
          },
        });
        const normalRps = normal.samples.filter((s) => s.status === 200).length / normal.durationSec;
        const dangerRps = danger.samples.filter((s) => s.status === 200).length / danger.durationSec;
        const fwdRps = fwdRes.samples.filter((s) => s.status === 200).length / fwdRes.durationSec;
        out.ceilings = {
          resize_ops_per_sec: r1(ceiling.opsPerSec),
          forwarder_requests_per_sec: r1(fwdRps),
          normal_path_throughput_over_resize_ceiling: Math.round((normalRps / ceiling.opsPerSec) * 100) / 100,
          danger_path_throughput_over_bare_forwarder: Math.round((dangerRps / fwdRps) * 100) / 100,
        };
      }
    }
    out.peak_rss_mb = r1(sampler.rssPeakMb);
    out.peak_heap_used_mb = r1(sampler.heapPeakMb);
    out.event_loop_lag_p99_max_ms = r1(sampler.lagP99MaxMs);
    out.db_pool_waiting_peak = sampler.poolWaitingPeak;
  } finally {
    for (const c of cleanups) {
      await c().catch(() => undefined);
    }
  }
  out.finished_at = new Date().toISOString();
  writeFileSync('bench-results.json', `${JSON.stringify(out, null, 2)}\n`);
  printTable(out);
}

/** Closes every open alert, so the next phase opens (and tells) new ones. */
async function closeOpenAlerts(base: string, token: string): Promise<void> {
  for (;;) {
    const r = await json(base, 'GET', '/alerts/?status=OPEN&limit=500', undefined, token);
    const open = r.body as Array<{ id: number }>;
    if (!open.length) {
      return;
    }
    await pool(open, 16, async (a) => {
      await json(base, 'PATCH', `/alerts/${a.id}/`, { status: 'CLOSED' }, token);
    });
  }
}

async function eventIdsAfter(base: string, token: string, after: number): Promise<number[]> {
  const ids: number[] = [];
  for (;;) {
    const r = await json(base, 'GET', `/events/?after=${after}&limit=500`, undefined, token);
    const page = r.body as Array<{ id: number }>;
    if (!page.length) {
      return ids;
    }
    ids.push(...page.map((e) => e.id));
    after = page[page.length - 1].id;
  }
}

async function lastEventId(base: string, token: string): Promise<number> {
  const ids = await eventIdsAfter(base, token, 0);
  return ids.length ? ids[ids.length - 1] : 0;
}

function printTable(out: Record<string, any>): void {
  const rows: Array<[string, string]> = [];
  const add = (k: string, v: unknown): void => {
    rows.push([k, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
  };
  for (const phase of ['mix', 'mix_with_subscribers', 'mix_after', 'normal_only', 'danger_only', 'alerts']) {
    const p = out[phase];
    if (p) {
      add(`${phase} req/s`, p.requests_per_sec);
      add(`${phase} latency ms p50/p90/p99`, `${p.latency_ms.p50} / ${p.latency_ms.p90} / ${p.latency_ms.p99}`);
      add(`${phase} statuses`, p.statuses);
      for (const [k, v] of Object.entries(p.by_path ?? {})) {
        add(`${phase} ${k} overhead ms p50/p99`, `${(v as any).overhead_ms.p50} / ${(v as any).overhead_ms.p99}`);
      }
    }
  }
  for (const k of ['ceilings', 'soak', 'delivery']) {
    if (out[k]) {
      for (const [kk, v] of Object.entries(out[k] as object)) {
        if (kk !== 'rss_series') {
          add(kk, v);
        }
      }
    }
  }
  for (const k of ['peak_rss_mb', 'peak_heap_used_mb', 'event_loop_lag_p99_max_ms', 'db_pool_waiting_peak', 'seed_seconds']) {
    add(k, out[k]);
  }
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log('\n' + rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n'));
  console.log('\nwritten: bench-results.json');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
