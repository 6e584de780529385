import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/common/logger';
import { loadConfig } from '../../src/config/config';
import type { EventEnvelope, EventType } from '../../src/events/event-types';
import { GowaGateway } from '../../src/integrations/whatsapp/gowa.gateway';
import { WahaGateway } from '../../src/integrations/whatsapp/waha.gateway';
import { WhatsAppClient } from '../../src/integrations/whatsapp/whatsapp.client';
import { maskPhone } from '../../src/integrations/whatsapp/whatsapp.gateway';
import { whatsAppText } from '../../src/recipients/whatsapp-texts';
import { GatewayDouble, startGowaDouble, startWahaDouble } from '../doubles/whatsapp-gateways';

const PHONE = '+2348012345678';
const DIGITS = '2348012345678';

// The text builder is pure; these are unit tests of every text (kept here with the gateway tests).
describe('WhatsApp texts (ALERTING.md §3)', () => {
  const alertEvent = (type: EventType, extra: Record<string, unknown> = {}, created = '2026-12-01T14:03:07.412Z'): EventEnvelope => ({
    id: 1,
    type,
    created_at: created,
    organization_id: 3,
    data: {
      alert: { id: 42, heading: 'Overcrowding in Lobby', sub_heading: 'Detected 9/10 people. (Cam: 7)', status: 'OPEN' },
      zone: { id: 12, name: 'Lobby', capacity: 10 },
      organization: { id: 3, name: 'Library' },
      camera: { id: 7, name: 'Lobby cam' },
      ...extra,
    },
  });

  it('alert.opened by a detection: people, capacity, percentage with one decimal, time', () => {
    assert.equal(whatsAppText(alertEvent('alert.opened', { detected_people: 9 })), 'Overcrowding in Lobby (Library): 9/10 people (90.0%) at 14:03 UTC. Alert #42.');
    const odd = alertEvent('alert.opened', { detected_people: 2, zone: { id: 1, name: 'Hall B', capacity: 3 } }, '2026-01-05T09:59:59.999Z');
    assert.equal(whatsAppText(odd), 'Overcrowding in Hall B (Library): 2/3 people (66.7%) at 09:59 UTC. Alert #42.');
    const over = alertEvent('alert.opened', { detected_people: 25, zone: { id: 1, name: 'Lobby', capacity: 10 } }, '2026-01-05T00:00:00.000Z');
    assert.equal(whatsAppText(over), 'Overcrowding in Lobby (Library): 25/10 people (250.0%) at 00:00 UTC. Alert #42.');
  });

  it('alert.opened by an admin (no head count): the heading instead', () => {
    assert.equal(whatsAppText(alertEvent('alert.opened', { detected_people: null })), 'Overcrowding reported in Lobby (Library) at 14:03 UTC: Overcrowding in Lobby. Alert #42.');
    const bare = alertEvent('alert.opened', { detected_people: null, alert: { id: 5, heading: '  ' } });
    assert.equal(whatsAppText(bare), 'Overcrowding reported in Lobby (Library) at 14:03 UTC. Alert #5.');
    const dotted = alertEvent('alert.opened', { detected_people: null, alert: { id: 5, heading: 'Fire drill.\nEvacuate now...' } });
    assert.equal(whatsAppText(dotted), 'Overcrowding reported in Lobby (Library) at 14:03 UTC: Fire drill. Evacuate now. Alert #5.');
  });

  it('alert.reminder, alert.resolved (manual and auto), reopened, acknowledged, deleted', () => {
    assert.equal(whatsAppText(alertEvent('alert.reminder', { reminder: 2 })), 'Still overcrowded in Lobby (Library), not yet acknowledged. Alert #42.');
    assert.equal(whatsAppText(alertEvent('alert.resolved', { resolution: 'manual' }, '2026-12-01T23:59:00.000Z')), 'Resolved: Lobby (Library), alert #42 closed manually at 23:59 UTC.');
    assert.equal(whatsAppText(alertEvent('alert.resolved', { resolution: 'auto' }, '2026-12-01T08:05:00.000Z')), 'Resolved: Lobby (Library), alert #42 closed automatically at 08:05 UTC.');
    assert.equal(whatsAppText(alertEvent('alert.reopened')), 'Reopened: overcrowding in Lobby (Library) at 14:03 UTC. Alert #42.');
    assert.equal(whatsAppText(alertEvent('alert.acknowledged', { user_id: 9 })), 'Acknowledged: Lobby (Library), alert #42 acknowledged at 14:03 UTC.');
    assert.equal(whatsAppText(alertEvent('alert.deleted')), 'Deleted: Lobby (Library), alert #42 deleted at 14:03 UTC.');
  });

  it('camera.offline uses last_seen_at; camera.online', () => {
    const cam = (type: EventType): EventEnvelope => ({
      id: 2,
      type,
      created_at: '2026-12-01T14:10:00.000Z',
      organization_id: 3,
      data: { camera: { id: 7, name: 'Lobby cam' }, zone: { id: 12, name: 'Lobby' }, organization: { id: 3, name: 'Library' }, last_seen_at: '2026-12-01T14:04:59.000Z' },
    });
    assert.equal(whatsAppText(cam('camera.offline')), 'Camera Lobby cam in Lobby is offline since 14:04 UTC.');
    assert.equal(whatsAppText(cam('camera.online')), 'Camera Lobby cam in Lobby is back online.');
  });

  it('names as stored, always one line; nothing for webhook.test', () => {
    const e = alertEvent('alert.reminder', { zone: { id: 1, name: 'Hall "A" — Ñoño 🚶', capacity: 5 }, organization: { id: 3, name: 'Lib\r\nrary\u2028x' } });
    assert.equal(whatsAppText(e), 'Still overcrowded in Hall "A" — Ñoño 🚶 (Lib rary x), not yet acknowledged. Alert #42.');
    assert.equal(whatsAppText({ id: 3, type: 'webhook.test', created_at: '2026-12-01T14:10:00.000Z', organization_id: null, data: { webhook_id: 1 } }), null);
  });
});

describe('WhatsApp gateways against the WAHA and GOWA doubles', () => {
  let waha: GatewayDouble;
  let wahaOpen: GatewayDouble;
  let gowa: GatewayDouble;

  before(async () => {
    [waha, wahaOpen, gowa] = await Promise.all([
      startWahaDouble({ apiKey: 'waha-key', session: 'ops' }),
      startWahaDouble({ apiKey: null }),
      startGowaDouble({ basicAuth: 'admin:s3cret:x' }),
    ]);
  });
  after(async () => Promise.all([waha.close(), wahaOpen.close(), gowa.close()]));

  const wahaGw = (o: Partial<{ apiKey: string | null; session: string; timeoutMs: number; baseUrl: string }> = {}): WahaGateway =>
    new WahaGateway({ baseUrl: waha.url, apiKey: 'waha-key', session: 'ops', timeoutMs: 2000, ...o });
  const gowaGw = (o: Partial<{ basicAuth: string | null; timeoutMs: number }> = {}): GowaGateway =>
    new GowaGateway({ baseUrl: gowa.url, basicAuth: 'admin:s3cret:x', timeoutMs: 2000, ...o });

  it('WAHA: POST /api/sendText with session, <digits>@c.us and X-Api-Key', async () => {
    const r = await wahaGw({ baseUrl: `${waha.url}/` }).send(PHONE, 'Hello ✓');
    assert.deepEqual(r, { ok: true, status: 200, error: null, timedOut: false });
    assert.deepEqual(waha.received.map((m) => [m.phone, m.text]), [[DIGITS, 'Hello ✓']]);
    assert.deepEqual(waha.rejected, []);
  });

  it('WAHA without a key sends no X-Api-Key; a wrong key or session is refused', async () => {
    assert.equal((await new WahaGateway({ baseUrl: wahaOpen.url, apiKey: null, session: 'default', timeoutMs: 2000 }).send(PHONE, 'x')).ok, true);
    assert.equal(wahaOpen.rejected.length, 0);
    const wrong = await wahaGw({ apiKey: 'nope' }).send(PHONE, 'x');
    assert.deepEqual(wrong, { ok: false, status: 401, error: 'HTTP 401', timedOut: false });
    const session = await wahaGw({ session: 'default' }).send(PHONE, 'x');
    assert.equal(session.status, 400);
    assert.deepEqual(waha.rejected.map((r) => r.error).slice(-2), ['wrong X-Api-Key', 'unknown session']);
  });

  it('GOWA: POST /send/message with <digits>@s.whatsapp.net and HTTP Basic', async () => {
    const r = await gowaGw().send('+14155550123', 'Line one');
    assert.deepEqual(r, { ok: true, status: 200, error: null, timedOut: false });
    assert.deepEqual(gowa.received.map((m) => [m.phone, m.text]), [['14155550123', 'Line one']]);
    const wrong = await gowaGw({ basicAuth: 'admin:wrong' }).send(PHONE, 'x');
    assert.equal(wrong.status, 401);
    const none = await gowaGw({ basicAuth: null }).send(PHONE, 'x');
    assert.equal(none.status, 401);
    assert.deepEqual(gowa.rejected.map((r) => r.error), ['wrong basic auth', 'missing basic auth']);
  });

  it('a 5xx is a failure with its status; a redirect is not followed', async () => {
    waha.behaveFor('+4915112345678', { status: 503 });
    assert.deepEqual(await wahaGw().send('+4915112345678', 'x'), { ok: false, status: 503, error: 'HTTP 503', timedOut: false });
    waha.behaveFor('+4915112345678', { redirectTo: `${gowa.url}/send/message` });
    const before = gowa.received.length + gowa.rejected.length;
    assert.deepEqual(await wahaGw().send('+4915112345678', 'x'), { ok: false, status: 307, error: 'redirect not followed', timedOut: false });
    assert.equal(gowa.received.length + gowa.rejected.length, before, 'the redirect target was never asked');
    waha.behaveFor('+4915112345678', null);
  });

  it('times out for real on a hung gateway, and waits for a slow one within the limit', async () => {
    gowa.behaveFor('+4420790000001', { hang: true });
    const t0 = performance.now();
    const r = await gowaGw({ timeoutMs: 300 }).send('+4420790000001', 'x');
    const took = performance.now() - t0;
    assert.deepEqual(r, { ok: false, status: null, error: 'timeout', timedOut: true });
    assert.ok(took >= 280 && took < 2000, `gave up after ${Math.round(took)} ms`);
    gowa.behaveFor('+4420790000001', { slowMs: 150 });
    assert.equal((await gowaGw({ timeoutMs: 2000 }).send('+4420790000001', 'x')).ok, true);
    gowa.behaveFor('+4420790000001', null);
  });

  it('reads at most 64 KiB of an answer, and reports a closed port', async () => {
    waha.behaveFor('+61400000001', { bigBody: 5 * 1024 * 1024 });
    const r = await wahaGw().send('+61400000001', 'x');
    assert.equal(r.ok, true);
    waha.behaveFor('+61400000001', null);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await new WahaGateway({ baseUrl: `http://127.0.0.1:${port}`, apiKey: null, session: 'default', timeoutMs: 2000 }).send(PHONE, 'x');
    assert.deepEqual(refused, { ok: false, status: null, error: 'connection refused', timedOut: false });
  });

  it('WhatsAppClient picks the configured gateway and logs failures with the phone masked, never the text', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    const config = loadConfig({ NODE_ENV: 'test', WHATSAPP_PROVIDER: 'gowa', WHATSAPP_BASE_URL: gowa.url, WHATSAPP_BASIC_AUTH: 'admin:s3cret:x' });
    const client = new WhatsAppClient(config, createLogger('info', sink));
    assert.equal(client.configured, true);
    assert.equal((await client.send('+33612345678', 'secret text ok')).ok, true);
    gowa.behaveFor('+33612345678', { status: 500 });
    const r = await client.send('+33612345678', 'secret text failing');
    assert.deepEqual(r, { ok: false, status: 500, error: 'HTTP 500', timedOut: false });
    gowa.behaveFor('+33612345678', null);
    const log = lines.join('');
    assert.match(log, /WhatsApp gateway did not accept a message/);
    assert.ok(log.includes(maskPhone('+33612345678')), log);
    assert.equal(maskPhone('+33612345678'), '+336*****678');
    assert.ok(!log.includes('33612345678'), 'no full phone number in logs');
    assert.ok(!log.includes('secret text'), 'no message text in logs');
    assert.ok(!log.includes('s3cret'), 'no credentials in logs');
    assert.equal(new WhatsAppClient(loadConfig({ NODE_ENV: 'test' }), createLogger('info', sink)).configured, false);
  });
});
