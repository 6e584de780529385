import http from 'node:http';
import { percentile } from './load';

/** Latency and throughput of one closed-loop measurement; every latency is kept (no buckets). */
export interface ReadStats {
  ops: number;
  ok: number;
  failed: number;
  ops_per_sec: number;
  latency_ms: { p50: number; p90: number; p99: number; max: number };
}

const r1 = (n: number): number => Math.round(n * 10) / 10;

/**
 * `connections` workers, each starting its next operation as soon as the previous one ended, for
 * `durationSec` (and at least `minOps` operations in all, for slow baselines). An operation is any
 * async step: one GET, several GETs in a row (the board's pages), or a query on a pg pool.
 */
export async function closedLoop(opts: {
  connections: number;
  durationSec: number;
  minOps?: number;
  op: (worker: number, n: number) => Promise<boolean>;
}): Promise<ReadStats> {
  const lat: number[] = [];
  let ok = 0;
  let failed = 0;
  let n = 0;
  const started = performance.now();
  const deadline = started + opts.durationSec * 1000;
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < deadline || n < (opts.minOps ?? 0)) {
      const i = n;
      n += 1;
      const t0 = performance.now();
      let good = false;
      try {
        good = await opts.op(w, i);
      } catch {
        good = false;
      }
      lat.push(performance.now() - t0);
      if (good) {
        ok += 1;
      } else {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, (_, w) => worker(w)));
  const seconds = (performance.now() - started) / 1000;
  lat.sort((a, b) => a - b);
  return {
    ops: lat.length,
    ok,
    failed,
    ops_per_sec: r1(lat.length / seconds),
    latency_ms: { p50: r1(percentile(lat, 50)), p90: r1(percentile(lat, 90)), p99: r1(percentile(lat, 99)), max: r1(lat[lat.length - 1] ?? NaN) },
  };
}

/** Keep-alive GETs with a bearer token, one socket per closed-loop worker. */
export class Getter {
  private readonly agent: http.Agent;
  private readonly url: URL;

  constructor(
    base: string,
    private readonly token: string,
    connections: number,
  ) {
    this.url = new URL(base);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  }

  get(path: string): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const r = http.request(
        { host: this.url.hostname, port: this.url.port, method: 'GET', path, agent: this.agent, headers: { authorization: `Bearer ${this.token}` } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      r.on('error', reject);
      r.setTimeout(60000, () => r.destroy(new Error('timeout')));
      r.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
