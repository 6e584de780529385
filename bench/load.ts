import http from 'node:http';

/** One request the load loop sends; `tag` groups results (e.g. NORMAL / DANGER). */
export interface PlannedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  tag: string;
}

export interface Sample {
  tag: string;
  status: number;
  latencyMs: number;
  /** response `status` field for detections (NORMAL/DANGER), when present */
  kind?: string;
  carbonError?: boolean;
}

export interface LoadResult {
  durationSec: number;
  samples: Sample[];
  errors: number;
}

/**
 * A closed-loop load generator: `connections` workers, each sending its next request as soon
 * as the previous answer arrived, for `durationSec`. Every latency is recorded exactly (no
 * histogram buckets), tagged by path, so percentiles and per-path overhead are precise.
 */
export async function runLoad(opts: {
  baseUrl: string;
  connections: number;
  durationSec: number;
  next: () => Promise<PlannedRequest> | PlannedRequest;
  parseBody?: boolean;
}): Promise<LoadResult> {
  const url = new URL(opts.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections });
  const samples: Sample[] = [];
  let errors = 0;
  const deadline = performance.now() + opts.durationSec * 1000;
  const started = performance.now();

  const send = (req: PlannedRequest): Promise<Sample> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const r = http.request(
        {
          host: url.hostname,
          port: url.port,
          method: req.method,
          path: req.path,
          agent,
          headers: { ...req.headers, ...(req.body ? { 'content-length': String(req.body.length) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const s: Sample = { tag: req.tag, status: res.statusCode ?? 0, latencyMs: performance.now() - t0 };
            if (opts.parseBody) {
              try {
                const b = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { status?: string; carbon_error?: string };
                s.kind = b.status;
                s.carbonError = b.carbon_error !== undefined;
              } catch {
                /* non-JSON bodies are counted by status */
              }
            }
            resolve(s);
          });
          res.on('error', () => resolve({ tag: req.tag, status: 0, latencyMs: performance.now() - t0 }));
        },
      );
      r.on('error', () => resolve({ tag: req.tag, status: 0, latencyMs: performance.now() - t0 }));
      r.setTimeout(60000, () => r.destroy());
      r.end(req.body);
    });

  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const s = await send(await opts.next());
      if (s.status === 0) {
        errors += 1;
      }
      samples.push(s);
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, () => worker()));
  agent.destroy();
  return { durationSec: (performance.now() - started) / 1000, samples, errors };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) {
    return NaN;
  }
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function latencyStats(samples: Sample[]): { p50: number; p90: number; p99: number; max: number } {
  const l = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  return { p50: percentile(l, 50), p90: percentile(l, 90), p99: percentile(l, 99), max: l[l.length - 1] ?? NaN };
}

export function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) {
    const k = key(i);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
