import { ChildProcess, spawn } from 'node:child_process';
import { Agent } from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client, Pool } from 'pg';
import sharp from 'sharp';
import { loadBulkData } from './bulk-data';
import { countBy, latencyStats, PlannedRequest, runLoad, Sample } from './load';
import { type Dashboard, openLoopStats, runOpenLoop, runOpenLoopRate } from './open-loop';
import { closedLoop, Getter, type ReadStats } from './read-latency';
import { arrivalStats, startReceivers, startStreamClients } from './subscribers';
import { startBareForwarder, startBenchUpstreams } from './upstreams';

/**
 * `npm run bench [-- --scenario sensor|alerts|soak|delivery|lifecycle|occupancy|polling --duration 30 --connections 80
 *   --zones 2000 --crowd-latency 50 --gemini-latency 300 --readings 10000000 --carbon-logs 20000000
 *   --read-connections 10 --dashboards 2000 --board-path /occupancy/?limit=100]`
 * Starts the production build as a child process (real PostgreSQL when DATABASE_URL is set, in a
 * fresh database; else the embedded one in a temp dir; Redis when REDIS_URL is set), local
 * upstream stand-ins with injected latency, seeds zones and cameras through the API, drives
 * load, and writes bench-results.json. See docs/performance.md.
 */
interface Options {
  scenario: 'sensor' | 'alerts' | 'soak' | 'delivery' | 'lifecycle' | 'occupancy' | 'polling' | 'sizing';
  duration: number;
  connections: number;
  zones: number;
  crowdLatency: number;
  geminiLatency: number;
  phaseSeconds: number;
  /** occupancy scenario: rows in ecoflow_reading and lims_carbonlog, closed-loop readers */
  readings: number;
  carbonLogs: number;
  readConnections: number;
  /** lifecycle scenario: settings for the "on" phase besides the defaults (to attribute its cost), e.g. SNAPSHOT_RETENTION_DAYS=0 */
  onEnv: Record<string, string>;
  /** polling scenario: simulated dashboards (each polls every 10 s) and the board path they poll */
  dashboards: number;
  boardPath: string;
  /** sensor/alerts/soak/polling: WEB_CONCURRENCY values to run one after another in this run (e.g. 1,2); empty = the service's default */
  processes: string[];
  /** sizing scenario: open-loop upload rates to try, uploads/s */
  rates: number[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { scenario: 'sensor', duration: 30, connections: 80, zones: 2000, crowdLatency: 50, geminiLatency: 300, phaseSeconds: 10, readings: 10_000_000, carbonLogs: 20_000_000, readConnections: 10, onEnv: {}, dashboards: 2000, boardPath: '/occupancy/?limit=100', processes: [], rates: [] };
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
      case '--readings':
        o.readings = Number(take());
        break;
      case '--carbon-logs':
        o.carbonLogs = Number(take());
        break;
      case '--read-connections':
        o.readConnections = Number(take());
        break;
      case '--dashboards':
        o.dashboards = Number(take());
        break;
      case '--board-path':
        o.boardPath = take();
        break;
      case '--processes':
        o.processes = take().split(',').filter(Boolean);
        break;
      case '--rates':
        o.rates = take().split(',').filter(Boolean).map(Number);
        break;
      case '--on-env':
        o.onEnv = Object.fromEntries(
          take()
            .split(',')
            .filter(Boolean)
            .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
        );
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
  if (o.scenario === 'occupancy' && !argv.some((a) => a.startsWith('--phase-seconds'))) {
    o.phaseSeconds = 15;
  }
  if ((o.scenario === 'polling' || o.scenario === 'sizing') && !argv.some((a) => a.startsWith('--phase-seconds'))) {
    o.phaseSeconds = 20;
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

/** An `undefined` value removes the variable from the service's environment (its default applies). */
async function startService(env: Record<string, string | undefined>, label = ''): Promise<Service> {
  const port = await freePort();
  const logFile = join(tmpdir(), `ecoflow-bench-${process.pid}${label ? `-${label}` : ''}.log`);
  const fd = openSync(logFile, 'w');
  // BENCH_NODE_FLAGS passes flags to the service only, e.g. "--cpu-prof --cpu-prof-dir=prof"
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env, PORT: String(port) };
  for (const [k, v] of Object.entries(childEnv)) {
    if (v === undefined) {
      delete childEnv[k];
    }
  }
  // BENCH_SERVICE_MAIN: another build of the service (e.g. one that a concurrent `npm run build` cannot touch mid-run)
  const proc = spawn(process.execPath, [...flags, process.env.BENCH_SERVICE_MAIN ?? 'dist/main.js'], { env: childEnv, stdio: ['ignore', fd, fd] });
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

/** The service of a scenario, stopped (its exit code recorded) with the scenario's other cleanups. */
async function startScenarioService(env: Record<string, string | undefined>, label: string, out: Record<string, unknown>, cleanups: Array<() => Promise<unknown>>): Promise<Service> {
  const svc = await startService(env, label);
  cleanups.unshift(async () => {
    out.service_exit_code = await svc.stop();
  });
  return svc;
}

/** Peak RSS (from /proc), heap, event-loop lag and pool waiting, sampled while load runs. */
class Sampler {
  rssPeakMb = 0;
  /**
   * The instance's memory at the sample with the highest proportional set size: shared pages
   * (the node binary, libvips, pages the workers share after fork) counted once, as the
   * container's memory limit counts them; anonymous = heap, buffers, allocator arenas.
   */
  memoryAtPeak: { pss_mb: number; anonymous_mb: number; file_backed_mb: number; processes: number; heap_total_mb: number; heap_used_mb: number; external_mb: number } | null = null;
  private pssPeak = 0;
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
    // the whole instance: with WEB_CONCURRENCY > 1 the primary and every worker
    const mb = treeRssMb(this.svc.proc.pid!);
    if (!Number.isNaN(mb)) {
      this.rssPeakMb = Math.max(this.rssPeakMb, mb);
      this.rssSeries.push({ t: (Date.now() - t0) / 1000, mb });
    }
    const rollup = treeSmaps(this.svc.proc.pid!);
    let newPeak = false;
    if (rollup && rollup.pss > this.pssPeak) {
      this.pssPeak = rollup.pss;
      newPeak = true;
      this.memoryAtPeak = { pss_mb: r1(rollup.pss), anonymous_mb: r1(rollup.anon), file_backed_mb: r1(rollup.pssFile), processes: rollup.processes, heap_total_mb: NaN, heap_used_mb: NaN, external_mb: NaN };
    }
    try {
      const r = await fetch(`${this.svc.base}/metrics`, { headers: { authorization: `Bearer ${this.token}` } });
      if (r.status === 200) {
        const text = await r.text();
        const val = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
        const heap = val(/^nodejs_heap_size_used_bytes\s+([0-9.e+]+)/m);
        if (newPeak && this.memoryAtPeak) {
          this.memoryAtPeak.heap_used_mb = r1(heap / 2 ** 20);
          this.memoryAtPeak.heap_total_mb = r1(val(/^nodejs_heap_size_total_bytes\s+([0-9.e+]+)/m) / 2 ** 20);
          this.memoryAtPeak.external_mb = r1(val(/^nodejs_external_memory_bytes\s+([0-9.e+]+)/m) / 2 ** 20);
        }
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
    if (o.scenario === 'lifecycle') {
      await lifecycleScenario(o, env, out, cleanups, img.buf);
    } else if (o.scenario === 'occupancy') {
      await occupancyScenario(o, env, out, cleanups);
    } else if (o.scenario === 'polling') {
      await pollingScenario(o, env, out, cleanups, img.buf);
    } else if (o.scenario === 'sizing') {
      await sizingScenario(o, env, out, cleanups, img.buf);
    } else if (o.processes.length > 1) {
      // one run, one database, the same load for each process count: figures side by side
      const byProcesses: Record<string, Record<string, unknown>> = {};
      out.by_processes = byProcesses;
      for (const [i, p] of o.processes.entries()) {
        const sub: Record<string, unknown> = { database: out.database, redis: out.redis };
        // "1,2,1" (A–B–A) keeps both runs of 1
        byProcesses[o.processes.indexOf(p) === i ? p : `${p} (run ${i + 1})`] = sub;
        await standardScenario(o, { ...env, WEB_CONCURRENCY: p }, sub, cleanups, img, up);
        printTable(sub);
      }
    } else {
      await standardScenario(o, o.processes.length ? { ...env, WEB_CONCURRENCY: o.processes[0] } : env, out, cleanups, img, up);
    }
  } finally {
    for (const c of cleanups) {
      await c().catch(() => undefined);
    }
  }
  out.finished_at = new Date().toISOString();
  writeFileSync('bench-results.json', `${JSON.stringify(out, null, 2)}\n`);
  printTable(out);
}


type BenchZone = { id: number; cameraId: number; key: string };

/** `n` zones of capacity 10 in `orgId`, each with one keyed camera, created through the API. */
async function seedZonesWithCameras(base: string, token: string, orgId: number, n: number): Promise<BenchZone[]> {
  console.log(`seeding ${n} zones with cameras …`);
  const zones: BenchZone[] = [];
  await pool([...Array(n).keys()], 16, async (i) => {
    const z = await json(base, 'POST', '/zones/', { name: `Zone ${i}`, zone_type: 'ROOM', organization_id: orgId, capacity: 10 }, token);
    const c = await json(base, 'POST', '/cameras/', { name: `Cam ${i}`, zone_id: z.body.id }, token);
    zones.push({ id: z.body.id, cameraId: c.body.id, key: c.body.device_key });
  });
  return zones;
}

/**
 * `--scenario sizing [--rates 20,40,… --phase-seconds 20 --processes N]`: the 80/20 sensor mix
 * sent open loop (cameras do not wait for each other) at rising upload rates, each for
 * `phaseSeconds` after a 3 s warm-up, until p99 (from the scheduled send time) passes 1 s or
 * more than 1 % fail. The highest rate that held is the instance's camera capacity.
 */
async function sizingScenario(o: Options, env: Record<string, string>, out: Record<string, unknown>, cleanups: Array<() => Promise<unknown>>, image: Buffer): Promise<void> {
  const rates = o.rates.length ? o.rates : [20, 40, 60, 80, 100, 120, 140, 160];
  const svcEnv = o.processes.length ? { ...env, WEB_CONCURRENCY: o.processes[0] } : env;
  console.log(`sizing: starting the service${svcEnv.WEB_CONCURRENCY ? ` (WEB_CONCURRENCY=${svcEnv.WEB_CONCURRENCY})` : ''} …`);
  const svc = await startScenarioService(svcEnv, 'sizing', out, cleanups);
  const { token, orgId } = await adminSession(svc.base, true);
  const zones = await seedZonesWithCameras(svc.base, token, orgId, o.zones);
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  cleanups.push(async () => agent.destroy());
  let n = 0;
  // round robin over the zones: a zone comes back every zones/rate seconds, above the 2 s throttle up to ~900/s
  const next = (): PlannedRequest => {
    const z = zones[n % zones.length];
    n += 1;
    const danger = n % 5 === 0;
    const m = multipart(z.id, z.cameraId, `capture-${n}${danger ? '-danger' : ''}.jpg`, image);
    return { method: 'POST', path: '/sensor/detect/', headers: { 'content-type': m.type, 'x-device-key': z.key }, body: m.body, tag: danger ? 'DANGER' : 'NORMAL' };
  };
  const steps: Array<Record<string, unknown>> = [];
  out.sizing_steps = steps;
  let held = 0;
  for (const rate of rates) {
    await closeOpenAlerts(svc.base, token);
    await sleep(2000);
    console.log(`sizing: ${rate} uploads/s open loop, ${o.phaseSeconds} s …`);
    const sampler = new Sampler(svc, token);
    sampler.start(500);
    const cpu0 = { svc: procCpuMs(svc.proc.pid!), t: performance.now() };
    const r = await runOpenLoopRate({ baseUrl: svc.base, ratePerSec: rate, warmupSec: 3, durationSec: o.phaseSeconds, next, agent });
    sampler.stop();
    const stats = openLoopStats(r.samples, o.phaseSeconds, r.scheduled) as Record<string, any>;
    const failed = r.samples.filter((x) => x.status !== 200).length;
    const p99 = stats.latency_ms.p99 as number;
    const ok = p99 <= 1000 && failed <= r.samples.length * 0.01;
    steps.push({
      rate,
      p50_ms: stats.latency_ms.p50,
      p99_ms: p99,
      statuses: stats.statuses,
      by_kind: Object.fromEntries(Object.entries(stats.by_list as Record<string, any>).map(([k, v]) => [k, v.latency_ms])),
      service_cores: Math.round(((procCpuMs(svc.proc.pid!) - cpu0.svc) / (performance.now() - cpu0.t)) * 100) / 100,
      peak_rss_mb: r1(sampler.rssPeakMb),
      peak_pss_mb: sampler.memoryAtPeak?.pss_mb,
      db_pool_waiting_peak: sampler.poolWaitingPeak,
      held: ok,
    });
    console.log(`  p50 ${stats.latency_ms.p50} ms, p99 ${p99} ms, ${JSON.stringify(stats.statuses)}, ${ok ? 'held' : 'did not hold'}`);
    if (!ok) {
      break;
    }
    held = rate;
  }
  out.sizing = {
    highest_rate_p99_within_1s: held,
    cameras_at_one_frame_every_2s: held * 2,
    cameras_at_one_frame_every_10s: held * 10,
    cameras_at_one_frame_every_30s: held * 30,
  };
}

/** The sensor, alerts, soak and delivery scenarios on one service (started and stopped here). */
async function standardScenario(
  o: Options,
  env: Record<string, string>,
  out: Record<string, unknown>,
  cleanups: Array<() => Promise<unknown>>,
  img: { path: string; buf: Buffer },
  up: { crowdUrl: string },
): Promise<void> {
  console.log(`starting the service (${out.database} database${out.redis ? ', Redis' : ''}${env.WEB_CONCURRENCY ? `, WEB_CONCURRENCY=${env.WEB_CONCURRENCY}` : ''}) …`);
  const svc = await startService(env, env.WEB_CONCURRENCY ? `p${env.WEB_CONCURRENCY}` : '');
  try {
    await runStandard(o, svc, out, cleanups, img, up);
  } finally {
    out.service_exit_code = await svc.stop();
  }
}

async function runStandard(
  o: Options,
  svc: Service,
  out: Record<string, unknown>,
  cleanups: Array<() => Promise<unknown>>,
  img: { path: string; buf: Buffer },
  up: { crowdUrl: string },
): Promise<void> {

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
  out.memory_at_peak = sampler.memoryAtPeak;
  out.peak_heap_used_mb = r1(sampler.heapPeakMb);
  out.event_loop_lag_p99_max_ms = r1(sampler.lagP99MaxMs);
  out.db_pool_waiting_peak = sampler.poolWaitingPeak;
}

/** The bench admin (registered on first call), its token and the bench organization. */
async function adminSession(base: string, createOrg: boolean): Promise<{ token: string; orgId: number }> {
  const email = 'bench-admin@example.com';
  await json(base, 'POST', '/auth/register/', { email, password: 'bench-password-1' });
  const login = await json(base, 'POST', '/auth/login/', { email, password: 'bench-password-1' });
  const token = login.body.access as string;
  if (!createOrg) {
    return { token, orgId: 0 };
  }
  const org = await json(base, 'POST', '/organizations/', { name: 'Bench', org_type: 'BENCH' }, token);
  return { token, orgId: org.body.id as number };
}

/** The 80/20 sensor mix of the sensor scenario: every fifth upload is named so the crowd stand-in answers DANGER. */
function mixPlanner(scheduler: ZoneScheduler, image: Buffer): () => Promise<PlannedRequest> {
  let n = 0;
  return async () => {
    const z = await scheduler.take();
    n += 1;
    const danger = n % 5 === 0;
    const m = multipart(z.id, z.cameraId, `capture-${n}${danger ? '-danger' : ''}.jpg`, image);
    return { method: 'POST', path: '/sensor/detect/', headers: { 'content-type': m.type, 'x-device-key': z.key }, body: m.body, tag: danger ? 'DANGER' : 'NORMAL' };
  };
}

/** A process and its descendants (the cluster primary's workers), from /proc (Linux). */
function processTree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (/^\d+$/.test(d)) {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      } catch {
        /* gone */
      }
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i += 1) {
    for (const [pid, ppid] of parent) {
      if (ppid === out[i]) {
        out.push(pid);
      }
    }
  }
  return out;
}

/** Resident memory of a process and its descendants, MB; NaN off Linux. */
function treeRssMb(root: number): number {
  let kb = 0;
  try {
    for (const pid of processTree(root)) {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    }
  } catch {
    return NaN;
  }
  return kb / 1024;
}

/** Proportional and anonymous memory of a process and its descendants, MB, from smaps_rollup (Linux). */
function treeSmaps(root: number): { pss: number; anon: number; pssFile: number; processes: number } | null {
  try {
    const pids = processTree(root);
    let pss = 0;
    let anon = 0;
    let pssFile = 0;
    for (const pid of pids) {
      const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? 0);
      pss += kb('Pss');
      anon += kb('Anonymous');
      pssFile += kb('Pss_File');
    }
    return { pss: pss / 1024, anon: anon / 1024, pssFile: pssFile / 1024, processes: pids.length };
  } catch {
    return null;
  }
}

/** utime + stime of a process and its descendants, from /proc (Linux; clock ticks of 10 ms). */
function procCpuMs(root: number): number {
  try {
    let ms = 0;
    for (const pid of processTree(root)) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ms += (Number(f[11]) + Number(f[12])) * 10;
    }
    return ms;
  } catch {
    return NaN;
  }
}

/** The machine's busy and total CPU time over all cores since boot, from /proc/stat. */
function machineCpuMs(): { busy: number; total: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: (total - f[3] - f[4]) * 10, total: total * 10 };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

/** Readings and the alert lifecycle switched off (issue #15's "off"); "on" is every default. */
const LIFECYCLE_OFF: Record<string, string> = {
  RECORD_READINGS: 'false',
  ALERT_AUTO_RESOLVE_AFTER: '0',
  ALERT_REMIND_EVERY: '0',
  SNAPSHOT_RETENTION_DAYS: '0',
};

/**
 * `--scenario lifecycle`: the sensor mix off, on, off (A–B–A, like delivery), the service
 * restarted with the phase's settings on the same database; the ratio compares "on" with the
 * mean of the two "off" phases, so drift between phases (a growing database) does not count.
 * Open alerts are closed before each phase, so each phase opens (and, when on, snapshots) new ones.
 */
async function lifecycleScenario(o: Options, env: Record<string, string>, out: Record<string, unknown>, cleanups: Array<() => Promise<unknown>>, image: Buffer): Promise<void> {
  if (!env.DATABASE_URL) {
    throw new Error('--scenario lifecycle needs DATABASE_URL (PostgreSQL)');
  }
  const on: Record<string, string | undefined> = { ...Object.fromEntries(Object.keys(LIFECYCLE_OFF).map((k) => [k, undefined])), ...o.onEnv };
  console.log('lifecycle: starting the service with readings and lifecycle off …');
  let svc = await startService({ ...env, ...LIFECYCLE_OFF }, 'off_before');
  cleanups.unshift(async () => {
    out.service_exit_code = await svc.stop();
  });
  let { token } = await adminSession(svc.base, false);
  const org = await json(svc.base, 'POST', '/organizations/', { name: 'Bench', org_type: 'BENCH' }, token);
  const seedStart = performance.now();
  const zones = await seedZonesWithCameras(svc.base, token, org.body.id as number, o.zones);
  out.seed_seconds = r1((performance.now() - seedStart) / 1000);
  const db = new Client({ connectionString: env.DATABASE_URL });
  await db.connect();
  cleanups.unshift(() => db.end());
  const counts = async (): Promise<Record<string, number>> => {
    const r = await db.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM ecoflow_reading) AS readings, (SELECT count(*) FROM ecoflow_alert_snapshot) AS snapshots, (SELECT count(*) FROM lims_alert) AS alerts`,
    );
    return Object.fromEntries(Object.entries(r.rows[0]).map(([k, v]) => [k, Number(v)]));
  };

  const scheduler = new ZoneScheduler(zones, 2200);
  const next = mixPlanner(scheduler, image);
  const injected = { NORMAL: o.crowdLatency + o.geminiLatency, DANGER: o.crowdLatency };
  const phases: Array<{ name: 'off_before' | 'on' | 'off_after'; env: Record<string, string | undefined> }> = [
    { name: 'off_before', env: LIFECYCLE_OFF },
    { name: 'on', env: on },
    { name: 'off_after', env: LIFECYCLE_OFF },
  ];
  const okRps: Record<string, number> = {};
  const cpu: Record<string, Record<string, number>> = {};
  const written: Record<string, Record<string, number>> = {};
  const peaks: Record<string, Record<string, number>> = {};
  for (const [i, p] of phases.entries()) {
    if (i > 0) {
      await svc.stop();
      console.log(`lifecycle: restarting the service, readings and lifecycle ${p.name === 'on' ? 'on (defaults)' : 'off'} …`);
      svc = await startService({ ...env, ...p.env }, p.name);
      ({ token } = await adminSession(svc.base, false));
    }
    await closeOpenAlerts(svc.base, token);
    console.log('warm-up 3 s …');
    await runLoad({ baseUrl: svc.base, connections: o.connections, durationSec: 3, next });
    const before = await counts();
    const cpu0 = { svc: procCpuMs(svc.proc.pid!), self: process.cpuUsage(), machine: machineCpuMs(), t: performance.now() };
    const sampler = new Sampler(svc, token);
    sampler.start(500);
    console.log(`lifecycle ${p.name}: mix 80 % NORMAL / 20 % DANGER, ${o.connections} connections, ${o.duration} s …`);
    const res = await runLoad({ baseUrl: svc.base, connections: o.connections, durationSec: o.duration, next, parseBody: true });
    sampler.stop();
    const wallMs = performance.now() - cpu0.t;
    const svcMs = procCpuMs(svc.proc.pid!) - cpu0.svc;
    const self = process.cpuUsage(cpu0.self);
    const selfMs = (self.user + self.system) / 1000;
    const m = machineCpuMs();
    const busyMs = m.busy - cpu0.machine.busy;
    const oks = res.samples.filter((x) => x.status === 200).length;
    // where the two cores went: the service, this process (load generator and stand-ins), and the
    // rest (PostgreSQL, Redis, and whatever else runs on the machine)
    cpu[p.name] = {
      service_cpu_ms_per_detection: r1(svcMs / Math.max(1, oks)),
      service_cores: Math.round((svcMs / wallMs) * 100) / 100,
      bench_process_cores: Math.round((selfMs / wallMs) * 100) / 100,
      rest_cores: Math.round(((busyMs - svcMs - selfMs) / wallMs) * 100) / 100,
      machine_busy_pct: Math.round((busyMs / (m.total - cpu0.machine.total)) * 100),
    };
    const after = await counts();
    out[`mix_${p.name}`] = summarize(res.samples, res.durationSec, injected);
    okRps[p.name] = res.samples.filter((x) => x.status === 200).length / res.durationSec;
    written[p.name] = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
    peaks[p.name] = { rss_mb: r1(sampler.rssPeakMb), heap_mb: r1(sampler.heapPeakMb), lag_p99_ms: r1(sampler.lagP99MaxMs), pool_waiting: sampler.poolWaitingPeak };
  }
  out.lifecycle = {
    throughput_on_over_off: Math.round((okRps.on / ((okRps.off_before + okRps.off_after) / 2)) * 100) / 100,
    off_before_and_after_req_s: [r1(okRps.off_before), r1(okRps.off_after)],
    on_req_s: r1(okRps.on),
    cpu_per_phase: cpu,
    rows_written_per_phase: written,
    peaks_per_phase: peaks,
  };
}

// The repository's SQL (src/occupancy/occupancy.repository.ts, src/carbon/carbon.repository.ts),
// run straight on a pg pool of the service's size: what the database alone takes for each read.
const BOARD_SQL = `SELECT z.id AS zone_id, z.name AS zone, z.organization_id, z.capacity AS zone_capacity, z.total,
        o.people, o.capacity, o.status, o.measured_at, o.camera_id, a.id AS open_alert_id
   FROM (SELECT id, name, organization_id, capacity, count(*) OVER () AS total
           FROM lims_zone ORDER BY id LIMIT $1 OFFSET $2) z
   LEFT JOIN ecoflow_zone_occupancy o ON o.zone_id = z.id
   LEFT JOIN LATERAL (SELECT id FROM lims_alert
                       WHERE zone_id = z.id AND status = 'OPEN'
                       ORDER BY created_at DESC, id DESC LIMIT 1) a ON true
  ORDER BY z.id`;
const HISTORY_SQL = `SELECT date_bin(make_interval(secs => $4), measured_at, '1970-01-01 00:00:00+00') AS start,
        count(*) AS samples, sum(people) AS people_sum, max(people) AS max_people, min(people) AS min_people
   FROM ecoflow_reading
  WHERE zone_id = $1 AND measured_at >= $2 AND measured_at < $3
  GROUP BY 1 ORDER BY 1`;
const CARBON_TOTALS_SQL = `SELECT COALESCE(SUM(amount_sum), 0) AS total, COALESCE(SUM(log_count), 0) AS n FROM ecoflow_carbon_zone_total`;
/** Before C14 (9d76bae^): every stats miss summed every log. */
const CARBON_TOTALS_PRE_C14_SQL = `SELECT SUM(c.saved_amount) AS total, AVG(c.saved_amount) AS average FROM lims_carbonlog c`;
const CARBON_RECENT_SQL = `SELECT z.name AS zone, c.saved_amount AS saved, c."timestamp" AS ts
   FROM lims_carbonlog c JOIN lims_zone z ON z.id = c.zone_id
  ORDER BY c."timestamp" DESC, c.id DESC
  LIMIT $1`;

/** EXPLAIN ANALYZE of one run of `sql`: its execution time and the plan's node types, top down. */
async function explain(db: Client, sql: string, params: unknown[]): Promise<{ execution_ms: number; nodes: string[] }> {
  const r = await db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params);
  const plan = (r.rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode; 'Execution Time': number }>)[0];
  const nodes: string[] = [];
  const walk = (n: PlanNode): void => {
    nodes.push(`${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : n['Relation Name'] ? ` ${n['Relation Name']}` : ''} (rows ${n['Actual Rows']}, ${r1(n['Actual Total Time'])} ms)`);
    (n.Plans ?? []).forEach(walk);
  };
  walk(plan.Plan);
  return { execution_ms: r1(plan['Execution Time']), nodes };
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Total Time': number;
  Plans?: PlanNode[];
}

/**
 * `--scenario occupancy`: bulk data in the bench database (bench/bulk-data.ts), then closed-loop
 * reads of the live board, a zone's 24 h history and /carbon/stats/ (uncached: the cache key is
 * invalidated before every request the way a new carbon log invalidates it), each beside the
 * same SQL on the database alone and, for the carbon stats, the pre-C14 full aggregate.
 */
async function occupancyScenario(o: Options, env: Record<string, string>, out: Record<string, unknown>, cleanups: Array<() => Promise<unknown>>): Promise<void> {
  if (!env.DATABASE_URL || !process.env.REDIS_URL) {
    throw new Error('--scenario occupancy needs DATABASE_URL (PostgreSQL) and REDIS_URL');
  }
  console.log('occupancy: starting the service (migrates the bench database) …');
  const svc = await startScenarioService(env, 'occupancy', out, cleanups);
  const { token, orgId } = await adminSession(svc.base, true);
  const db = new Client({ connectionString: env.DATABASE_URL });
  await db.connect();
  cleanups.unshift(() => db.end());
  const t0 = performance.now();
  const bulk = await loadBulkData(db, {
    organizationId: orgId,
    zones: o.zones,
    hotZones: 10,
    readings: o.readings,
    days: 7,
    carbonLogs: o.carbonLogs,
    openAlerts: 200,
    closedAlerts: 20000,
  });
  out.bulk = { total_seconds: r1((performance.now() - t0) / 1000), seconds: bulk.seconds, rows: bulk.rows, sizes_mb: bulk.sizes_mb, hot_zone_ids: bulk.hotZoneIds };
  const hot = bulk.hotZoneIds;
  const conns = o.readConnections;
  const http = new Getter(svc.base, token, conns);
  cleanups.push(async () => http.close());
  const sql = new Pool({ connectionString: env.DATABASE_URL, max: 5 });
  cleanups.unshift(() => sql.end());
  const redis = new Redis(process.env.REDIS_URL);
  cleanups.unshift(() => redis.quit());

  // what one answer holds (the 24 h window, the board page)
  const page = await http.get('/occupancy/?limit=500');
  const hist = await http.get(`/zones/${hot[0]}/occupancy/?bucket=5m`);
  const points = hist.status === 200 ? ((JSON.parse(hist.body.toString()) as { points: Array<{ samples: number }> }).points ?? []) : [];
  out.answers = {
    board_page: { status: page.status, zones: page.status === 200 ? (JSON.parse(page.body.toString()) as unknown[]).length : 0, bytes: page.body.length },
    history: { status: hist.status, points: points.length, readings_in_window: points.reduce((a, p) => a + p.samples, 0), bytes: hist.body.length },
  };
  console.log(`answers: ${JSON.stringify(out.answers)}`);

  const reads: Record<string, ReadStats & { database_reads?: number }> = {};
  out.reads = reads;
  const measure = async (name: string, connections: number, op: (w: number, n: number) => Promise<boolean>, minOps = 0): Promise<ReadStats> => {
    await closedLoop({ connections, durationSec: 2, op }); // warm-up
    console.log(`${name}: ${connections} connections, ${o.phaseSeconds} s …`);
    const st = await closedLoop({ connections, durationSec: o.phaseSeconds, op, minOps });
    reads[name] = st;
    return st;
  };
  const ok = async (path: string): Promise<boolean> => (await http.get(path)).status === 200;

  await measure('board_page_500', conns, () => ok('/occupancy/?limit=500'));
  // the whole board in one answer: GET /occupancy/ without limit (every zone, ALERTING.md §6)
  await measure('board_all_2000', conns, () => ok('/occupancy/'));
  await measure('history_24h_5m', conns, (_, n) => ok(`/zones/${hot[n % hot.length]}/occupancy/?bucket=5m`));
  // one at a time: the cost of one answer, without queueing for the two cores
  await measure('board_page_500_1_connection', 1, () => ok('/occupancy/?limit=500'));
  await measure('board_all_2000_1_connection', 1, () => ok('/occupancy/'));
  await measure('history_24h_5m_1_connection', 1, (_, n) => ok(`/zones/${hot[n % hot.length]}/occupancy/?bucket=5m`));
  out.explain = {
    board_page_500: await explain(db, BOARD_SQL, [500, 0]),
    history_24h_5m: await explain(db, HISTORY_SQL, [hot[0], new Date(Date.now() - 86400000), new Date(), 300]),
    carbon_totals: await explain(db, CARBON_TOTALS_SQL, []),
    carbon_recent: await explain(db, CARBON_RECENT_SQL, [10]),
    carbon_totals_pre_c14: await explain(db, CARBON_TOTALS_PRE_C14_SQL, []),
  };
  await measure('sql_only_board_page_500', conns, async () => (await sql.query(BOARD_SQL, [500, 0])).rowCount === Math.min(500, o.zones));
  await measure('sql_only_history_24h_5m', conns, async (_, n) => {
    const to = new Date();
    return (await sql.query(HISTORY_SQL, [hot[n % hot.length], new Date(to.getTime() - 86400000), to, 300])).rowCount! > 0;
  });

  // /carbon/stats/: a fresh tombstone over carbon_stats:all before every request, exactly what a
  // new carbon log's invalidation writes (carbon-stats.cache.ts), so the read misses and the fill
  // fails; misses are counted by the database (scans of the totals table), not assumed
  const key = `${env.REDIS_KEY_PREFIX}carbon_stats:all`;
  const uncached = async (): Promise<boolean> => {
    await redis.set(key, `~stale:${randomBytes(16).toString('hex')}`, 'PX', 30000);
    return ok('/carbon/stats/');
  };
  const totalsScans = async (): Promise<number> => {
    await sleep(11000); // backends flush their statistics within 10 s of going idle
    await db.query('SELECT pg_stat_clear_snapshot()');
    const r = await db.query<{ n: string }>(`SELECT seq_scan + COALESCE(idx_scan, 0) AS n FROM pg_stat_user_tables WHERE relname = 'ecoflow_carbon_zone_total'`);
    return Number(r.rows[0].n);
  };
  await measure('carbon_stats_cached', conns, () => ok('/carbon/stats/'));
  for (const [name, c] of [
    ['carbon_stats_uncached_1_connection', 1],
    ['carbon_stats_uncached', conns],
  ] as const) {
    await closedLoop({ connections: c, durationSec: 2, op: uncached });
    const s0 = await totalsScans();
    console.log(`${name}: ${c} connections, ${o.phaseSeconds} s …`);
    const st = await closedLoop({ connections: c, durationSec: o.phaseSeconds, op: uncached });
    const misses = (await totalsScans()) - s0;
    reads[name] = { ...st, database_reads: misses };
  }
  const carbonSql = async (totals: string): Promise<boolean> => {
    await sql.query(totals);
    return (await sql.query(CARBON_RECENT_SQL, [10])).rowCount === 10;
  };
  await measure('sql_only_carbon_stats', conns, () => carbonSql(CARBON_TOTALS_SQL));
  await measure('sql_only_carbon_stats_pre_c14_1_connection', 1, () => carbonSql(CARBON_TOTALS_PRE_C14_SQL), 3);
}

/**
 * `--scenario polling` (issue 16, "cheap polling"): `--dashboards` simulated dashboards, each
 * polling one list every 10 s on an open-loop schedule (bench/open-loop.ts) with its last ETag in
 * If-None-Match: half poll GET /alerts/?status=OPEN, a quarter the board (`--board-path`), a quarter
 * GET /organizations/. Phases of one run, on one service: polling alone with and without
 * If-None-Match (the full reads are the baseline), then the 80/20 sensor mix alone, with the
 * conditional polling, with the full polling, and alone again; the sensor ratio compares a
 * phase with the mean of the two sensor-only phases, so drift between phases does not count.
 */
async function pollingScenario(o: Options, env: Record<string, string>, out: Record<string, unknown>, cleanups: Array<() => Promise<unknown>>, image: Buffer): Promise<void> {
  if (!env.DATABASE_URL || !process.env.REDIS_URL) {
    throw new Error('--scenario polling needs DATABASE_URL (PostgreSQL) and REDIS_URL');
  }
  console.log('polling: starting the service …');
  const svc = await startScenarioService(env, 'polling', out, cleanups);
  const { token, orgId } = await adminSession(svc.base, true);
  const seedStart = performance.now();
  const zones = await seedZonesWithCameras(svc.base, token, orgId, o.zones);
  const openAlerts = Math.min(200, zones.length);
  console.log(`seeding ${openAlerts} open alerts …`);
  await pool([...Array(openAlerts).keys()], 16, async (i) => {
    const r = await json(svc.base, 'POST', '/alerts/', { heading: `Overcrowding in Zone ${i}`, sub_heading: 'Detected 9/10 people. (Cam: None)', zone_id: zones[i].id, status: 'OPEN' }, token);
    if (r.status !== 201) {
      throw new Error(`POST /alerts/ answered ${r.status}: ${JSON.stringify(r.body)}`);
    }
  });
  out.seed_seconds = r1((performance.now() - seedStart) / 1000);

  const lists = [
    { tag: 'alerts', path: '/alerts/?status=OPEN' },
    { tag: 'alerts', path: '/alerts/?status=OPEN' },
    { tag: 'board', path: o.boardPath },
    { tag: 'organizations', path: '/organizations/' },
  ];
  const answers: Record<string, unknown> = {};
  for (const l of lists) {
    const r = await fetch(svc.base + l.path, { headers: { authorization: `Bearer ${token}` } });
    const body = await r.arrayBuffer();
    const again = await fetch(svc.base + l.path, { headers: { authorization: `Bearer ${token}`, 'if-none-match': r.headers.get('etag') ?? '' } });
    answers[l.path] = { status: r.status, bytes: body.byteLength, etag: r.headers.get('etag'), x_total_count: r.headers.get('x-total-count'), with_if_none_match: again.status };
  }
  out.answers = answers;
  console.log(`answers: ${JSON.stringify(answers)}`);
  const dashboards: Dashboard[] = Array.from({ length: o.dashboards }, (_, i) => ({ ...lists[i % lists.length] }));
  const agent = new Agent({ keepAlive: true, maxSockets: o.dashboards });
  cleanups.push(async () => agent.destroy());
  const intervalMs = 10000;
  const polling = (conditional: boolean, warmupSec: number) =>
    runOpenLoop({ baseUrl: svc.base, token, dashboards, intervalMs, warmupSec, durationSec: o.phaseSeconds, conditional, agent });

  const scheduler = new ZoneScheduler(zones, 2200);
  const next = mixPlanner(scheduler, image);
  const injected = { NORMAL: o.crowdLatency + o.geminiLatency, DANGER: o.crowdLatency };
  const sensor = () => runLoad({ baseUrl: svc.base, connections: o.connections, durationSec: o.phaseSeconds, next, parseBody: true });
  const okRps = (r: { samples: Sample[]; durationSec: number }): number => r.samples.filter((x) => x.status === 200).length / r.durationSec;

  const phases: Record<string, Record<string, unknown>> = {};
  out.phases = phases;
  const phase = async (name: string, what: string, run: () => Promise<Record<string, unknown>>): Promise<void> => {
    await sleep(3000); // let the previous phase's work (e.g. deliveries, GC) settle
    console.log(`${name}: ${what}, ${o.phaseSeconds} s …`);
    const sampler = new Sampler(svc, token);
    sampler.start(500);
    const cpu0 = { svc: procCpuMs(svc.proc.pid!), machine: machineCpuMs(), t: performance.now() };
    const res = await run();
    sampler.stop();
    const wallMs = performance.now() - cpu0.t;
    const m = machineCpuMs();
    phases[name] = {
      ...res,
      service_cores: Math.round(((procCpuMs(svc.proc.pid!) - cpu0.svc) / wallMs) * 100) / 100,
      machine_busy_pct: Math.round(((m.busy - cpu0.machine.busy) / (m.total - cpu0.machine.total)) * 100),
      peak_rss_mb: r1(sampler.rssPeakMb),
      event_loop_lag_p99_max_ms: r1(sampler.lagP99MaxMs),
      db_pool_waiting_peak: sampler.poolWaitingPeak,
    };
  };
  const pollStats = (r: Awaited<ReturnType<typeof polling>>): Record<string, unknown> => openLoopStats(r.samples, r.durationSec, r.scheduled);
  // every dashboard starts with the current ETag of its list (one GET per list, not a round of
  // 2 000 full reads: that round alone is the overloaded baseline, and its backlog would spill
  // into the measured window), as dashboards that have been open for a while have
  const prime = async (): Promise<void> => {
    for (const path of new Set(dashboards.map((d) => d.path))) {
      const r = await fetch(svc.base + path, { headers: { authorization: `Bearer ${token}` } });
      await r.arrayBuffer();
      const etag = r.headers.get('etag') ?? undefined;
      dashboards.filter((d) => d.path === path).forEach((d) => (d.etag = etag));
    }
  };

  await phase('polling_conditional_alone', `${o.dashboards} dashboards every 10 s with If-None-Match (after 3 s)`, async () => {
    await prime();
    return { polling: pollStats(await polling(true, 3)) };
  });
  await phase('polling_full_alone', `${o.dashboards} dashboards every 10 s without If-None-Match (after 5 s)`, async () => ({ polling: pollStats(await polling(false, 5)) }));
  console.log('sensor warm-up 3 s …');
  await runLoad({ baseUrl: svc.base, connections: o.connections, durationSec: 3, next });
  const rps: Record<string, number> = {};
  await phase('sensor_alone_before', `80/20 sensor mix, ${o.connections} connections`, async () => {
    const s = await sensor();
    rps.before = okRps(s);
    return { sensor: summarize(s.samples, s.durationSec, injected) };
  });
  await phase('sensor_with_polling_conditional', `sensor mix + ${o.dashboards} dashboards with If-None-Match`, async () => {
    await prime();
    const [s, p] = await Promise.all([sensor(), polling(true, 0)]);
    rps.conditional = okRps(s);
    return { sensor: summarize(s.samples, s.durationSec, injected), polling: pollStats(p) };
  });
  await phase('sensor_with_polling_full', `sensor mix + ${o.dashboards} dashboards without If-None-Match`, async () => {
    const [s, p] = await Promise.all([sensor(), polling(false, 0)]);
    rps.full = okRps(s);
    return { sensor: summarize(s.samples, s.durationSec, injected), polling: pollStats(p) };
  });
  await phase('sensor_alone_after', `80/20 sensor mix, ${o.connections} connections`, async () => {
    const s = await sensor();
    rps.after = okRps(s);
    return { sensor: summarize(s.samples, s.durationSec, injected) };
  });
  const solo = (rps.before + rps.after) / 2;
  const p99 = (name: string): number => ((phases[name].polling as { latency_ms: { p99: number } }).latency_ms.p99);
  const share = (name: string): number => (phases[name].polling as { share_304: number }).share_304;
  out.polling = {
    dashboards: o.dashboards,
    mix: `1/2 /alerts/?status=OPEN, 1/4 ${o.boardPath}, 1/4 /organizations/, each every 10 s`,
    alone_conditional_p99_ms: p99('polling_conditional_alone'),
    alone_conditional_share_304: share('polling_conditional_alone'),
    alone_full_p99_ms: p99('polling_full_alone'),
    target_alone_p99_le_50_ms: p99('polling_conditional_alone') <= 50,
    during_mix_conditional_p99_ms: p99('sensor_with_polling_conditional'),
    during_mix_conditional_share_304: share('sensor_with_polling_conditional'),
    during_mix_full_p99_ms: p99('sensor_with_polling_full'),
    target_during_mix_p99_le_300_ms: p99('sensor_with_polling_conditional') <= 300,
    sensor_alone_before_and_after_req_s: [r1(rps.before), r1(rps.after)],
    sensor_with_conditional_polling_req_s: r1(rps.conditional),
    sensor_with_full_polling_req_s: r1(rps.full),
    sensor_ratio_with_conditional_polling: Math.round((rps.conditional / solo) * 100) / 100,
    sensor_ratio_with_full_polling: Math.round((rps.full / solo) * 100) / 100,
    target_sensor_ratio_ge_0_9: rps.conditional / solo >= 0.9,
  };
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
  for (const phase of ['mix', 'mix_with_subscribers', 'mix_after', 'mix_off_before', 'mix_on', 'mix_off_after', 'normal_only', 'danger_only', 'alerts']) {
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
  for (const [k, v] of Object.entries((out.reads ?? {}) as Record<string, ReadStats & Record<string, unknown>>)) {
    const extra = Object.entries(v).filter(([kk]) => !['ops', 'ok', 'failed', 'ops_per_sec', 'latency_ms'].includes(kk));
    add(`${k} ops/s, p50/p99 ms`, `${v.ops_per_sec}, ${v.latency_ms.p50} / ${v.latency_ms.p99} (${v.ok} ok, ${v.failed} failed)${extra.length ? ' ' + JSON.stringify(Object.fromEntries(extra)) : ''}`);
  }
  for (const [k, v] of Object.entries((out.phases ?? {}) as Record<string, any>)) {
    if (v.polling) {
      add(`${k} polling req/s, p50/p99 ms, 304 share`, `${v.polling.requests_per_sec}, ${v.polling.latency_ms.p50} / ${v.polling.latency_ms.p99}, ${v.polling.share_304} ${JSON.stringify(v.polling.statuses)}`);
    }
    if (v.sensor) {
      add(`${k} sensor req/s, p50/p99 ms`, `${v.sensor.requests_per_sec}, ${v.sensor.latency_ms.p50} / ${v.sensor.latency_ms.p99} ${JSON.stringify(v.sensor.statuses)}`);
    }
    add(`${k} service cores, machine busy %`, `${v.service_cores}, ${v.machine_busy_pct}`);
  }
  for (const [k, v] of Object.entries((out.explain ?? {}) as Record<string, { execution_ms: number; nodes: string[] }>)) {
    add(`EXPLAIN ANALYZE ${k}`, `${v.execution_ms} ms: ${v.nodes.join(' > ')}`);
  }
  for (const k of ['ceilings', 'soak', 'delivery', 'lifecycle', 'polling', 'sizing']) {
    if (out[k]) {
      for (const [kk, v] of Object.entries(out[k] as object)) {
        if (kk !== 'rss_series') {
          add(kk, v);
        }
      }
    }
  }
  for (const k of ['peak_rss_mb', 'memory_at_peak', 'peak_heap_used_mb', 'event_loop_lag_p99_max_ms', 'db_pool_waiting_peak', 'seed_seconds', 'bulk']) {
    if (out[k] !== undefined) {
      add(k, out[k]);
    }
  }
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log('\n' + rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n'));
  console.log('\nwritten: bench-results.json');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
