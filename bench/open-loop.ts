import http from 'node:http';
import { percentile } from './load';

/**
 * Simulated dashboards polling on a fixed schedule (open loop): each one sends a GET every
 * `intervalMs` from its own phase offset, whether or not its previous answer has arrived, so a
 * slow service gets queued requests, not fewer ones. Latency is measured from the **scheduled**
 * send time, so queueing (in the service, on the sockets, or a late timer in this process) shows.
 * Each dashboard remembers the last ETag it was given and, when `conditional`, sends it back in
 * If-None-Match.
 */
export interface Dashboard {
  path: string;
  tag: string;
  etag?: string;
}

export interface OpenLoopSample {
  tag: string;
  status: number;
  /** answer end minus scheduled send time */
  latencyMs: number;
  /** actual send minus scheduled send (this process's timer lateness) */
  timerLagMs: number;
}

const r1 = (n: number): number => Math.round(n * 10) / 10;

/**
 * One request whose answer is read to the end; `done` gets the status (0 for an error or a
 * 60 s timeout), the time it was sent, and the response. Never rejects.
 */
function timedRequest(
  url: URL,
  agent: http.Agent,
  spec: { method: string; path: string; headers: Record<string, string>; body?: Buffer },
  done: (status: number, sent: number, res?: http.IncomingMessage) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const sent = performance.now();
    let finished = false;
    const finish = (status: number, res?: http.IncomingMessage): void => {
      if (!finished) {
        finished = true;
        done(status, sent, res);
        resolve();
      }
    };
    const r = http.request({ host: url.hostname, port: url.port, method: spec.method, path: spec.path, agent, headers: spec.headers }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => finish(res.statusCode ?? 0, res));
      res.on('error', () => finish(0));
    });
    r.on('error', () => finish(0));
    r.setTimeout(60000, () => r.destroy());
    r.end(spec.body);
  });
}

export async function runOpenLoop(opts: {
  baseUrl: string;
  token: string;
  dashboards: Dashboard[];
  intervalMs: number;
  /** polls scheduled in [0, warmupSec) are sent but not counted (they prime the ETags) */
  warmupSec: number;
  durationSec: number;
  conditional: boolean;
  agent: http.Agent;
}): Promise<{ samples: OpenLoopSample[]; durationSec: number; scheduled: number }> {
  const url = new URL(opts.baseUrl);
  const samples: OpenLoopSample[] = [];
  const t0 = performance.now();
  const measureFrom = t0 + opts.warmupSec * 1000;
  const end = measureFrom + opts.durationSec * 1000;
  const n = opts.dashboards.length;
  const inFlight = new Set<Promise<void>>();
  let scheduled = 0;

  const poll = (d: Dashboard, at: number): Promise<void> => {
    const headers: Record<string, string> = { authorization: `Bearer ${opts.token}` };
    if (opts.conditional && d.etag) {
      headers['if-none-match'] = d.etag;
    }
    return timedRequest(url, opts.agent, { method: 'GET', path: d.path, headers }, (status, sent, res) => {
      const etag = res?.headers.etag;
      if (typeof etag === 'string' && (status === 200 || status === 304)) {
        d.etag = etag;
      }
      if (at >= measureFrom) {
        samples.push({ tag: d.tag, status, latencyMs: performance.now() - at, timerLagMs: sent - at });
      }
    });
  };

  // one timer per dashboard: dashboard i polls at offset i/n of the interval, then every interval
  await new Promise<void>((allScheduled) => {
    let pending = n;
    opts.dashboards.forEach((d, i) => {
      let at = t0 + (i / n) * opts.intervalMs;
      const fire = (): void => {
        if (at >= end) {
          pending -= 1;
          if (pending === 0) {
            allScheduled();
          }
          return;
        }
        if (at >= measureFrom) {
          scheduled += 1;
        }
        const p = poll(d, at);
        inFlight.add(p);
        void p.then(() => inFlight.delete(p));
        at += opts.intervalMs;
        setTimeout(fire, Math.max(0, at - performance.now()));
      };
      setTimeout(fire, Math.max(0, at - performance.now()));
    });
  });
  await Promise.all([...inFlight]);
  return { samples, durationSec: opts.durationSec, scheduled };
}

/** p50/p90/p99/max, statuses, 304 share and timer lateness of one phase, overall and per list. */
export function openLoopStats(samples: OpenLoopSample[], durationSec: number, scheduled: number): Record<string, unknown> {
  const one = (ss: OpenLoopSample[]): Record<string, unknown> => {
    const l = ss.map((s) => s.latencyMs).sort((a, b) => a - b);
    const statuses: Record<string, number> = {};
    for (const s of ss) {
      statuses[s.status] = (statuses[s.status] ?? 0) + 1;
    }
    return {
      requests: ss.length,
      latency_ms: { p50: r1(percentile(l, 50)), p90: r1(percentile(l, 90)), p99: r1(percentile(l, 99)), max: r1(l[l.length - 1] ?? NaN) },
      statuses,
      share_304: ss.length ? Math.round(((statuses['304'] ?? 0) / ss.length) * 1000) / 1000 : NaN,
    };
  };
  const lag = samples.map((s) => s.timerLagMs).sort((a, b) => a - b);
  const tags = [...new Set(samples.map((s) => s.tag))].sort();
  return {
    scheduled,
    requests_per_sec: r1(samples.length / durationSec),
    ...one(samples),
    timer_lag_ms: { p50: r1(percentile(lag, 50)), p99: r1(percentile(lag, 99)) },
    by_list: Object.fromEntries(tags.map((t) => [t, one(samples.filter((s) => s.tag === t))])),
  };
}

/**
 * Open-loop requests at a fixed rate (cameras do not wait for each other): request i is sent at
 * t0 + i / rate whatever happened to the earlier ones; latency counts from that scheduled time.
 */
export async function runOpenLoopRate(opts: {
  baseUrl: string;
  ratePerSec: number;
  warmupSec: number;
  durationSec: number;
  next: () => { method: string; path: string; headers: Record<string, string>; body?: Buffer; tag: string };
  agent: http.Agent;
}): Promise<{ samples: OpenLoopSample[]; scheduled: number }> {
  const url = new URL(opts.baseUrl);
  const samples: OpenLoopSample[] = [];
  const t0 = performance.now() + 50;
  const measureFrom = t0 + opts.warmupSec * 1000;
  const total = Math.round((opts.warmupSec + opts.durationSec) * opts.ratePerSec);
  const inFlight = new Set<Promise<void>>();
  let scheduled = 0;
  const send = (at: number): Promise<void> => {
    const req = opts.next();
    const headers = { ...req.headers, ...(req.body ? { 'content-length': String(req.body.length) } : {}) };
    return timedRequest(url, opts.agent, { method: req.method, path: req.path, headers, body: req.body }, (status, sent) => {
      if (at >= measureFrom) {
        samples.push({ tag: req.tag, status, latencyMs: performance.now() - at, timerLagMs: sent - at });
      }
    });
  };
  for (let i = 0; i < total; i += 1) {
    const at = t0 + (i / opts.ratePerSec) * 1000;
    const wait = at - performance.now();
    if (wait > 1) {
      await new Promise((r) => setTimeout(r, wait));
    }
    if (at >= measureFrom) {
      scheduled += 1;
    }
    const p = send(at);
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
  }
  await Promise.all([...inFlight]);
  return { samples, scheduled };
}
