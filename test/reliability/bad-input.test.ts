import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Organization } from '../../src/sites/organization.entity';
import { CrowdServer, startCrowdServer } from '../doubles/crowd-server';
import { detectForm, jpeg, jpegDeclaring, png } from '../support/images';
import { createSite, detect, Site } from '../support/sensor';
import { startTestApp, TestApp, TestResponse } from '../support/test-app';
import { countRows, Recorder, snapshot } from './support';

// the crowd double answers every accepted upload; keep the breaker out of the way
process.env.CROWD_BREAKER_FAILURES = '1000';

const MAX_UPLOAD = 200_000;
const REQUIRED = ['This field is required.'];
const BAD_INT = ['A valid integer is required.'];
const BAD_ID = { id: BAD_INT };
const JSON_PARSE = { detail: 'JSON parse error' };
const TOO_LARGE = { detail: 'Request body too large.' };
const media = (type: string): object => ({ detail: `Unsupported media type "${type}" in request.` });
const notFound = (model: string): object => ({ detail: `No ${model} matches the given query.` });
const FORBIDDEN = { detail: 'You do not have permission to perform this action.' };
const SQLISH = `Robert'); DROP TABLE lims_organization;-- SELECT * FROM lims_user`;
const SCRIPTISH = `<script>alert("x")</script><img src=x onerror=alert(1)>`;
const UNICODE = 'Zürich Ωmega 東京 🚀 \u202eevil\u200b \u0007bell\ttab\r\nnewline';

interface Case {
  cat: string;
  name: string;
  req: () => Promise<TestResponse>;
  status: number;
  /** exact JSON body; undefined skips the comparison (e.g. Node's own 431) */
  body?: unknown;
  /** extra behavioural checks (stored rows, echo) */
  check?: (r: TestResponse) => void | Promise<void>;
}

describe('bad input: every endpoint answers the spec’s 4xx, never a 5xx, never a partial row or write', () => {
  const rec = new Recorder('bad-input');
  let t: TestApp;
  let crowd: CrowdServer;
  let admin: string;
  let operator: string;
  let site: Site;
  let other: Site;
  let alertId: number;
  let notificationId: number;
  let img: Buffer;
  let pngImg: Buffer;
  const cases: Case[] = [];
  const password = 'correct-horse-battery-staple';

  before(async () => {
    crowd = await startCrowdServer();
    crowd.setDefault({ count: 3 });
    t = await startTestApp({
      env: { CROWD_PREDICT_URL: crowd.predictUrl, CROWD_TIMEOUT_MS: '3000', SENSOR_THROTTLE_MS: '0', MAX_UPLOAD_BYTES: String(MAX_UPLOAD) },
    });
    rec.instrument(t);
    admin = (await t.admin()).token;
    operator = (await t.operator()).token;
    site = await createSite(t, { capacity: 10, zoneName: 'Lobby' });
    other = await createSite(t, { capacity: 10, zoneName: 'Annex' });
    rec.secrets.push(site.key, other.key, password);
    rec.allowed.push(SQLISH, SCRIPTISH);
    img = await jpeg(64, 48);
    pngImg = await png(40, 30);
    const a = await t.request('POST', '/alerts/', { token: admin, body: { heading: 'Seed', zone_id: other.zone.id } });
    assert.equal(a.status, 201, a.text);
    alertId = a.body.id;
    const n = await t.request('POST', '/notifications/', { token: admin, body: { title: 'Seed', message: 'seed' } });
    assert.equal(n.status, 201, n.text);
    notificationId = n.body.id;
  });
  after(async () => {
    rec.write();
    await t.close();
    await crowd.close();
    assert.deepEqual(rec.leaks, [], 'no response leaked internals or secrets');
  });

  const add = (c: Case): void => {
    cases.push(c);
  };
  const json = (method: string, path: string, raw: string, token?: string, type = 'application/json'): Promise<TestResponse> =>
    t.request(method, path, { raw, token, headers: { 'content-type': type } });
  const orgId = (): number => site.zone.organizationId;
  const zid = (): number => site.zone.id;
  const key = (): string => site.key;

  // ---------- auth ----------
  add({ cat: 'malformed / truncated JSON', name: 'login: malformed JSON', req: () => json('POST', '/auth/login/', '{"email":'), status: 400, body: JSON_PARSE });
  add({ cat: 'malformed / truncated JSON', name: 'login: truncated JSON', req: () => json('POST', '/auth/login/', '{"email":"a@b.co","password":"x'), status: 400, body: JSON_PARSE });
  add({ cat: 'malformed / truncated JSON', name: 'register: trailing garbage', req: () => json('POST', '/auth/register/', '{"email":"a@b.co"} xyz'), status: 400, body: JSON_PARSE });
  add({ cat: 'wrong Content-Type', name: 'login: text/plain', req: () => json('POST', '/auth/login/', 'email=a', undefined, 'text/plain'), status: 415, body: media('text/plain') });
  add({ cat: 'wrong Content-Type', name: 'register: application/xml', req: () => json('POST', '/auth/register/', '<a/>', undefined, 'application/xml'), status: 415, body: media('application/xml') });
  add({ cat: 'body over 1 MiB', name: 'login: 1.1 MiB JSON', req: () => json('POST', '/auth/login/', JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(1_150_000) })), status: 413, body: TOO_LARGE });
  add({ cat: 'empty and huge strings', name: 'login: empty object', req: () => t.request('POST', '/auth/login/', { body: {} }), status: 400, body: { email: REQUIRED, password: REQUIRED } });
  add({
    cat: 'SQL / script-looking strings',
    name: 'login: SQL-looking email and password',
    req: () => t.request('POST', '/auth/login/', { body: { email: `' OR 1=1 --`, password: `' OR '1'='1` } }),
    status: 401,
    body: { detail: 'No active account found with the given credentials' },
  });
  add({ cat: 'empty and huge strings', name: 'register: invalid email', req: () => t.request('POST', '/auth/register/', { body: { email: 'not-an-email', password } }), status: 400, body: { email: ['Enter a valid email address.'] } });
  add({
    cat: 'empty and huge strings',
    name: 'register: short password',
    req: () => t.request('POST', '/auth/register/', { body: { email: 'short@example.com', password: 'abc' } }),
    status: 400,
    body: { password: ['This password is too short. It must contain at least 8 characters.'] },
  });
  add({
    cat: 'empty and huge strings',
    name: 'register: 129-character password',
    req: () => t.request('POST', '/auth/register/', { body: { email: 'long@example.com', password: 'p'.repeat(129) } }),
    status: 400,
    body: { password: ['Ensure this field has no more than 128 characters.'] },
  });
  add({
    cat: 'empty and huge strings',
    name: 'register: 151-character first_name',
    req: () => t.request('POST', '/auth/register/', { body: { email: 'names@example.com', password, first_name: 'n'.repeat(151) } }),
    status: 400,
    body: { first_name: ['Ensure this field has no more than 150 characters.'] },
  });
  add({
    cat: 'role escalation',
    name: 'register: unknown role',
    req: () => t.request('POST', '/auth/register/', { body: { email: 'role@example.com', password, role: 'SUPERUSER' } }),
    status: 400,
    body: { role: ['"SUPERUSER" is not a valid choice.'] },
  });
  add({
    cat: 'role escalation',
    name: 'register: anonymous ADMIN',
    req: () => t.request('POST', '/auth/register/', { body: { email: 'admin2@example.com', password, role: 'ADMIN' } }),
    status: 403,
    body: { detail: 'Only an administrator can create ADMIN accounts.' },
  });
  add({ cat: 'empty and huge strings', name: 'refresh: missing field', req: () => t.request('POST', '/auth/refresh/', { body: {} }), status: 400, body: { refresh: REQUIRED } });
  add({
    cat: 'empty and huge strings',
    name: 'refresh: 4000-character garbage token',
    req: () => t.request('POST', '/auth/refresh/', { body: { refresh: 'x'.repeat(4000) } }),
    status: 401,
    body: { detail: 'Token is invalid', code: 'token_not_valid' },
  });
  add({
    cat: 'empty and huge strings',
    name: 'refresh: 100 kB token refused before verification',
    req: () => t.request('POST', '/auth/refresh/', { body: { refresh: 'x'.repeat(100_000) } }),
    status: 400,
    body: { refresh: ['Ensure this field has no more than 4096 characters.'] },
  });
  add({
    cat: 'oversized / odd headers',
    name: '/auth/me/: "Bearer" without a token',
    req: () => t.request('GET', '/auth/me/', { headers: { authorization: 'Bearer' } }),
    status: 401,
    body: { detail: 'Authorization header must contain two space-delimited values', code: 'bad_authorization_header' },
  });
  add({
    cat: 'oversized / odd headers',
    name: '/auth/me/: latin-1 bytes in a token',
    req: () => t.request('GET', '/auth/me/', { headers: { authorization: 'Bearer \u00e9\u00ff.a.b' } }),
    status: 401,
    body: {
      detail: 'Given token not valid for any token type',
      code: 'token_not_valid',
      messages: [{ token_class: 'AccessToken', token_type: 'access', message: 'Token is invalid' }],
    },
  });
  add({
    cat: 'empty and huge strings',
    name: '/auth/me/: 151-character last_name',
    req: () => t.request('PATCH', '/auth/me/', { token: operator, body: { last_name: 'x'.repeat(151) } }),
    status: 400,
    body: { last_name: ['Ensure this field has no more than 150 characters.'] },
  });
  add({
    cat: 'unicode and control characters',
    name: '/auth/me/: unicode first_name stored verbatim',
    req: () => t.request('PATCH', '/auth/me/', { token: operator, body: { first_name: 'Zoë 🚀\u200b\ttab', role: 'ADMIN' } }),
    status: 200,
    check: async (r) => {
      assert.equal(r.body.first_name, 'Zoë 🚀\u200b\ttab');
      assert.equal(r.body.role, 'USER', 'role is not writable through /auth/me/');
      const me = await t.request('GET', '/auth/me/', { token: operator });
      assert.equal(me.body.first_name, 'Zoë 🚀\u200b\ttab');
    },
  });

  // ---------- organizations ----------
  add({ cat: 'malformed / truncated JSON', name: 'organizations: malformed JSON', req: () => json('POST', '/organizations/', '{name: "x"}', admin), status: 400, body: JSON_PARSE });
  add({ cat: 'malformed / truncated JSON', name: 'organizations: JSON array body', req: () => json('POST', '/organizations/', '[1,2]', admin), status: 400, body: { non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] } });
  add({ cat: 'wrong Content-Type', name: 'organizations: PATCH text/csv', req: () => json('PATCH', `/organizations/${orgId()}/`, 'name,x', admin, 'text/csv'), status: 415, body: media('text/csv') });
  add({ cat: 'body over 1 MiB', name: 'organizations: 2 MiB urlencoded', req: () => json('POST', '/organizations/', `name=${'a'.repeat(2 * 1024 * 1024)}`, admin, 'application/x-www-form-urlencoded'), status: 413, body: TOO_LARGE });
  add({ cat: 'empty and huge strings', name: 'organizations: empty object', req: () => t.request('POST', '/organizations/', { token: admin, body: {} }), status: 400, body: { name: REQUIRED, org_type: REQUIRED } });
  add({
    cat: 'empty and huge strings',
    name: 'organizations: blank and null',
    req: () => t.request('POST', '/organizations/', { token: admin, body: { name: '', org_type: null } }),
    status: 400,
    body: { name: ['This field may not be blank.'], org_type: ['This field may not be null.'] },
  });
  add({
    cat: 'empty and huge strings',
    name: 'organizations: 256-character name, 101-character type',
    req: () => t.request('POST', '/organizations/', { token: admin, body: { name: 'n'.repeat(256), org_type: 't'.repeat(101) } }),
    status: 400,
    body: { name: ['Ensure this field has no more than 255 characters.'], org_type: ['Ensure this field has no more than 100 characters.'] },
  });
  add({
    cat: 'numbers out of range',
    name: 'organizations: negative and huge capacity',
    req: () => t.request('POST', '/organizations/', { token: admin, body: { name: 'a', org_type: 'b', total_capacity: -1 } }),
    status: 400,
    body: { total_capacity: ['Ensure this value is greater than or equal to 0.'] },
  });
  add({
    cat: 'numbers out of range',
    name: 'organizations: capacity 2^31',
    req: () => t.request('POST', '/organizations/', { token: admin, body: { name: 'a', org_type: 'b', total_capacity: 2147483648 } }),
    status: 400,
    body: { total_capacity: ['Ensure this value is less than or equal to 2147483647.'] },
  });
  add({
    cat: 'numbers out of range',
    name: 'organizations: non-numeric capacity (form)',
    req: () => json('POST', '/organizations/', 'name=a&org_type=b&total_capacity=abc', admin, 'application/x-www-form-urlencoded'),
    status: 400,
    body: { total_capacity: BAD_INT },
  });
  add({
    cat: 'numbers out of range',
    name: 'organizations: bad coordinates',
    req: () => t.request('POST', '/organizations/', { token: admin, body: { name: 'a', org_type: 'b', latitude: 'north', longitude: 1234.5 } }),
    status: 400,
    body: { latitude: ['A valid number is required.'], longitude: ['Ensure that there are no more than 3 digits before the decimal point.'] },
  });
  add({
    cat: 'numbers out of range',
    name: 'organizations: 7 decimal places',
    req: () => t.request('POST', '/organizations/', { token: admin, body: { name: 'a', org_type: 'b', latitude: '1.1234567' } }),
    status: 400,
    body: { latitude: ['Ensure that there are no more than 6 decimal places.'] },
  });
  for (const [label, value] of [
    ['SQL-looking', SQLISH],
    ['script-looking', SCRIPTISH],
  ] as const) {
    add({
      cat: 'SQL / script-looking strings',
      name: `organizations: ${label} name stored and returned verbatim`,
      req: () => t.request('POST', '/organizations/', { token: admin, body: { name: value, org_type: value.slice(0, 100) } }),
      status: 201,
      check: async (r) => {
        assert.equal(r.body.name, value);
        const got = await t.request('GET', `/organizations/${r.body.id}/`, { token: operator });
        assert.equal(got.body.name, value);
        const row = await t.ds.getRepository(Organization).findOneByOrFail({ id: r.body.id });
        assert.equal(row.name, value);
        assert.ok((await countRows(t.ds)).lims_organization >= 3, 'the table is still there');
      },
    });
  }
  add({
    cat: 'unicode and control characters',
    name: 'organizations: unicode, bidi and control characters verbatim',
    req: () => t.request('POST', '/organizations/', { token: admin, body: { name: UNICODE, org_type: 'ü' } }),
    status: 201,
    check: async (r) => {
      assert.equal(r.body.name, UNICODE);
      const got = await t.request('GET', `/organizations/${r.body.id}/`, { token: operator });
      assert.equal(got.body.name, UNICODE);
    },
  });
  add({
    cat: 'unicode and control characters',
    name: 'organizations: NUL character (was a 500)',
    req: () => t.request('POST', '/organizations/', { token: admin, body: { name: 'a\u0000b', org_type: 'x' } }),
    status: 400,
    body: { name: ['Null characters are not allowed.'] },
  });
  add({
    cat: 'unicode and control characters',
    name: '/auth/me/: NUL character (was a 500)',
    req: () => t.request('PATCH', '/auth/me/', { token: operator, body: { last_name: '\u0000' } }),
    status: 400,
    body: { last_name: ['Null characters are not allowed.'] },
  });
  add({
    cat: 'unicode and control characters',
    name: 'login: NUL in the email',
    req: () => t.request('POST', '/auth/login/', { body: { email: 'a\u0000@example.com', password } }),
    status: 400,
    body: { email: ['Null characters are not allowed.'] },
  });
  add({
    cat: 'unicode and control characters',
    name: 'register: NUL in email and names',
    req: () => t.request('POST', '/auth/register/', { body: { email: 'nul\u0000@example.com', password, first_name: '\u0000' } }),
    status: 400,
    body: { email: ['Null characters are not allowed.'], first_name: ['Null characters are not allowed.'] },
  });
  add({
    cat: 'unicode and control characters',
    name: 'notifications: NUL in the message',
    req: () => t.request('POST', '/notifications/', { token: admin, body: { title: 't', message: 'x\u0000' } }),
    status: 400,
    body: { message: ['Null characters are not allowed.'] },
  });
  add({
    cat: 'unicode and control characters',
    name: 'sensor: NUL in the part header makes the file part unreadable',
    req: () => detect(t, { key: key(), zoneId: zid(), file: img, filename: 'a\u0000b.jpg' }),
    status: 400,
    body: { error: "Missing 'zone_id' or 'file'" },
  });
  add({
    cat: 'unicode and control characters',
    name: 'organizations: 255 four-byte characters fit',
    req: () => t.request('POST', '/organizations/', { token: admin, body: { name: '🚀'.repeat(255), org_type: 'x' } }),
    status: 201,
    check: (r) => assert.equal(r.body.name, '🚀'.repeat(255)),
  });
  add({ cat: 'ids in path', name: 'organizations: non-numeric id', req: () => t.request('GET', '/organizations/abc/', { token: operator }), status: 400, body: BAD_ID });
  add({ cat: 'ids in path', name: 'organizations: negative id', req: () => t.request('DELETE', '/organizations/-1/', { token: admin }), status: 400, body: BAD_ID });
  add({ cat: 'ids in path', name: 'organizations: id 0', req: () => t.request('GET', '/organizations/0/', { token: operator }), status: 404, body: notFound('Organization') });
  add({ cat: 'ids in path', name: 'organizations: id beyond int64', req: () => t.request('PATCH', '/organizations/9223372036854775808/', { token: admin, body: { name: 'x' } }), status: 400, body: BAD_ID });
  add({ cat: 'ids in path', name: 'organizations: int64 max', req: () => t.request('GET', '/organizations/9223372036854775807/', { token: operator }), status: 404, body: notFound('Organization') });
  add({ cat: 'ids in path', name: 'organizations: 1e3 id', req: () => t.request('GET', '/organizations/1e3/', { token: operator }), status: 400, body: BAD_ID });
  add({ cat: 'ids in query', name: 'organizations: limit=abc', req: () => t.request('GET', '/organizations/?limit=abc', { token: operator }), status: 400, body: { limit: BAD_INT } });
  add({ cat: 'ids in query', name: 'organizations: limit=0', req: () => t.request('GET', '/organizations/?limit=0', { token: operator }), status: 400, body: { limit: ['Ensure this value is greater than or equal to 1.'] } });
  add({ cat: 'ids in query', name: 'organizations: offset=-1', req: () => t.request('GET', '/organizations/?offset=-1', { token: operator }), status: 400, body: { offset: ['Ensure this value is greater than or equal to 0.'] } });
  add({
    cat: 'role escalation',
    name: 'organizations: operator POST',
    req: () => t.request('POST', '/organizations/', { token: operator, body: { name: 'a', org_type: 'b' } }),
    status: 403,
    body: FORBIDDEN,
  });

  // ---------- zones ----------
  const zone = (body: object): Promise<TestResponse> => t.request('POST', '/zones/', { token: admin, body: { name: 'Z', zone_type: 'hall', organization_id: orgId(), ...body } });
  add({ cat: 'ids in body', name: 'zones: organization_id string', req: () => zone({ organization_id: 'abc' }), status: 400, body: { organization_id: ['Incorrect type. Expected pk value, received str.'] } });
  add({ cat: 'ids in body', name: 'zones: organization_id unknown', req: () => zone({ organization_id: 999999 }), status: 400, body: { organization_id: ['Invalid pk "999999" - object does not exist.'] } });
  add({ cat: 'ids in body', name: 'zones: organization_id bool', req: () => zone({ organization_id: true }), status: 400, body: { organization_id: ['Incorrect type. Expected pk value, received bool.'] } });
  add({ cat: 'ids in body', name: 'zones: organization_id list', req: () => zone({ organization_id: [1] }), status: 400, body: { organization_id: ['Incorrect type. Expected pk value, received list.'] } });
  add({ cat: 'ids in body', name: 'zones: organization_id float', req: () => zone({ organization_id: 1.5 }), status: 400, body: { organization_id: ['Incorrect type. Expected pk value, received float.'] } });
  add({ cat: 'ids in body', name: 'zones: organization_id object', req: () => zone({ organization_id: { id: 1 } }), status: 400, body: { organization_id: ['Incorrect type. Expected pk value, received dict.'] } });
  add({ cat: 'ids in body', name: 'zones: organization_id 0', req: () => zone({ organization_id: 0 }), status: 400, body: { organization_id: ['Invalid pk "0" - object does not exist.'] } });
  add({ cat: 'numbers out of range', name: 'zones: capacity -5', req: () => zone({ capacity: -5 }), status: 400, body: { capacity: ['Ensure this value is greater than or equal to 0.'] } });
  add({ cat: 'numbers out of range', name: 'zones: capacity 1e20', req: () => zone({ capacity: 1e20 }), status: 400, body: { capacity: BAD_INT } });
  add({ cat: 'numbers out of range', name: 'zones: capacity "2147483648" (form string)', req: () => zone({ capacity: '2147483648' }), status: 400, body: { capacity: ['Ensure this value is less than or equal to 2147483647.'] } });
  add({ cat: 'ids in query', name: 'zones: org_id=abc', req: () => t.request('GET', '/zones/?org_id=abc', { token: operator }), status: 400, body: { org_id: BAD_INT } });
  add({ cat: 'ids in query', name: 'zones: unknown org_id', req: () => t.request('GET', '/zones/?org_id=99999999', { token: operator }), status: 200, body: [] });
  add({ cat: 'ids in path', name: 'zones: PUT on non-numeric id', req: () => t.request('PUT', '/zones/x1/', { token: admin, body: { name: 'x' } }), status: 400, body: BAD_ID });
  add({ cat: 'ids in path', name: 'zones: unknown id', req: () => t.request('PATCH', '/zones/987654/', { token: admin, body: { name: 'x' } }), status: 404, body: notFound('Zone') });

  // ---------- cameras ----------
  add({ cat: 'empty and huge strings', name: 'cameras: empty object', req: () => t.request('POST', '/cameras/', { token: admin, body: {} }), status: 400, body: { name: REQUIRED, zone_id: REQUIRED } });
  add({
    cat: 'numbers out of range',
    name: 'cameras: is_active "maybe"',
    req: () => t.request('POST', '/cameras/', { token: admin, body: { name: 'c', zone_id: zid(), is_active: 'maybe' } }),
    status: 400,
    body: { is_active: ['Must be a valid boolean.'] },
  });
  add({
    cat: 'ids in body',
    name: 'cameras: zone_id negative',
    req: () => t.request('POST', '/cameras/', { token: admin, body: { name: 'c', zone_id: -1 } }),
    status: 400,
    body: { zone_id: ['Invalid pk "-1" - object does not exist.'] },
  });
  add({ cat: 'ids in query', name: 'cameras: zone_id=1.5', req: () => t.request('GET', '/cameras/?zone_id=1.5', { token: operator }), status: 400, body: { zone_id: BAD_INT } });
  add({ cat: 'ids in path', name: 'cameras: rotate-key unknown camera', req: () => t.request('POST', '/cameras/999999/rotate-key/', { token: admin }), status: 404, body: notFound('Camera') });
  add({
    cat: 'role escalation',
    name: 'cameras: mass assignment of api_key_hash ignored',
    req: () => t.request('PATCH', `/cameras/${site.camera.id}/`, { token: admin, body: { api_key_hash: 'f'.repeat(64), has_device_key: false, id: 1 } }),
    status: 200,
    check: (r) => {
      assert.equal(r.body.id, site.camera.id);
      assert.equal(r.body.has_device_key, true);
    },
  });

  // ---------- alerts ----------
  add({ cat: 'ids in query', name: 'alerts: status=open', req: () => t.request('GET', '/alerts/?status=open', { token: operator }), status: 400, body: { status: ['"open" is not a valid choice.'] } });
  add({ cat: 'ids in query', name: 'alerts: zone_id=-1x', req: () => t.request('GET', '/alerts/?zone_id=-1x', { token: operator }), status: 400, body: { zone_id: BAD_INT } });
  add({
    cat: 'ids in body',
    name: 'alerts: camera of another zone',
    req: () => t.request('POST', '/alerts/', { token: admin, body: { heading: 'h', zone_id: zid(), camera_id: other.camera.id } }),
    status: 400,
    body: { camera_id: ['Camera does not belong to this zone.'] },
  });
  add({
    cat: 'empty and huge strings',
    name: 'alerts: bad status, 256-character heading',
    req: () => t.request('POST', '/alerts/', { token: admin, body: { heading: 'h'.repeat(256), zone_id: zid(), status: 'PENDING' } }),
    status: 400,
    body: { heading: ['Ensure this field has no more than 255 characters.'], status: ['"PENDING" is not a valid choice.'] },
  });
  add({
    cat: 'ids in body',
    name: 'alerts: zone_id beyond int64',
    req: () => t.request('POST', '/alerts/', { token: admin, body: { heading: 'h', zone_id: '99999999999999999999' } }),
    status: 400,
    body: { zone_id: ['Invalid pk "99999999999999999999" - object does not exist.'] },
  });
  add({
    cat: 'role escalation',
    name: 'alerts: operator edits heading',
    req: () => t.request('PATCH', `/alerts/${alertId}/`, { token: operator, body: { heading: 'pwned' } }),
    status: 403,
    body: FORBIDDEN,
  });
  add({
    cat: 'duplicates',
    name: 'alerts: second open alert for the same zone',
    req: () => t.request('POST', '/alerts/', { token: admin, body: { heading: 'again', zone_id: other.zone.id } }),
    status: 409,
    body: { detail: 'An open alert already exists for this zone and camera.' },
  });

  // ---------- notifications ----------
  add({
    cat: 'empty and huge strings',
    name: 'notifications: blank message',
    req: () => t.request('POST', '/notifications/', { token: admin, body: { title: 't', message: '   ' } }),
    status: 400,
    body: { message: ['This field may not be blank.'] },
  });
  add({
    cat: 'wrong Content-Type',
    name: 'notifications: multipart without boundary',
    req: () => json('POST', '/notifications/', 'title=t', admin, 'multipart/form-data'),
    status: 400,
    body: { detail: 'Multipart form parse error - Invalid boundary in multipart: None' },
  });
  const nameless = (fields: [string, string][]): FormData => {
    const f = new FormData();
    for (const [k, v] of fields) {
      f.append(k, v);
    }
    return f;
  };
  add({
    cat: 'multipart / uploads',
    name: 'notifications: multipart part without a name (crashed the process)',
    req: () => t.request('POST', '/notifications/', { token: admin, raw: nameless([['', 'x']]) }),
    status: 400,
    body: { title: REQUIRED, message: REQUIRED },
  });
  add({
    cat: 'multipart / uploads',
    name: 'login: multipart part without a name next to real fields',
    req: () => t.request('POST', '/auth/login/', { raw: nameless([['', 'x'], ['email', 'nobody@example.com'], ['password', 'wrong-password']]) }),
    status: 401,
    body: { detail: 'No active account found with the given credentials' },
  });
  add({
    cat: 'body over 1 MiB',
    name: 'notifications: 2 MiB file part on a JSON route',
    req: () => {
      const f = nameless([['title', 't'], ['message', 'm']]);
      f.append('attachment', new Blob([new Uint8Array(2 * 1024 * 1024)]), 'big.bin');
      return t.request('POST', '/notifications/', { token: admin, raw: f });
    },
    status: 413,
    body: TOO_LARGE,
  });
  add({
    cat: 'SQL / script-looking strings',
    name: 'organizations: __proto__ and constructor keys do not supply fields',
    req: () => json('POST', '/organizations/', '{"__proto__":{"name":"x","org_type":"y"},"constructor":{"prototype":{"name":"x"}}}', admin),
    status: 400,
    body: { name: REQUIRED, org_type: REQUIRED },
  });
  add({ cat: 'ids in path', name: 'notifications: PUT is 405', req: () => t.request('PUT', `/notifications/${notificationId}/`, { token: admin, body: { title: 'x' } }), status: 405, body: { detail: 'Method "PUT" not allowed.' } });
  add({ cat: 'ids in path', name: 'notifications: id 0', req: () => t.request('DELETE', '/notifications/0/', { token: admin }), status: 404, body: notFound('Notification') });
  add({
    cat: 'empty and huge strings',
    name: 'notifications: 900 kB message stored',
    req: () => t.request('POST', '/notifications/', { token: admin, body: { title: 't', message: 'm'.repeat(900_000) } }),
    status: 201,
    check: (r) => assert.equal(r.body.message.length, 900_000),
  });

  // ---------- carbon stats ----------
  add({ cat: 'ids in query', name: 'carbon: zone_id=abc', req: () => t.request('GET', '/carbon/stats/?zone_id=abc', { token: operator }), status: 400, body: { zone_id: BAD_INT } });
  add({ cat: 'ids in query', name: 'carbon: zone_id beyond int64', req: () => t.request('GET', '/carbon/stats/?zone_id=99999999999999999999', { token: operator }), status: 400, body: { zone_id: BAD_INT } });
  add({
    cat: 'ids in query',
    name: 'carbon: unknown zone',
    req: () => t.request('GET', '/carbon/stats/?zone_id=424242', { token: operator }),
    status: 200,
    body: { summary: { total_saved_all_time: 0, average_per_detection: 0 }, recent_history: [] },
  });

  // ---------- sensor detect ----------
  add({ cat: 'multipart / uploads', name: 'sensor: no device key', req: () => detect(t, { zoneId: zid(), file: img }), status: 401, body: { error: 'Missing device key' } });
  add({ cat: 'multipart / uploads', name: 'sensor: JSON body', req: () => t.request('POST', '/sensor/detect/', { body: { zone_id: zid() }, headers: { 'x-device-key': key() } }), status: 400, body: { error: "Missing 'zone_id' or 'file'" } });
  add({ cat: 'multipart / uploads', name: 'sensor: missing file part', req: () => detect(t, { key: key(), zoneId: zid() }), status: 400, body: { error: "Missing 'zone_id' or 'file'" } });
  add({ cat: 'multipart / uploads', name: 'sensor: missing zone_id', req: () => detect(t, { key: key(), file: img }), status: 400, body: { error: "Missing 'zone_id' or 'file'" } });
  add({ cat: 'multipart / uploads', name: 'sensor: empty zone_id', req: () => detect(t, { key: key(), zoneId: '', file: img }), status: 400, body: { error: "Missing 'zone_id' or 'file'" } });
  add({ cat: 'ids in body', name: 'sensor: zone_id "abc"', req: () => detect(t, { key: key(), zoneId: 'abc', file: img }), status: 400, body: { error: "'zone_id' must be an integer" } });
  add({ cat: 'ids in body', name: 'sensor: camera_id "1.5"', req: () => detect(t, { key: key(), zoneId: zid(), cameraId: '1.5', file: img }), status: 400, body: { error: "'camera_id' must be an integer" } });
  add({ cat: 'ids in body', name: 'sensor: unknown zone', req: () => detect(t, { key: key(), zoneId: 987654, file: img }), status: 404, body: { error: 'Zone not found' } });
  add({ cat: 'ids in body', name: 'sensor: zone_id 0', req: () => detect(t, { key: key(), zoneId: 0, file: img }), status: 404, body: { error: 'Zone not found' } });
  add({ cat: 'ids in body', name: 'sensor: another camera’s id', req: () => detect(t, { key: key(), zoneId: zid(), cameraId: other.camera.id, file: img }), status: 403, body: { error: 'Device key does not match camera_id' } });
  add({ cat: 'ids in body', name: 'sensor: another zone', req: () => detect(t, { key: key(), zoneId: other.zone.id, file: img }), status: 403, body: { error: 'Camera does not belong to this zone' } });
  add({ cat: 'multipart / uploads', name: 'sensor: empty file', req: () => detect(t, { key: key(), zoneId: zid(), file: Buffer.alloc(0) }), status: 415, body: { error: 'Unsupported image type' } });
  add({ cat: 'multipart / uploads', name: 'sensor: truncated JPEG (no frame header)', req: () => detect(t, { key: key(), zoneId: zid(), file: img.subarray(0, 20) }), status: 415, body: { error: 'Unsupported image type' } });
  add({
    cat: 'multipart / uploads',
    name: 'sensor: HTML renamed .jpg',
    req: () => detect(t, { key: key(), zoneId: zid(), file: Buffer.from('<html><body><script>alert(1)</script></body></html>'), filename: 'photo.jpg', type: 'image/jpeg' }),
    status: 415,
    body: { error: 'Unsupported image type' },
  });
  add({ cat: 'multipart / uploads', name: 'sensor: 50 000 × 50 000 px header', req: () => detect(t, { key: key(), zoneId: zid(), file: jpegDeclaring(50_000, 50_000) }), status: 413, body: { error: 'Image dimensions too large' } });
  add({ cat: 'multipart / uploads', name: 'sensor: file over MAX_UPLOAD_BYTES', req: () => detect(t, { key: key(), zoneId: zid(), file: Buffer.concat([img, Buffer.alloc(MAX_UPLOAD)]) }), status: 413, body: { error: 'File too large' } });
  const normal = { zone: 'Lobby', capacity: 10, detected_people: 3, occupancy_percentage: '30.0%', status: 'NORMAL', carbon_error: 'Gemini is not configured' };
  add({
    cat: 'multipart / uploads',
    name: 'sensor: PNG renamed .jpg is sent as PNG',
    req: () => detect(t, { key: key(), zoneId: zid(), file: pngImg, filename: 'capture.jpg', type: 'image/jpeg' }),
    status: 200,
    body: normal,
    check: () => assert.equal(crowd.received.at(-1)?.mimeType, 'image/png'),
  });
  add({
    cat: 'multipart / uploads',
    name: 'sensor: ../ filename is sanitized before the detector',
    req: () => detect(t, { key: key(), zoneId: zid(), file: img, filename: '../../etc/pass wd.jpg' }),
    status: 200,
    body: normal,
    check: () => assert.equal(crowd.received.at(-1)?.filename, 'pass_wd.jpg'),
  });
  add({
    cat: 'duplicates',
    name: 'sensor: duplicate zone_id fields',
    req: () => t.request('POST', '/sensor/detect/', { raw: detectForm({ zoneId: zid(), file: img, extra: [['zone_id', 'abc']] }), headers: { 'x-device-key': key() } }),
    status: 200,
    body: normal,
  });
  add({
    cat: 'duplicates',
    name: 'zones: duplicate form fields (urlencoded) are a list, not a string',
    req: () => json('POST', '/zones/', `name=A&name=B&zone_type=hall&organization_id=${orgId()}`, admin, 'application/x-www-form-urlencoded'),
    status: 400,
    body: { name: ['Not a valid string.'] },
  });
  add({
    cat: 'oversized / odd headers',
    name: 'sensor: 20 kB header',
    req: () => detect(t, { key: key(), zoneId: zid(), file: img, headers: { 'x-filler': 'a'.repeat(20_000) } }),
    status: 431,
  });
  add({ cat: 'oversized / odd headers', name: 'unknown path', req: () => t.request('GET', '/../../etc/passwd', { token: operator }), status: 404, body: { detail: 'Not found.' } });

  it(`has at least 60 cases`, () => {
    assert.ok(cases.length >= 60, String(cases.length));
  });

  it('answers every case exactly as the spec says, with no 5xx and no partial rows', async () => {
    const failures: string[] = [];
    for (const c of cases) {
      const beforeRows = await snapshot(t.ds);
      let r: TestResponse;
      try {
        r = await c.req();
      } catch (err) {
        failures.push(`${c.name}: request failed: ${String(err)}`);
        rec.record(c.cat, 0, false);
        continue;
      }
      const afterRows = await snapshot(t.ds);
      const problems: string[] = [];
      if (r.status >= 500) {
        problems.push(`5xx ${r.text.slice(0, 200)}`);
      }
      if (r.status !== c.status) {
        problems.push(`status ${r.status} ≠ ${c.status}: ${r.text.slice(0, 300)}`);
      } else if (c.body !== undefined) {
        try {
          assert.deepEqual(r.body, c.body);
        } catch {
          problems.push(`body ${r.text.slice(0, 300)}`);
        }
      }
      const rowsChanged = r.status >= 400 && beforeRows !== afterRows;
      if (rowsChanged) {
        problems.push(`lims_* rows changed after ${r.status}: ${beforeRows} → ${afterRows}`);
      }
      if (problems.length === 0 && c.check) {
        try {
          await c.check(r);
        } catch (err) {
          problems.push(`check: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      rec.record(c.cat, r.status, problems.length === 0, rowsChanged);
      if (problems.length > 0) {
        failures.push(`${c.name}: ${problems.join('; ')}`);
      }
    }
    assert.deepEqual(failures, []);
  });
});
