import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Public } from '../../src/common/decorators';
import { validateBody } from '../../src/common/validation';
import { startTestApp, TestApp } from '../support/test-app';

@Controller('test-only')
class ThrowingController {
  @Public()
  @Get('boom')
  boom(): never {
    throw new Error('secret internal detail: password=hunter2 at /srv/app.ts');
  }

  @Public()
  @Post('echo')
  echo(@Body() body: unknown): unknown {
    return validateBody(body, { name: { kind: 'string', max: 5, required: true }, n: { kind: 'int', min: 0 } }, { partial: false });
  }
}

@Module({ controllers: [ThrowingController] })
class ThrowingModule {}

describe('HTTP foundation', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ extraModules: [ThrowingModule] });
  });
  after(async () => t.close());

  it('answers a route with and without the trailing slash, never redirecting', async () => {
    for (const path of ['/api/status', '/api/status/']) {
      const r = await t.request('GET', path);
      assert.equal(r.status, 200, path);
      assert.deepEqual(r.body, { status: 'OK', message: 'Ecoflow system is operational.' });
    }
  });

  it('answers unknown routes with a JSON 404', async () => {
    const r = await t.request('GET', '/definitely/not/here');
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { detail: 'Not found.' });
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  });

  it('answers a wrong method with 405 and Allow', async () => {
    const r = await t.request('DELETE', '/api/status/');
    assert.equal(r.status, 405);
    assert.deepEqual(r.body, { detail: 'Method "DELETE" not allowed.' });
    assert.equal(r.headers.get('allow'), 'GET, HEAD, OPTIONS');
  });

  it('hides internals of unexpected errors behind an error id that the log carries', async () => {
    const r = await t.request('GET', '/test-only/boom');
    assert.equal(r.status, 500);
    assert.deepEqual(Object.keys(r.body as object).sort(), ['detail', 'error_id']);
    assert.equal(r.body.detail, 'Internal server error');
    assert.match(r.body.error_id as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.doesNotMatch(r.text, /hunter2|srv|stack/);
    const logged = t.logs.find((l) => l.error_id === r.body.error_id);
    assert.ok(logged, 'the error id is logged');
    assert.equal(logged.severity, 'ERROR');
    assert.match(JSON.stringify(logged), /secret internal detail/);
  });

  it('sends the security headers and no X-Powered-By', async () => {
    const r = await t.request('GET', '/api/status/');
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('referrer-policy'), 'same-origin');
    assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(r.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
    assert.equal(r.headers.get('x-powered-by'), null);
    assert.equal(r.headers.get('strict-transport-security'), null, 'HSTS only in production');
  });

  it('answers CORS preflights for any origin by default', async () => {
    const r = await t.request('OPTIONS', '/alerts/', { headers: { origin: 'https://dash.example', 'access-control-request-method': 'GET' } });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.equal(r.headers.get('access-control-allow-methods'), 'DELETE, GET, OPTIONS, PATCH, POST, PUT');
    assert.match(r.headers.get('access-control-allow-headers') ?? '', /x-device-key/);
    assert.equal(r.headers.get('access-control-max-age'), '3600');
  });

  it('reports every invalid field at once in the Django shape', async () => {
    const r = await t.request('POST', '/test-only/echo/', { body: { name: 'too long', n: -1 } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, {
      name: ['Ensure this field has no more than 5 characters.'],
      n: ['Ensure this value is greater than or equal to 0.'],
    });
  });

  it('accepts urlencoded and multipart bodies with form coercion', async () => {
    const form = await t.request('POST', '/test-only/echo', { raw: 'name=abc&n=7', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.status, 201);
    assert.deepEqual(form.body, { name: 'abc', n: 7 });
    const fd = new FormData();
    fd.set('name', 'xyz');
    fd.set('n', '3');
    const multi = await t.request('POST', '/test-only/echo', { raw: fd });
    assert.equal(multi.status, 201);
    assert.deepEqual(multi.body, { name: 'xyz', n: 3 });
  });

  it('rejects malformed JSON, unsupported media types and bodies over 1 MiB', async () => {
    const bad = await t.request('POST', '/test-only/echo', { raw: '{"name": ', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { detail: 'JSON parse error' });
    const xml = await t.request('POST', '/test-only/echo', { raw: '<a/>', headers: { 'content-type': 'application/xml' } });
    assert.equal(xml.status, 415);
    assert.deepEqual(xml.body, { detail: 'Unsupported media type "application/xml" in request.' });
    const big = await t.request('POST', '/test-only/echo', { raw: JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }), headers: { 'content-type': 'application/json' } });
    assert.equal(big.status, 413);
    assert.deepEqual(big.body, { detail: 'Request body too large.' });
  });
});

describe('CORS allow-list', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ env: { CORS_ORIGINS: 'https://dash.example' } });
  });
  after(async () => t.close());

  it('echoes a listed origin and omits the header for others', async () => {
    const ok = await t.request('GET', '/api/status/', { headers: { origin: 'https://dash.example' } });
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://dash.example');
    assert.match(ok.headers.get('vary') ?? '', /Origin/);
    const evil = await t.request('OPTIONS', '/alerts/', { headers: { origin: 'https://evil.example', 'access-control-request-method': 'DELETE' } });
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    assert.equal(evil.headers.get('access-control-allow-methods'), null);
  });
});
