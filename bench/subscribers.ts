import http from 'node:http';
import net from 'node:net';
import { percentile } from './load';

/** Arrival of one event at one subscriber: ms from the event's `created_at` to its arrival. */
export interface Arrival {
  id: number;
  latencyMs: number;
}

/** Local webhook receivers that answer 204 and note when each event arrived. */
export async function startReceivers(n: number): Promise<{ urls: string[]; arrivals: Arrival[][]; close(): Promise<void> }> {
  const servers: http.Server[] = [];
  const arrivals: Arrival[][] = [];
  const urls: string[] = [];
  for (let i = 0; i < n; i++) {
    const mine: Arrival[] = [];
    arrivals.push(mine);
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const now = Date.now();
        try {
          const e = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: number; created_at: string };
          mine.push({ id: e.id, latencyMs: now - Date.parse(e.created_at) });
        } catch {
          /* not an event */
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    servers.push(server);
    urls.push(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/hook`);
  }
  return {
    urls,
    arrivals,
    close: async () => {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
}

/** `count` event-stream clients (GET /events/stream with a Bearer token) noting each event's arrival. */
export async function startStreamClients(base: string, token: string, count: number): Promise<{ arrivals: Arrival[][]; close(): void }> {
  const arrivals: Arrival[][] = [];
  const requests: http.ClientRequest[] = [];
  const agent = new http.Agent({ keepAlive: false, maxSockets: count + 10 });
  await Promise.all(
    Array.from({ length: count }, () => {
      const mine: Arrival[] = [];
      arrivals.push(mine);
      return new Promise<void>((resolve, reject) => {
        const req = http.get(`${base}/events/stream`, { agent, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`stream answered ${res.statusCode}`));
            return;
          }
          resolve();
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const now = Date.now();
            buf += chunk;
            let i: number;
            while ((i = buf.indexOf('\n\n')) >= 0) {
              const block = buf.slice(0, i);
              buf = buf.slice(i + 2);
              const data = block.split('\n').find((l) => l.startsWith('data: '));
              if (data) {
                try {
                  const e = JSON.parse(data.slice(6)) as { id: number; created_at: string };
                  mine.push({ id: e.id, latencyMs: now - Date.parse(e.created_at) });
                } catch {
                  /* a transient or malformed line */
                }
              }
            }
          });
        });
        req.on('error', reject);
        requests.push(req);
      });
    }),
  );
  return {
    arrivals,
    close: () => {
      for (const r of requests) {
        r.destroy();
      }
      agent.destroy();
    },
  };
}

/** p50/p99 of every arrival, and how many subscribers missed or doubled an event of `ids`. */
export function arrivalStats(arrivals: Arrival[][], ids: Set<number>): { p50_ms: number; p99_ms: number; arrivals: number; subscribers_missing_events: number; duplicates: number } {
  const all = arrivals.flat().filter((a) => ids.has(a.id)).map((a) => a.latencyMs).sort((a, b) => a - b);
  let missing = 0;
  let duplicates = 0;
  for (const mine of arrivals) {
    const seen = new Map<number, number>();
    for (const a of mine) {
      seen.set(a.id, (seen.get(a.id) ?? 0) + 1);
    }
    if ([...ids].some((id) => !seen.has(id))) {
      missing += 1;
    }
    duplicates += [...seen.values()].filter((n) => n > 1).length;
  }
  return { p50_ms: Math.round(percentile(all, 50)), p99_ms: Math.round(percentile(all, 99)), arrivals: all.length, subscribers_missing_events: missing, duplicates };
}
