import fc from 'fast-check';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CrowdServer, startCrowdServer } from '../doubles/crowd-server';
import { detectForm, jpeg, jpegDeclaring, png, pngDeclaring } from '../support/images';
import { createSite, Site } from '../support/sensor';
import { startTestApp, TEST_JWT_SECRET, TestApp, TestResponse } from '../support/test-app';
import { Recorder, scanBody, snapshot } from './support';

process.env.CROWD_BREAKER_FAILURES = '1000';

const RUNS = Number(process.env.FUZZ_RUNS ?? 50);

// values a client might send by mistake or on purpose
const scalar = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ minLength: 250, maxLength: 300 }),
  fc.integer(),
  fc.integer({ min: -1, max: 3 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt().map(String),
  fc.constantFrom('', ' ', '0', '-1', '2147483648', '1e3', 'true', 'yes', 'OPEN', 'CLOSED', 'ADMIN', '40.712800', '<script>x</script>', "' OR 1=1 --", '\u0000', '\ud800'),
);
const value = fc.oneof({ weight: 5, arbitrary: scalar }, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), scalar, { maxKeys: 2 }));
type Encoding = 'json' | 'form' | 'multipart';
const encoding = fc.constantFrom<Encoding>('json', 'json', 'form', 'multipart');

function formValue(v: unknown): string {
  return typeof v === 'string' ? v : v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

describe('property-based fuzzing: never a 5xx, never an unhandled rejection, nothing written on a 4xx', () => {
  const rec = new Recorder('fuzz');
  let t: TestApp;
  let crowd: CrowdServer;
  let admin: string;
  let operator: string;
  let site: Site;
  let alertId: number;
  let images: Buffer[];
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    rejections.push(reason);
  };

  before(async () => {
    process.on('unhandledRejection', onRejection);
    crowd = await startCrowdServer();
    crowd.setDefault({ count: 3 });
    t = await startTestApp({
      env: { CROWD_PREDICT_URL: crowd.predictUrl, CROWD_TIMEOUT_MS: '3000', SENSOR_THROTTLE_MS: '0', MAX_UPLOAD_BYTES: '100000', LOG_LEVEL: 'warn' },
    });
    rec.instrument(t);
    admin = (await t.admin()).token;
    operator = (await t.operator()).token;
    site = await createSite(t, { capacity: 10, zoneName: 'Fuzz hall' });
    rec.secrets.push(site.key);
    const a = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'Seed', zone_id: site.zone.id } });
    assert.equal(a.status, 201, a.text);
    alertId = a.body.id;
    images = [await jpeg(32, 24), await png(16, 16), jpegDeclaring(20_000, 20_000), pngDeclaring(100, 100)];
  });
  after(async () => {
    process.off('unhandledRejection', onRejection);
    rec.unhandledRejections = rejections.length;
    rec.write();
    await t.close();
    await crowd.close();
    assert.deepEqual(rejections, [], 'no unhandled rejection');
    assert.deepEqual(rec.leaks, [], 'no response leaked internals or secrets');
  });

  /** Sends one request and checks the invariant; returns a failure text or null. */
  async function probe(category: string, send: () => Promise<TestResponse>): Promise<string | null> {
    const before = await snapshot(t.ds);
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      send(),
      new Promise<TestResponse>((resolve) => {
        timer = setTimeout(() => resolve({ status: 599, headers: new Headers(), text: 'no answer within 10 s', bytes: Buffer.alloc(0), body: undefined }), 10_000);
      }),
    ]);
    clearTimeout(timer);
    const changed = r.status >= 400 && (await snapshot(t.ds)) !== before;
    rec.record(category, r.status, r.status < 500 && !changed, changed);
    if (r.status >= 500) {
      return `${category}: ${r.status} ${r.text.slice(0, 200)}`;
    }
    if (changed) {
      return `${category}: database changed after ${r.status} ${r.text.slice(0, 200)}`;
    }
    return null;
  }

  function send(method: string, path: string, token: string | undefined, body: Record<string, unknown>, enc: Encoding): Promise<TestResponse> {
    if (enc === 'json') {
      return t.request(method, path, { token, body });
    }
    if (enc === 'form') {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) {
        params.append(k, formValue(v));
      }
      return t.request(method, path, { token, raw: params.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    }
    const form = new FormData();
    for (const [k, v] of Object.entries(body)) {
      form.append(k, formValue(v));
    }
    return t.request(method, path, { token, raw: form });
  }

  /** A payload over `keys` (each key absent, plausible or hostile) plus random unknown keys. */
  function payload(keys: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
    const fields = Object.fromEntries(Object.entries(keys).map(([k, plausible]) => [k, fc.oneof(plausible, value)]));
    return fc
      .tuple(fc.record(fields, { requiredKeys: [] }), fc.dictionary(fc.string({ maxLength: 12 }), value, { maxKeys: 3 }))
      .map(([known, extra]) => ({ ...extra, ...known }));
  }

  const text = (max: number): fc.Arbitrary<string> => fc.string({ minLength: 1, maxLength: max });
  const coord = fc.oneof(fc.double({ min: -999, max: 999, noNaN: true }), fc.integer({ min: -180, max: 180 }).map(String));
  const cap = fc.integer({ min: -5, max: 2_147_483_650 });

  const routes: { name: string; method: string; path: () => string; token: () => string; keys: () => Record<string, fc.Arbitrary<unknown>> }[] = [
    { name: 'POST /organizations/', method: 'POST', path: () => '/organizations/', token: () => admin, keys: () => ({ name: text(260), org_type: text(105), total_capacity: cap, latitude: coord, longitude: coord }) },
    {
      name: 'PATCH /organizations/{id}/',
      method: 'PATCH',
      path: () => `/organizations/${site.zone.organizationId}/`,
      token: () => admin,
      keys: () => ({ name: text(260), org_type: text(105), total_capacity: cap, latitude: coord, longitude: coord, id: fc.integer() }),
    },
    {
      name: 'POST /zones/',
      method: 'POST',
      path: () => '/zones/',
      token: () => admin,
      keys: () => ({ name: text(260), zone_type: text(105), organization_id: fc.constant(site.zone.organizationId), capacity: cap, latitude: coord, longitude: coord }),
    },
    {
      name: 'PUT /zones/{id}/',
      method: 'PUT',
      path: () => `/zones/${site.zone.id}/`,
      token: () => admin,
      keys: () => ({ name: text(260), zone_type: text(105), organization_id: fc.constant(site.zone.organizationId), capacity: cap }),
    },
    { name: 'POST /cameras/', method: 'POST', path: () => '/cameras/', token: () => admin, keys: () => ({ name: text(260), zone_id: fc.constant(site.zone.id), is_active: fc.constantFrom(true, 'on', 'no', 1) }) },
    {
      name: 'PATCH /cameras/{id}/',
      method: 'PATCH',
      path: () => `/cameras/${site.camera.id}/`,
      token: () => admin,
      keys: () => ({ name: text(260), zone_id: fc.constant(site.zone.id), is_active: fc.constant(true), api_key_hash: fc.constant('0'.repeat(64)) }),
    },
    {
      name: 'POST /alerts/',
      method: 'POST',
      path: () => '/alerts/',
      token: () => admin,
      keys: () => ({ heading: text(260), sub_heading: fc.string(), status: fc.constantFrom('OPEN', 'CLOSED'), zone_id: fc.constant(site.zone.id), camera_id: fc.constant(site.camera.id) }),
    },
    {
      name: 'PATCH /alerts/{id}/ (operator)',
      method: 'PATCH',
      path: () => `/alerts/${alertId}/`,
      token: () => operator,
      keys: () => ({ status: fc.constantFrom('OPEN', 'CLOSED', 'open'), heading: text(10) }),
    },
    {
      name: 'PUT /alerts/{id}/ (admin)',
      method: 'PUT',
      path: () => `/alerts/${alertId}/`,
      token: () => admin,
      keys: () => ({ status: fc.constantFrom('OPEN', 'CLOSED'), heading: text(260), sub_heading: fc.string() }),
    },
    { name: 'POST /notifications/', method: 'POST', path: () => '/notifications/', token: () => admin, keys: () => ({ title: text(260), message: fc.string() }) },
    { name: 'PATCH /auth/me/', method: 'PATCH', path: () => '/auth/me/', token: () => operator, keys: () => ({ first_name: text(155), last_name: text(155), role: fc.constant('ADMIN'), email: fc.emailAddress() }) },
    {
      name: 'POST /auth/register/',
      method: 'POST',
      path: () => '/auth/register/',
      token: () => '',
      keys: () => ({ email: fc.emailAddress(), password: fc.string({ minLength: 6, maxLength: 130 }), first_name: text(155), role: fc.constantFrom('USER', 'ADMIN') }),
    },
    { name: 'POST /auth/login/', method: 'POST', path: () => '/auth/login/', token: () => '', keys: () => ({ email: fc.emailAddress(), password: fc.string() }) },
  ];

  for (const route of routes) {
    it(`${route.name}: arbitrary payloads`, async () => {
      const runs = route.name.includes('/auth/register') ? Math.ceil(RUNS / 2) : RUNS; // argon2 is deliberately slow
      await fc.assert(
        fc.asyncProperty(payload(route.keys()), encoding, async (body, enc) => {
          const failure = await probe(`fuzz: ${route.name}`, () => send(route.method, route.path(), route.token() || undefined, body, enc));
          assert.equal(failure, null);
        }),
        { numRuns: runs, endOnFailure: true },
      );
    });
  }

  it('raw bodies with any Content-Type', async () => {
    const contentType = fc.oneof(
      fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain', 'application/json; charset=latin1', ''),
      fc.string({ maxLength: 30 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    );
    const raw = fc.oneof(fc.string({ maxLength: 200 }), fc.json(), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)));
    const path = fc.constantFrom('/organizations/', '/notifications/', '/auth/login/', '/auth/register/', `/zones/`, '/auth/refresh/');
    await fc.assert(
      fc.asyncProperty(path, contentType, raw, async (p, type, bytes) => {
        const headers: Record<string, string> = type ? { 'content-type': type } : {};
        const failure = await probe('fuzz: raw bodies', () => t.request('POST', p, { token: admin, raw: bytes, headers }));
        assert.equal(failure, null);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });

  it('/sensor/detect/: arbitrary multipart fields and files', async () => {
    // the update properties above may have emptied the zone or moved/deactivated the camera
    await t.ds.query('UPDATE lims_zone SET capacity = 10 WHERE id = $1', [site.zone.id]);
    await t.ds.query('UPDATE lims_camera SET zone_id = $1, is_active = true WHERE id = $2', [site.zone.id, site.camera.id]);
    const id = (valid: () => number): fc.Arbitrary<string | undefined> =>
      fc.oneof(
        fc.constant(undefined),
        { weight: 5, arbitrary: fc.constant('valid').map(() => String(valid())) },
        fc.string({ maxLength: 25 }),
        fc.bigInt().map(String),
        fc.constantFrom('', ' 1', '0', '-1', '1.0', '1e2', '0x1', '９'),
      );
    const file = fc.oneof(
      fc.constant(undefined),
      { weight: 5, arbitrary: fc.integer({ min: 0, max: images.length - 1 }).map((i) => images[i]) },
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), b])),
      fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 })).map(([w, h]) => jpegDeclaring(w, h)),
      fc.tuple(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 2 ** 31 - 1 })).map(([w, h]) => pngDeclaring(w, h)),
      fc.integer({ min: 1, max: 400 }).map((n) => images[0].subarray(0, n)),
    );
    const filename = fc.oneof(fc.string({ maxLength: 120 }), fc.constantFrom('../../etc/passwd', '..\\..\\win.ini', '', '.hidden', 'a'.repeat(300)));
    const extra = fc.array(fc.tuple(fc.constantFrom('zone_id', 'camera_id', 'file', 'other', ''), fc.string({ maxLength: 10 })), { maxLength: 3 });
    const deviceKey = fc.oneof({ weight: 6, arbitrary: fc.constant('valid') }, fc.constantFrom(undefined, '', 'ecd_x', `${'A'.repeat(47)}`));
    await fc.assert(
      fc.asyncProperty(id(() => site.zone.id), id(() => site.camera.id), file, filename, fc.constantFrom('image/jpeg', 'text/html', 'application/octet-stream', ''), extra, deviceKey, async (zoneId, cameraId, f, name, type, more, k) => {
        const headers: Record<string, string> = {};
        if (k !== undefined) {
          headers['x-device-key'] = k === 'valid' ? site.key : k;
        }
        const form = detectForm({ zoneId, cameraId, file: f, filename: name, type, extra: more });
        const failure = await probe('fuzz: /sensor/detect/ multipart', () => t.request('POST', '/sensor/detect/', { raw: form, headers }));
        assert.equal(failure, null);
      }),
      { numRuns: RUNS * 2, endOnFailure: true },
    );
  });

  it('property runs actually reached both success and rejection paths', () => {
    const statuses = new Set<number>();
    for (const c of Object.values(rec.categories)) {
      for (const s of Object.keys(c.statuses)) {
        statuses.add(Number(s));
      }
    }
    for (const s of [200, 201, 400, 401, 415]) {
      assert.ok(statuses.has(s), `some fuzz case answered ${s}: ${[...statuses].join(',')}`);
    }
  });
});

describe('response scan: the leak detector finds what it looks for', () => {
  it('flags stack traces, SQL, driver errors, upstream bodies and secrets; passes clean bodies', () => {
    assert.deepEqual(scanBody('{"detail":"Not found."}', [TEST_JWT_SECRET]), []);
    assert.ok(scanBody('Error: x\n    at Foo.bar (/app/dist/src/x.js:10:5)', []).includes('stack frame'));
    assert.ok(scanBody('{"e":"src/alerts/alerts.service.ts:42"}', []).includes('source line reference'));
    assert.ok(scanBody('{"e":"SELECT * FROM lims_zone WHERE id = $1"}', []).includes('SQL text'));
    assert.ok(scanBody('{"e":"QueryFailedError: duplicate key value"}', []).includes('driver error'));
    assert.ok(scanBody('{"error":{"status":"RESOURCE_EXHAUSTED"}}', []).includes('upstream body'));
    assert.deepEqual(scanBody(`{"t":"${TEST_JWT_SECRET}"}`, [TEST_JWT_SECRET]), [`secret ${TEST_JWT_SECRET.slice(0, 6)}…`]);
    // a value the client stored itself may come back verbatim
    assert.deepEqual(scanBody('{"name":"SELECT * FROM x"}', [], ['SELECT * FROM x']), []);
  });
});
