import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CrowdServer, startCrowdServer } from '../doubles/crowd-server';
import { GeminiServer, startGeminiServer } from '../doubles/gemini-server';
import { jpeg } from '../support/images';
import { createSite, detect } from '../support/sensor';
import { startTestApp, TestApp } from '../support/test-app';

const SECRET_BEARER = 'eyJhbGciOiJIUzI1NiJ9.super-secret-access-token.sig';
const DEVICE_KEY = 'ecd_device-key-that-must-never-be-logged-0000000000';

describe('structured access log', () => {
  let t: TestApp;
  before(async () => {
    // Cloud Logging's trace field needs the project id (each test file runs in its own process)
    process.env.GOOGLE_CLOUD_PROJECT = 'demo-project';
    t = await startTestApp();
  });
  after(async () => {
    delete process.env.GOOGLE_CLOUD_PROJECT;
    await t.close();
  });

  /** The access lines of one request; waits briefly because the line is written on 'finish'. */
  const accessLines = async (requestId: string): Promise<Record<string, any>[]> => {
    for (let i = 0; i < 50; i++) {
      const lines = t.logs.filter((l) => l.context === 'http' && l.request_id === requestId);
      if (lines.length) {
        await new Promise((r) => setTimeout(r, 20)); // a duplicate would have arrived by now
        return t.logs.filter((l) => l.context === 'http' && l.request_id === requestId);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return [];
  };

  it('writes one JSON line per request with severity, httpRequest, latency and the echoed request id', async () => {
    const r = await t.request('GET', '/api/status/?password=hunter2&token=querysecret', {
      headers: { authorization: `Bearer ${SECRET_BEARER}`, 'x-device-key': DEVICE_KEY, 'x-request-id': 'req-abc.123', 'user-agent': 'probe/1.0' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-request-id'), 'req-abc.123');
    const lines = await accessLines('req-abc.123');
    assert.equal(lines.length, 1, 'exactly one access line');
    const [line] = lines;
    assert.equal(line.severity, 'INFO');
    assert.equal(line.message, 'GET /api/status/ 200');
    assert.equal(typeof line.time, 'string');
    assert.equal(line.httpRequest.requestMethod, 'GET');
    assert.equal(line.httpRequest.requestUrl, '/api/status/', 'path only, no query string');
    assert.equal(line.httpRequest.status, 200);
    assert.match(line.httpRequest.latency as string, /^\d+\.\d{3}s$/);
    assert.equal(line.httpRequest.userAgent, 'probe/1.0');
    assert.match(line.httpRequest.remoteIp as string, /127\.0\.0\.1/);
    assert.equal(line.httpRequest.responseSize, String(Buffer.byteLength(r.text)));
    const all = JSON.stringify(t.logs);
    for (const secret of [SECRET_BEARER, 'super-secret-access-token', DEVICE_KEY, 'hunter2', 'querysecret']) {
      assert.ok(!all.includes(secret), `${secret} never reaches the log`);
    }
  });

  it('generates a uuid request id when none (or an unusable one) is sent', async () => {
    const r1 = await t.request('GET', '/api/status/');
    const r2 = await t.request('GET', '/api/status/', { headers: { 'x-request-id': `bad id ${'x'.repeat(200)}` } });
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const r of [r1, r2]) {
      const id = r.headers.get('x-request-id') ?? '';
      assert.match(id, uuid);
      assert.equal((await accessLines(id)).length, 1);
    }
    assert.notEqual(r1.headers.get('x-request-id'), r2.headers.get('x-request-id'));
  });

  it('logs client errors as WARNING and keeps the request id on error responses', async () => {
    const r = await t.request('GET', '/metrics', { headers: { authorization: `Bearer ${SECRET_BEARER}`, 'x-request-id': 'req-401' } });
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('x-request-id'), 'req-401');
    const [line] = await accessLines('req-401');
    assert.equal(line.severity, 'WARNING');
    assert.equal(line.httpRequest.status, 401);
    const missing = await t.request('GET', '/nowhere', { headers: { 'x-request-id': 'req-404' } });
    assert.equal(missing.status, 404);
    assert.equal((await accessLines('req-404'))[0]?.httpRequest.status, 404);
    assert.ok(!JSON.stringify(t.logs).includes(SECRET_BEARER));
  });

  it('correlates with Cloud Trace from X-Cloud-Trace-Context or traceparent', async () => {
    await t.request('GET', '/api/status/', {
      headers: { 'x-cloud-trace-context': '105445AA7843BC8BF206B12000100000/255;o=1', 'x-request-id': 'req-trace' },
    });
    const [line] = await accessLines('req-trace');
    assert.equal(line['logging.googleapis.com/trace'], 'projects/demo-project/traces/105445aa7843bc8bf206b12000100000');
    assert.equal(line['logging.googleapis.com/spanId'], '00000000000000ff');
    assert.equal(line['logging.googleapis.com/trace_sampled'], true);

    await t.request('GET', '/api/status/', {
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00', 'x-request-id': 'req-w3c' },
    });
    const [w3c] = await accessLines('req-w3c');
    assert.equal(w3c['logging.googleapis.com/trace'], 'projects/demo-project/traces/4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(w3c['logging.googleapis.com/spanId'], '00f067aa0ba902b7');
    assert.equal(w3c['logging.googleapis.com/trace_sampled'], false);

    await t.request('GET', '/api/status/', { headers: { 'x-cloud-trace-context': 'garbage', 'x-request-id': 'req-notrace' } });
    const [plain] = await accessLines('req-notrace');
    assert.equal(plain['logging.googleapis.com/trace'], undefined);
  });

  it('keeps Cloud Run probe successes out of the info-level log', async () => {
    assert.equal((await t.request('GET', '/health/live', { headers: { 'x-request-id': 'req-probe' } })).status, 200);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await accessLines('req-probe')).length, 0, 'LOG_LEVEL=info hides the debug-level probe line');
  });
});

describe('request id on every line a request causes', () => {
  let t: TestApp;
  let crowd: CrowdServer;
  let gemini: GeminiServer;
  before(async () => {
    crowd = await startCrowdServer();
    gemini = await startGeminiServer();
    process.env.GOOGLE_CLOUD_PROJECT = 'demo-project';
    t = await startTestApp({
      env: { CROWD_PREDICT_URL: crowd.predictUrl, GEMINI_API_KEY: 'k', GEMINI_BASE_URL: gemini.url, GEMINI_MAX_ATTEMPTS: '2', SENSOR_THROTTLE_MS: '0' },
    });
  });
  after(async () => {
    delete process.env.GOOGLE_CLOUD_PROJECT;
    await t.close();
    await crowd.close();
    await gemini.close();
  });

  it('tags the pipeline’s own warnings with the request id and trace of the upload that caused them, with no cross-talk', async () => {
    const site = await createSite(t, { capacity: 100 });
    const danger = await createSite(t, { capacity: 3 }); // 3 people in a zone for 3: DANGER
    const img = await jpeg(32, 32);
    crowd.setDefault({ count: 3 });
    // one upload whose Gemini step fails twice, one whose zone is overcrowded, at the same time
    gemini.enqueue({ status: 500 }, { status: 500 });
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const [failed, crowded] = await Promise.all([
      detect(t, { key: site.key, zoneId: site.zone.id, file: img, headers: { 'x-request-id': 'req-gemini-fails', 'x-cloud-trace-context': `${trace}/1;o=1` } }),
      detect(t, { key: danger.key, zoneId: danger.zone.id, file: img, headers: { 'x-request-id': 'req-overcrowded' } }),
    ]);
    assert.equal(failed.body.carbon_error, 'Error calling Gemini API');
    assert.equal(crowded.body.status, 'DANGER');
    await new Promise((r) => setTimeout(r, 50));
    const own = (id: string) => t.logs.filter((l) => l.request_id === id && l.context !== 'http').map((l) => `${String(l.context)}: ${String(l.message)}`);
    assert.deepEqual(own('req-gemini-fails').sort(), [
      'DetectionService: carbon calculation failed',
      'GeminiClient: Gemini attempt failed',
      'GeminiClient: Gemini attempt failed',
      'GeminiClient: retrying Gemini',
    ]);
    assert.deepEqual(own('req-overcrowded'), ['DetectionService: overcrowding alert opened']);
    const warning = t.logs.find((l) => l.request_id === 'req-gemini-fails' && l.message === 'carbon calculation failed')!;
    assert.equal(warning['logging.googleapis.com/trace'], `projects/demo-project/traces/${trace}`);
    // the access line still carries the id exactly once (the mixin does not repeat it)
    const access = t.logs.filter((l) => l.context === 'http' && l.request_id === 'req-gemini-fails');
    assert.equal(access.length, 1);
    // lines outside any request carry no id
    assert.ok(t.logs.filter((l) => l.context === 'Migrations' || l.context === 'Redis').every((l) => l.request_id === undefined));
  });
});
