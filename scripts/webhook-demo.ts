/**
 * `npm run webhook:demo`: receive signed webhooks from a locally running service (`npm start`).
 * Starts a receiver on RECEIVER_PORT (4000) that verifies every request with the reference
 * `standardwebhooks` package, registers it as a webhook (as the admin ECOFLOW_EMAIL /
 * ECOFLOW_PASSWORD, registering that account when the database has none), sends a test event,
 * opens and closes an alert, and prints what arrives. `--once` exits after those three events.
 * ECOFLOW_URL (http://localhost:8080) is the service.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

const base = (process.env.ECOFLOW_URL ?? 'http://localhost:8080').replace(/\/+$/, '');
const email = process.env.ECOFLOW_EMAIL ?? 'admin@example.com';
const password = process.env.ECOFLOW_PASSWORD ?? 'change-me-please';
const port = Number(process.env.RECEIVER_PORT ?? 4000);
const once = process.argv.includes('--once');

async function api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

async function main(): Promise<void> {
  let secret = '';
  const expected = new Set(['webhook.test', 'alert.opened', 'alert.resolved']);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      try {
        const event = new Webhook(secret).verify(raw, req.headers as Record<string, string>) as { id: number; type: string; data: Record<string, unknown> };
        console.log(`verified ${req.headers['webhook-id']} ${event.type} ${JSON.stringify(event.data).slice(0, 160)}`);
        res.writeHead(204).end();
        expected.delete(event.type);
        if (once && expected.size === 0) {
          console.log('all three events arrived signed and verified');
          server.close();
          process.exit(0);
        }
      } catch (err) {
        console.log(`REJECTED ${req.headers['webhook-id'] ?? '?'}: ${(err as Error).message}`);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  console.log(`receiver listening on ${url}`);

  const status = await api('GET', '/api/status/').catch(() => null);
  if (!status || status.status !== 200) {
    fail(`the service does not answer at ${base}: start it first with \`npm start\``);
  }
  await api('POST', '/auth/register/', { email, password }); // the first account becomes ADMIN; 400 if it exists
  const login = await api('POST', '/auth/login/', { email, password });
  if (login.status !== 200) {
    fail(`cannot log in as ${email}: set ECOFLOW_EMAIL and ECOFLOW_PASSWORD to an admin account`);
  }
  const token = login.body.access as string;
  const hook = await api('POST', '/webhooks/', { url, description: 'webhook:demo' }, token);
  if (hook.status !== 201) {
    fail(`POST /webhooks/ answered ${hook.status} ${JSON.stringify(hook.body)} (an ADMIN account is needed)`);
  }
  secret = hook.body.secret as string;
  console.log(`webhook #${hook.body.id} registered; its secret (shown once): ${secret}`);

  await api('POST', `/webhooks/${hook.body.id}/test/`, undefined, token);
  const org = await api('POST', '/organizations/', { name: 'Demo library', org_type: 'LIBRARY' }, token);
  const zone = await api('POST', '/zones/', { name: 'Demo lobby', zone_type: 'ENTRANCE', organization_id: org.body.id, capacity: 10 }, token);
  const alert = await api('POST', '/alerts/', { heading: 'Overcrowding in Demo lobby', sub_heading: 'Detected 9/10 people. (Cam: None)', status: 'OPEN', zone_id: zone.body.id }, token);
  await api('PATCH', `/alerts/${alert.body.id}/`, { status: 'CLOSED' }, token);
  console.log(once ? 'waiting for the test event, alert.opened and alert.resolved …' : 'sent a test event and opened/closed an alert; Ctrl-C stops the receiver');
  if (once) {
    setTimeout(() => fail(`not received within 30 s: ${[...expected].join(', ')}`), 30000).unref();
  }
}

main().catch((err: unknown) => fail(String(err)));
