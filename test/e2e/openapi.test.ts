import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, TestApp } from '../support/test-app';
import { ALERT_KEYS } from '../support/wire';

/** The operator-API routes the document must describe: path → methods. */
const OPERATOR_ROUTES: Record<string, string[]> = {
  '/organizations': ['get', 'post'],
  '/organizations/{id}': ['get', 'put', 'patch', 'delete'],
  '/zones': ['get', 'post'],
  '/zones/{id}': ['get', 'put', 'patch', 'delete'],
  '/cameras': ['get', 'post'],
  '/cameras/{id}': ['get', 'put', 'patch', 'delete'],
  '/cameras/{id}/rotate-key': ['post'],
  '/alerts': ['get', 'post'],
  '/alerts/{id}': ['get', 'put', 'patch', 'delete'],
  '/notifications': ['get', 'post'],
  '/notifications/{id}': ['get', 'delete'],
};

type Op = {
  tags?: string[];
  security?: unknown[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string; type?: string; items?: { $ref?: string } } }>; headers?: Record<string, unknown> }>;
};

describe('OpenAPI document and UI', () => {
  let t: TestApp;
  let doc: { openapi: string; paths: Record<string, Record<string, Op>>; components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }>; securitySchemes?: Record<string, unknown> } };

  before(async () => {
    t = await startTestApp();
    const r = await t.request('GET', '/openapi.json');
    assert.equal(r.status, 200, 'the document is public');
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    doc = r.body;
  });
  after(async () => t.close());

  it('lists every operator route and method, tagged and behind bearer auth', () => {
    assert.match(doc.openapi, /^3\./);
    assert.ok(doc.components.securitySchemes?.bearer, 'a bearer scheme is declared');
    for (const [path, methods] of Object.entries(OPERATOR_ROUTES)) {
      const item = doc.paths[path];
      assert.ok(item, `${path} is documented`);
      for (const m of methods) {
        const op = item[m];
        assert.ok(op, `${m.toUpperCase()} ${path} is documented`);
        assert.ok(op.tags?.length, `${m.toUpperCase()} ${path} has a tag`);
        assert.ok(op.security?.length, `${m.toUpperCase()} ${path} needs a bearer token`);
        if (path.includes('{id}')) {
          assert.ok(
            op.parameters?.some((p) => p.name === 'id' && p.in === 'path'),
            `${path} documents its id`,
          );
        }
      }
    }
    assert.equal(doc.paths['/notifications/{id}'].put, undefined, 'notifications cannot be edited');
  });

  it('describes request bodies and response schemas', () => {
    const schemaName = (ref: string | undefined): string => (ref ?? '').replace('#/components/schemas/', '');
    const created = doc.paths['/organizations'].post;
    assert.equal(schemaName(created.requestBody?.content['application/json'].schema.$ref), 'OrganizationInputDto');
    assert.equal(schemaName(created.responses['201'].content?.['application/json'].schema.$ref), 'OrganizationDto');
    const list = doc.paths['/alerts'].get;
    const listSchema = list.responses['200'].content?.['application/json'].schema;
    assert.equal(listSchema?.type, 'array');
    assert.equal(schemaName(listSchema?.items?.$ref), 'AlertDto');
    assert.ok(list.responses['200'].headers?.['X-Total-Count']);
    assert.deepEqual(
      ['status', 'org_id', 'zone_id', 'limit', 'offset'].filter((q) => !list.parameters?.some((p) => p.name === q && p.in === 'query')),
      [],
    );
    assert.equal(schemaName(doc.paths['/cameras'].post.responses['201'].content?.['application/json'].schema.$ref), 'CameraWithKeyDto');
    assert.equal(schemaName(doc.paths['/cameras/{id}/rotate-key'].post.responses['200'].content?.['application/json'].schema.$ref), 'DeviceKeyDto');

    const s = doc.components.schemas;
    assert.deepEqual(Object.keys(s.OrganizationDto.properties ?? {}), ['id', 'name', 'org_type', 'total_capacity', 'latitude', 'longitude', 'zones']);
    assert.deepEqual(Object.keys(s.ZoneDto.properties ?? {}), ['id', 'name', 'zone_type', 'capacity', 'latitude', 'longitude', 'organization', 'cameras']);
    assert.deepEqual(Object.keys(s.CameraDto.properties ?? {}), ['id', 'name', 'is_active', 'zone', 'created_at', 'has_device_key', 'last_seen_at', 'online']);
    assert.deepEqual(Object.keys(s.AlertDto.properties ?? {}), ALERT_KEYS);
    assert.deepEqual(Object.keys(s.NotificationDto.properties ?? {}), ['id', 'title', 'message', 'created_at']);
    assert.deepEqual(s.ZoneInputDto.required?.sort(), ['name', 'organization_id', 'zone_type']);
    assert.ok(doc.paths['/alerts'].post.responses['409'], 'the 409 is documented');
    assert.ok(doc.paths['/organizations/{id}'].delete.responses['403'], 'admin routes document 403');
  });

  it('serves the Swagger UI as HTML at /docs without a token', async () => {
    for (const path of ['/docs', '/docs/']) {
      const r = await t.request('GET', path);
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get('content-type') ?? '', /text\/html/);
      assert.match(r.text, /swagger-ui/i);
      assert.equal(r.headers.get('content-security-policy'), null, 'the UI needs its scripts');
    }
    const init = await t.request('GET', '/docs/swagger-ui-init.js');
    assert.equal(init.status, 200);
    assert.match(init.text, /\/organizations\/\{id\}/);
  });
});
