import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Minimal stand-ins for the crowd API and Gemini with fixed injected latency, tuned for load
 * (no image decoding, no bookkeeping). The crowd answer is chosen by the uploaded file's name:
 * names containing "-danger" get 9 people, others 3 — so the load generator decides each
 * request's path while every zone keeps the reference capacity of 10.
 */
export interface BenchUpstreams {
  crowdUrl: string;
  geminiUrl: string;
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startBenchUpstreams(crowdLatencyMs: number, geminiLatencyMs: number): Promise<BenchUpstreams> {
  const crowd = http.createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"online"}');
      return;
    }
    let head = '';
    req.on('data', (c: Buffer) => {
      if (head.length < 2048) {
        head += c.subarray(0, 2048).toString('latin1');
      }
    });
    req.on('end', () => {
      const danger = /filename="[^"]*-danger/.test(head);
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ filename: 'x.jpg', sahi_count: danger ? 9 : 3, message: 'Prediction successful' }));
      }, crowdLatencyMs);
    });
  });
  const gemini = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: '5' }] }, finishReason: 'STOP' }] }));
      }, geminiLatencyMs);
    });
  });
  for (const s of [crowd, gemini]) {
    s.keepAliveTimeout = 65000;
  }
  const crowdUrl = `${await listen(crowd)}/predict`;
  const geminiUrl = await listen(gemini);
  return {
    crowdUrl,
    geminiUrl,
    close: async () => {
      crowd.closeAllConnections();
      gemini.closeAllConnections();
      await Promise.all([new Promise((r) => crowd.close(r)), new Promise((r) => gemini.close(r))]);
    },
  };
}

/** The DANGER-path ceiling: a bare server that only streams each upload on to the crowd API. */
export async function startBareForwarder(crowdUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(crowdUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((req, res) => {
    const up = http.request(
      { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': req.headers['content-type'] ?? '', 'content-length': req.headers['content-length'] ?? '0' } },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, { 'content-type': 'application/json' });
        ur.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  server.keepAliveTimeout = 65000;
  const url = await listen(server);
  return {
    url,
    close: async () => {
      server.closeAllConnections();
      agent.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
