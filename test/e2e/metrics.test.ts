import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Metrics } from '../../src/observability/metrics.service';
import { startTestApp, TestApp } from '../support/test-app';
import { sample } from '../support/prometheus';

const METRICS_TOKEN = 'scraper-token-0123456789';


describe('/metrics and /api/memory/', () => {
  let t: TestApp;
  let admin: string;
  let operator: string;
  before(async () => {
    t = await startTestApp({ env: { METRICS_TOKEN } });
    admin = (await t.admin()).token;
    operator = (await t.operator()).token;
  });
  after(async () => t.close());

  const scrape = async (): Promise<string> => {
    const r = await t.request('GET', '/metrics', { token: admin });
    assert.equal(r.status, 200);
    return r.text;
  };

  it('needs an ADMIN access token or the METRICS_TOKEN', async () => {
    const none = await t.request('GET', '/metrics');
    assert.equal(none.status, 401);
    assert.deepEqual(none.body, { detail: 'Authentication credentials were not provided.' });
    assert.equal((await t.request('GET', '/metrics', { token: operator })).status, 403);
    assert.equal((await t.request('GET', '/metrics', { token: 'not-the-token' })).status, 401);
    const scraper = await t.request('GET', '/metrics', { token: METRICS_TOKEN });
    assert.equal(scraper.status, 200);
    assert.match(scraper.headers.get('content-type') ?? '', /^text\/plain;.*version=0\.0\.4/);
    assert.equal((await t.request('GET', '/metrics/', { token: admin })).status, 200);
  });

  it('exposes process, HTTP, upstream, throttle and pool series', async () => {
    await t.request('GET', '/api/status/');
    const text = await scrape();
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'http_requests_total',
      'http_request_duration_seconds',
      'upstream_requests_total',
      'upstream_request_duration_seconds',
      'gemini_retries_total',
      'sensor_throttle_rejections_total',
      'login_throttle_rejections_total',
      'throttle_store_fallbacks_total',
      'db_pool_connections',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exposed`);
    }
    assert.ok(sample(text, 'db_pool_connections', { state: 'total' }) >= 1, 'the pool has a connection after a query');
    assert.ok(sample(text, 'db_pool_connections', { state: 'idle' }) >= 0);
    assert.equal(sample(text, 'db_pool_connections', { state: 'waiting' }), 0);
    assert.ok(sample(text, 'process_resident_memory_bytes') > 0);
  });

  it('counts requests by route template and status, with latency, after each request', async () => {
    const ok = { method: 'GET', route: '/api/status', status: '200' };
    const miss = { method: 'GET', route: 'unmatched', status: '404' };
    const before = await scrape();
    for (let i = 0; i < 3; i++) {
      assert.equal((await t.request('GET', i % 2 ? '/api/status' : '/api/status/')).status, 200);
    }
    assert.equal((await t.request('GET', '/no/such/route/42')).status, 404);
    await new Promise((r) => setTimeout(r, 20));
    const afterText = await scrape();
    assert.equal(sample(afterText, 'http_requests_total', ok) - sample(before, 'http_requests_total', ok), 3);
    assert.equal(sample(afterText, 'http_request_duration_seconds_count', ok) - sample(before, 'http_request_duration_seconds_count', ok), 3);
    assert.equal(sample(afterText, 'http_requests_total', miss) - sample(before, 'http_requests_total', miss), 1);
    assert.doesNotMatch(afterText, /route="\/no\/such/, 'raw paths never become labels');
    // the 401/403 scrapes above are counted under the /metrics route
    assert.ok(sample(afterText, 'http_requests_total', { method: 'GET', route: '/metrics', status: '401' }) >= 2);
  });

  it('shows what features record through the Metrics seam', async () => {
    const m = t.app.get(Metrics);
    const labels = { service: 'crowd', outcome: 'timeout' };
    const before = sample(await scrape(), 'upstream_requests_total', labels);
    m.recordUpstream('crowd', 'timeout', 20);
    m.sensorThrottleRejected();
    const text = await scrape();
    assert.equal(sample(text, 'upstream_requests_total', labels) - before, 1);
    assert.ok(sample(text, 'upstream_request_duration_seconds_bucket', { ...labels, le: '30' }) >= 1);
    assert.ok(sample(text, 'sensor_throttle_rejections_total') >= 1);
  });

  it('/api/memory/ reports rss, heap and external memory in MB with 2 decimals, for ADMIN only', async () => {
    assert.equal((await t.request('GET', '/api/memory/')).status, 401);
    assert.equal((await t.request('GET', '/api/memory/', { token: operator })).status, 403);
    const r = await t.request('GET', '/api/memory/', { token: admin });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body as object).sort(), ['external', 'heap_total', 'heap_used', 'rss']);
    const mem = process.memoryUsage(); // the app runs in this process
    for (const [key, bytes] of [
      ['rss', mem.rss],
      ['heap_total', mem.heapTotal],
    ] as const) {
      const v = r.body[key] as number;
      assert.equal(typeof v, 'number');
      assert.equal(Math.round(v * 100) / 100, v, `${key} has at most 2 decimals`);
      assert.ok(Math.abs(v - bytes / 2 ** 20) < Math.max(64, (bytes / 2 ** 20) * 0.5), `${key} is in MiB (${v} vs ${bytes} bytes)`);
    }
    assert.ok(r.body.heap_used > 0 && r.body.heap_used <= r.body.heap_total);
    assert.ok(r.body.rss > r.body.heap_used);
    assert.equal((await t.request('GET', '/api/memory', { token: admin })).status, 200);
  });
});
