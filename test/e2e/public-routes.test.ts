import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryModule, DiscoveryService, MetadataScanner } from '@nestjs/core';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IS_PUBLIC } from '../../src/common/decorators';
import { startTestApp, TestApp } from '../support/test-app';

/** Spec §4.2: the only routes that may skip the Bearer token. */
const SPEC_PUBLIC = new Set(['/api/status', '/api/health', '/auth/register', '/auth/login', '/auth/refresh', '/health/live', '/health/ready', '/sensor/detect']);
/** Public to the JWT guard but checked in its own controller (admin token or METRICS_TOKEN, spec §4.3). */
const OWN_CHECK = new Set(['/metrics']);
/** API documentation (issue 3, item 5) is deliberately readable without a token. */
const DOCUMENTATION = /^\/(docs(-json|-yaml)?(\/.*)?|openapi\.(json|yaml))$/;

interface NestRoute {
  method: string;
  path: string;
  isPublic: boolean;
  handler: string;
}

const asList = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : [typeof v === 'string' ? v : '']);
const normalize = (p: string): string => `/${p.split('/').filter(Boolean).join('/')}`;

/** Every route Nest registered from a controller, read from the same metadata the guard reads. */
function nestRoutes(t: TestApp): NestRoute[] {
  const discovery = t.app.get(DiscoveryService);
  const scanner = t.app.get(MetadataScanner);
  const out: NestRoute[] = [];
  for (const wrapper of discovery.getControllers()) {
    const cls = wrapper.metatype as (new (...a: unknown[]) => unknown) | null;
    if (!cls || !wrapper.instance) {
      continue;
    }
    const proto = Object.getPrototypeOf(wrapper.instance) as Record<string, unknown>;
    const classPaths = asList(Reflect.getMetadata(PATH_METADATA, cls));
    for (const name of scanner.getAllMethodNames(proto)) {
      const handler = proto[name] as object;
      const methodPath: unknown = Reflect.getMetadata(PATH_METADATA, handler);
      if (methodPath === undefined) {
        continue;
      }
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
      // same precedence as the guard's getAllAndOverride: handler first, then class
      const isPublic = Boolean(Reflect.getMetadata(IS_PUBLIC, handler) ?? Reflect.getMetadata(IS_PUBLIC, cls));
      for (const cp of classPaths) {
        for (const mp of asList(methodPath)) {
          out.push({ method, path: normalize(`${cp}/${mp}`), isPublic, handler: `${cls.name}.${name}` });
        }
      }
    }
  }
  return out;
}

/** Every (method, path) the HTTP server answers, from the Express router itself. */
function expressRoutes(t: TestApp): { method: string; path: string }[] {
  const app = t.app.getHttpAdapter().getInstance() as { router?: { stack?: unknown[] }; _router?: { stack?: unknown[] } };
  const stack = (app.router ?? app._router)?.stack ?? [];
  const out: { method: string; path: string }[] = [];
  for (const layer of stack as { route?: { path: unknown; methods: Record<string, boolean> } }[]) {
    if (!layer.route) {
      continue;
    }
    for (const path of asList(layer.route.path)) {
      for (const [m, on] of Object.entries(layer.route.methods)) {
        if (on) {
          out.push({ method: m === '_all' ? 'ALL' : m.toUpperCase(), path: normalize(path) });
        }
      }
    }
  }
  return out;
}

/** A concrete URL for a route pattern: `:id` → 1, wildcards → x. */
const concrete = (path: string): string =>
  path
    .replace(/\{\*[^}]*\}|\*[A-Za-z0-9_]*/g, 'x')
    .replace(/:[A-Za-z0-9_]+/g, '1')
    .replace(/[{}]/g, '') + '/';

describe('secure by default: every route needs a token unless the spec says otherwise', () => {
  let t: TestApp;
  let routes: NestRoute[];

  before(async () => {
    t = await startTestApp({ extraModules: [DiscoveryModule] });
    routes = nestRoutes(t);
  });
  after(async () => t.close());

  it('discovers the registered routes (the walk itself works)', () => {
    const has = (method: string, path: string, isPublic: boolean) =>
      assert.ok(
        routes.some((r) => r.method === method && r.path === path && r.isPublic === isPublic),
        `${method} ${path} ${isPublic ? 'public' : 'protected'} in ${JSON.stringify(routes)}`,
      );
    has('GET', '/auth/me', false);
    has('POST', '/auth/logout', false);
    has('POST', '/auth/login', true);
    has('GET', '/api/status', true);
    assert.ok(routes.length >= 10, `${routes.length} routes`);
  });

  it('has no @Public() route outside the spec\'s public list', () => {
    const offenders = routes.filter((r) => r.isPublic && !SPEC_PUBLIC.has(r.path) && !OWN_CHECK.has(r.path) && !DOCUMENTATION.test(r.path));
    assert.deepEqual(
      offenders.map((r) => `${r.method} ${r.path} (${r.handler})`),
      [],
      'public routes not in spec §4.2: remove @Public() or change the spec',
    );
  });

  it('has no route registered around Nest\'s guard except the documentation', () => {
    const known = new Set(routes.map((r) => `${r.method} ${r.path}`));
    const unguarded = expressRoutes(t).filter((r) => !known.has(`${r.method} ${r.path}`) && !DOCUMENTATION.test(r.path));
    assert.deepEqual(unguarded, [], 'routes registered directly on Express bypass the JWT guard');
  });

  it('answers 401 on every protected route without a token or with a forged one', async () => {
    const protectedRoutes = routes.filter((r) => !r.isPublic);
    assert.ok(protectedRoutes.length > 0);
    const failures: string[] = [];
    for (const r of protectedRoutes) {
      const method = r.method === 'ALL' ? 'GET' : r.method;
      const url = concrete(r.path);
      const anon = await t.request(method, url);
      if (anon.status !== 401 || anon.body?.detail !== 'Authentication credentials were not provided.' || anon.headers.get('www-authenticate') !== 'Bearer realm="api"') {
        failures.push(`${method} ${url} without a token → ${anon.status} ${anon.text}`);
      }
      const forged = await t.request(method, url, { headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJ1c2VyX2lkIjoiMSJ9.' } });
      if (forged.status !== 401 || forged.body?.code !== 'token_not_valid') {
        failures.push(`${method} ${url} with a forged token → ${forged.status} ${forged.text}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('still refuses anonymous callers on public-with-own-check routes', async () => {
    for (const r of routes.filter((x) => x.isPublic && OWN_CHECK.has(x.path))) {
      const res = await t.request(r.method === 'ALL' ? 'GET' : r.method, r.path);
      assert.equal(res.status, 401, `${r.method} ${r.path} → ${res.status}`);
    }
  });

  it('ignores a bad Authorization header on public routes other than /auth/register/', async () => {
    const status = await t.request('GET', '/api/status/', { headers: { authorization: 'Bearer garbage' } });
    assert.equal(status.status, 200);
    const login = await t.request('POST', '/auth/login/', { headers: { authorization: 'Bearer garbage' }, body: { email: 'nobody@example.com', password: 'whatever1' } });
    assert.equal(login.status, 401);
    assert.deepEqual(login.body, { detail: 'No active account found with the given credentials' }, 'the login failure, not a token error');
    const refresh = await t.request('POST', '/auth/refresh/', { headers: { authorization: 'Bearer garbage' }, body: {} });
    assert.equal(refresh.status, 400);
  });
});
