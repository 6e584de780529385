import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PasswordHasher } from '../../src/auth/password-hasher';
import { TokenService } from '../../src/auth/token.service';
import { Camera } from '../../src/sites/camera.entity';
import { User } from '../../src/users/user.entity';
import { CrowdServer, startCrowdServer } from '../doubles/crowd-server';
import { jpeg } from '../support/images';
import { addCamera, createSite, detect, Site } from '../support/sensor';
import { startTestApp, TEST_JWT_SECRET, TestApp, TestResponse } from '../support/test-app';
import { Recorder, snapshot } from './support';

const WWW = 'Bearer realm="api"';
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

/** Builds a JWT by hand, so the tests can forge what a library would refuse to sign. */
function craft(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | null): string {
  const head = `${b64(header)}.${b64(payload)}`;
  const sig = secret === null ? '' : createHmac('sha256', secret).update(head).digest('base64url');
  return `${head}.${sig}`;
}

function claims(userId: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { token_type: 'access', exp: now + 600, iat: now, jti: randomBytes(16).toString('hex'), user_id: String(userId), ...over };
}

const HS256 = { alg: 'HS256', typ: 'JWT' };
/** JOSE header parameters that point at keys or demand extensions (spec §11): never honoured, always invalid. */
const KEY_HEADERS: [string, Record<string, unknown>][] = [
  ['crit', { crit: ['exp'] }],
  ['jku', { jku: 'https://attacker.example/jwks.json' }],
  ['jwk', { jwk: { kty: 'oct', k: Buffer.from(TEST_JWT_SECRET).toString('base64url') } }],
  ['x5u', { x5u: 'https://attacker.example/cert.pem' }],
  ['x5c', { x5c: ['MIIBszCCAVmgAwIBAgIUQ'] }],
];
const WRONG_KEY = 'another-secret-that-is-also-32-characters';
const notValid = (message: string): object => ({
  detail: 'Given token not valid for any token type',
  code: 'token_not_valid',
  messages: [{ token_class: 'AccessToken', token_type: 'access', message }],
});
const refreshError = (detail: string): object => ({ detail, code: 'token_not_valid' });
const NO_CREDENTIALS = { detail: 'Authentication credentials were not provided.' };
const BAD_HEADER = { detail: 'Authorization header must contain two space-delimited values', code: 'bad_authorization_header' };
const FORBIDDEN = { detail: 'You do not have permission to perform this action.' };

/**
 * Attacks on authentication and authorization (spec §4.2, §5 step 1/8): every forged or misused
 * credential gets the exact spec answer on every kind of route, and nothing is written.
 */
describe('attacks: forged tokens, escalation, device-key misuse, brute force, CORS', () => {
  const rec = new Recorder('attacks');
  let t: TestApp;
  let crowd: CrowdServer;
  let tokens: TokenService;
  let victim: User;
  let admin: string;
  let operator: User;
  let operatorToken: string;
  let site: Site;
  let img: Buffer;
  const password = 'victim-password-123';

  before(async () => {
    crowd = await startCrowdServer();
    crowd.setDefault({ count: 1 });
    // TRUST_PROXY=1: X-Forwarded-For stands for the client IP Cloud Run's front end appends
    t = await startTestApp({ env: { CROWD_PREDICT_URL: crowd.predictUrl, SENSOR_THROTTLE_MS: '0', TRUST_PROXY: '1' } });
    rec.instrument(t);
    tokens = t.app.get(TokenService);
    admin = (await t.admin()).token;
    ({ user: operator, token: operatorToken } = await t.operator());
    victim = await t.createUser({ email: 'victim@example.com', password: await new PasswordHasher().hash(password) });
    site = await createSite(t, { capacity: 10, zoneName: 'Lobby' });
    rec.secrets.push(password, site.key, WRONG_KEY);
    img = await jpeg(32, 32);
  });
  after(async () => {
    rec.write();
    await t.close();
    await crowd.close();
    assert.deepEqual(rec.leaks, [], 'no response leaked internals or secrets');
  });

  /** Runs one attack: exact status and body, optional header checks, and no table changed. */
  async function attack(cat: string, req: () => Promise<TestResponse>, status: number, body: unknown, check?: (r: TestResponse) => void): Promise<void> {
    const before1 = await snapshot(t.ds);
    const r = await req();
    const unchanged = (await snapshot(t.ds)) === before1;
    let ok = r.status === status && JSON.stringify(r.body) === JSON.stringify(body) && unchanged;
    try {
      check?.(r);
    } catch {
      ok = false;
    }
    rec.record(cat, r.status, ok, !unchanged);
    assert.equal(r.status, status, `${cat}: ${r.text}`);
    assert.deepEqual(r.body, body, cat);
    assert.ok(unchanged, `${cat}: nothing may be written`);
    check?.(r);
  }

  it('forged, expired and misused access tokens get the spec 401 on every kind of route and change nothing', async () => {
    const id = Number(victim.id);
    const genuine = craft(HS256, claims(id), TEST_JWT_SECRET).split('.');
    const gone = await t.createUser({ email: 'gone@example.com' });
    const goneToken = t.tokenFor(gone);
    await t.ds.getRepository(User).delete({ id: gone.id });
    const sleepy = await t.createUser({ email: 'sleepy@example.com', isActive: false });
    const variants: [string, string | undefined, object][] = [
      ['no Authorization header', undefined, NO_CREDENTIALS],
      ['Basic scheme', `Basic ${Buffer.from(`victim@example.com:${password}`).toString('base64')}`, NO_CREDENTIALS],
      ['Token scheme', `Token ${t.tokenFor(victim)}`, NO_CREDENTIALS],
      ['Bearer without a token', 'Bearer', BAD_HEADER],
      ['Bearer with two tokens', `Bearer ${t.tokenFor(victim)} extra`, BAD_HEADER],
      ['alg "none"', `Bearer ${craft({ alg: 'none', typ: 'JWT' }, claims(id), null)}`, notValid('Token is invalid')],
      ['alg "none" with the genuine signature kept', `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${genuine[1]}.${genuine[2]}`, notValid('Token is invalid')],
      ['signed with a wrong key', `Bearer ${craft(HS256, claims(id), WRONG_KEY)}`, notValid('Token is invalid')],
      ['payload swapped to another user', `Bearer ${genuine[0]}.${b64(claims(id + 1000))}.${genuine[2]}`, notValid('Token is invalid')],
      ['role claim added by the client', `Bearer ${genuine[0]}.${b64({ ...claims(id), role: 'ADMIN' })}.${genuine[2]}`, notValid('Token is invalid')],
      ['RS256 header (algorithm confusion)', `Bearer ${craft({ alg: 'RS256', typ: 'JWT' }, claims(id), TEST_JWT_SECRET)}`, notValid('Token is invalid')],
      ['HS512 header', `Bearer ${craft({ alg: 'HS512', typ: 'JWT' }, claims(id), TEST_JWT_SECRET)}`, notValid('Token is invalid')],
      ['numeric user_id claim', `Bearer ${craft(HS256, claims(id, { user_id: id }), TEST_JWT_SECRET)}`, notValid('Token is invalid')],
      ['not a JWT', 'Bearer not-a-jwt', notValid('Token is invalid')],
      // correctly signed with the real key: only the header parameter makes them invalid
      ...KEY_HEADERS.map(([p, extra]): [string, string, object] => [`"${p}" header`, `Bearer ${craft({ ...HS256, ...extra }, claims(id), TEST_JWT_SECRET)}`, notValid('Token is invalid')]),
      ['expired an hour ago', `Bearer ${tokens.sign('access', id, undefined, Math.floor(Date.now() / 1000) - 3600).token}`, notValid('Token is expired')],
      ['expired one second ago (no leeway)', `Bearer ${craft(HS256, claims(id, { exp: Math.floor(Date.now() / 1000) - 1 }), TEST_JWT_SECRET)}`, notValid('Token is expired')],
      ['refresh token used as access token', `Bearer ${tokens.sign('refresh', id).token}`, notValid('Token has wrong type')],
      ['token of a deleted user', `Bearer ${goneToken}`, { detail: 'User not found', code: 'user_not_found' }],
      ['token of an inactive user', `Bearer ${t.tokenFor(sleepy)}`, { detail: 'User is inactive', code: 'user_inactive' }],
    ];
    const routes: [string, string, unknown?][] = [
      ['GET', '/auth/me/'],
      ['GET', '/alerts/'],
      ['POST', '/organizations/', { name: 'Evil Corp', org_type: 'office' }],
      ['DELETE', `/zones/${site.zone.id}/`],
      ['POST', `/cameras/${site.camera.id}/rotate-key/`],
    ];
    for (const [name, authorization, body] of variants) {
      for (const [method, path, payload] of routes) {
        await attack(
          `access token: ${name}`,
          () => t.request(method, path, { headers: authorization === undefined ? {} : { authorization }, body: payload }),
          401,
          body,
          (r) => assert.equal(r.headers.get('www-authenticate'), WWW),
        );
      }
    }
    // the control: the genuine token works, so the 401s above are about the forgery
    assert.equal((await t.request('GET', '/auth/me/', { headers: { authorization: `Bearer ${genuine.join('.')}` } })).status, 200);
  });

  it('misused refresh tokens get the spec 401/403 and issue nothing', async () => {
    const id = Number(victim.id);
    const login = await t.request('POST', '/auth/login/', { body: { email: 'victim@example.com', password }, headers: { 'x-forwarded-for': '198.51.100.1' } });
    assert.equal(login.status, 200, login.text);
    const refresh = login.body.refresh as string;
    const parts = refresh.split('.');
    const refreshClaims = JSON.parse(Buffer.from(parts[1], 'base64url').toString()) as Record<string, unknown>;
    const gone = await t.createUser({ email: 'gone-refresh@example.com', password: await new PasswordHasher().hash(password) });
    const goneLogin = await t.request('POST', '/auth/login/', { body: { email: gone.email, password }, headers: { 'x-forwarded-for': '198.51.100.2' } });
    await t.ds.getRepository(User).delete({ id: gone.id });
    const cases: [string, string, number, object][] = [
      ['access token used as refresh', t.tokenFor(victim), 401, refreshError('Token has wrong type')],
      ['alg "none"', craft({ alg: 'none', typ: 'JWT' }, refreshClaims, null), 401, refreshError('Token is invalid')],
      ['re-signed with a wrong key', craft(HS256, refreshClaims, WRONG_KEY), 401, refreshError('Token is invalid')],
      ['user_id swapped', `${parts[0]}.${b64({ ...refreshClaims, user_id: String(Number(operator.id)) })}.${parts[2]}`, 401, refreshError('Token is invalid')],
      ['validly signed but never issued (unknown jti)', tokens.sign('refresh', id).token, 401, refreshError('Token is invalid')],
      ['expired', craft(HS256, { ...refreshClaims, exp: Math.floor(Date.now() / 1000) - 1 }, TEST_JWT_SECRET), 401, refreshError('Token is expired')],
      ['of a deleted user', goneLogin.body.refresh as string, 401, { detail: 'No active account found for the given token.' }],
      // the genuine, stored refresh token's claims, signed with the real key, plus the header parameter
      ...KEY_HEADERS.map(([p, extra]): [string, string, number, object] => [`"${p}" header`, craft({ ...HS256, ...extra }, refreshClaims, TEST_JWT_SECRET), 401, refreshError('Token is invalid')]),
    ];
    for (const [name, token, status, body] of cases) {
      await attack(`refresh token: ${name}`, () => t.request('POST', '/auth/refresh/', { body: { refresh: token } }), status, body);
    }
    // logging out someone else's session is refused, and their refresh token keeps working
    await attack('refresh token: another user’s token at /auth/logout/', () => t.request('POST', '/auth/logout/', { token: operatorToken, body: { refresh } }), 403, FORBIDDEN);
    const still = await t.request('POST', '/auth/refresh/', { body: { refresh } });
    assert.equal(still.status, 200, 'the victim’s session survived');
  });

  it('no route, field or header lets a USER become ADMIN or write what it may not', async () => {
    const me = await t.request('GET', '/auth/me/', { token: operatorToken });
    const userRow = async (): Promise<unknown> =>
      (await t.ds.query(`SELECT email, username, password, role, is_active, is_staff, is_superuser, eco_points FROM lims_user WHERE id = $1`, [operator.id]))[0];
    const rowBefore = await userRow();
    for (const method of ['PATCH', 'PUT']) {
      const r = await t.request(method, '/auth/me/', {
        token: operatorToken,
        body: { first_name: 'Otto', role: 'ADMIN', is_active: false, is_staff: true, is_superuser: true, eco_points: 9999, email: 'evil@example.com', id: 1, password: 'new-password-1' },
      });
      const ok = r.status === 200 && r.body.role === 'USER' && r.body.eco_points === 0 && r.body.email === me.body.email && r.body.first_name === 'Otto';
      rec.record('escalation: mass assignment on /auth/me/', r.status, ok);
      assert.ok(ok, r.text);
    }
    const rowAfter = await userRow();
    rec.invariant('escalation: mass assignment on /auth/me/', 'role, email, password, flags and eco_points unchanged in lims_user', JSON.stringify(rowAfter) === JSON.stringify(rowBefore));
    assert.deepEqual(rowAfter, rowBefore, 'only first_name may change');

    const reg = (body: object, token?: string): Promise<TestResponse> => t.request('POST', '/auth/register/', { body, token });
    await attack('escalation: register as ADMIN', () => reg({ email: 'mallory@example.com', password: 'mallory-pass-1', role: 'ADMIN' }), 403, {
      detail: 'Only an administrator can create ADMIN accounts.',
    });
    await attack('escalation: register as ADMIN', () => reg({ email: 'mallory@example.com', password: 'mallory-pass-1', role: 'ADMIN' }, operatorToken), 403, {
      detail: 'Only an administrator can create ADMIN accounts.',
    });
    await attack('escalation: register as ADMIN', () => reg({ email: 'mallory@example.com', password: 'mallory-pass-1', role: 'SUPERUSER' }), 400, {
      role: ['"SUPERUSER" is not a valid choice.'],
    });
    const sneaky = await reg({ email: 'sneaky@example.com', password: 'sneaky-pass-1', is_staff: true, is_superuser: true, eco_points: 500, is_active: true, id: 1 });
    const [row] = (await t.ds.query(`SELECT role, is_staff, is_superuser, eco_points FROM lims_user WHERE email = 'sneaky@example.com'`)) as object[];
    const sneakyOk = sneaky.status === 201 && JSON.stringify(row) === JSON.stringify({ role: 'USER', is_staff: false, is_superuser: false, eco_points: 0 });
    rec.record('escalation: register with privileged fields', sneaky.status, sneakyOk);
    assert.equal(sneaky.status, 201, sneaky.text);
    assert.deepEqual(row, { role: 'USER', is_staff: false, is_superuser: false, eco_points: 0 });

    // a USER on every admin-only write: 403 and nothing written
    const alert = await t.create('/alerts/', { heading: 'Seed', zone_id: site.zone.id });
    const notification = await t.create('/notifications/', { title: 'Seed', message: 'seed' });
    const orgId = (await t.request('GET', `/zones/${site.zone.id}/`, { token: admin })).body.organization.id as number;
    const adminOnly: [string, string, unknown?][] = [
      ['POST', '/organizations/', { name: 'X', org_type: 'office' }],
      ['PATCH', `/organizations/${orgId}/`, { name: 'Mine now' }],
      ['DELETE', `/organizations/${orgId}/`],
      ['POST', '/zones/', { name: 'X', zone_type: 'hall', organization_id: orgId }],
      ['PUT', `/zones/${site.zone.id}/`, { capacity: 100000 }],
      ['POST', '/cameras/', { name: 'X', zone_id: site.zone.id }],
      ['PATCH', `/cameras/${site.camera.id}/`, { is_active: false }],
      ['POST', `/cameras/${site.camera.id}/rotate-key/`],
      ['POST', '/alerts/', { heading: 'X', zone_id: site.zone.id }],
      ['PATCH', `/alerts/${alert.id}/`, { status: 'CLOSED', heading: 'Nothing to see' }],
      ['PUT', `/alerts/${alert.id}/`, { sub_heading: 'edited' }],
      ['DELETE', `/alerts/${alert.id}/`],
      ['POST', '/notifications/', { title: 'X', message: 'x' }],
      ['DELETE', `/notifications/${notification.id}/`],
      ['GET', '/api/memory/'],
      ['GET', '/metrics'],
    ];
    for (const [method, path, body] of adminOnly) {
      await attack('escalation: USER on admin-only routes', () => t.request(method, path, { token: operatorToken, body }), 403, FORBIDDEN);
    }
  });

  it('ADMIN updates ignore identity, ownership and secret fields (mass assignment)', async () => {
    const cat = 'mass assignment on update routes';
    const other = await createSite(t, { capacity: 5, zoneName: 'Annex' });
    const orgId = (await t.request('GET', `/zones/${site.zone.id}/`, { token: admin })).body.organization.id as number;
    const check = async (method: string, path: string, body: object, expect: (b: any) => boolean, what: string): Promise<void> => {
      const r = await t.request(method, path, { token: admin, body });
      const ok = r.status === 200 && expect(r.body);
      rec.record(cat, r.status, ok);
      assert.ok(ok, `${method} ${path}: ${what}: ${r.text}`);
    };
    await check('PATCH', `/organizations/${orgId}/`, { id: 999999, zones: [{ name: 'Injected', zone_type: 'x' }], name: 'Renamed' }, (b) => b.id === orgId && b.zones.length === 1 && b.name === 'Renamed', 'id and zones ignored');
    await check('PATCH', `/zones/${site.zone.id}/`, { id: 999999, organization: { id: 1 }, cameras: [{ name: 'Injected' }] }, (b) => b.id === site.zone.id && b.organization.id === orgId && b.cameras.length === 1, 'id, nested organization and cameras ignored');
    const keyHashBefore = (await t.ds.getRepository(Camera).findOneByOrFail({ id: site.camera.id })).apiKeyHash;
    await check(
      'PATCH',
      `/cameras/${site.camera.id}/`,
      { id: 999999, api_key_hash: 'x'.repeat(64), device_key: 'ecd_attacker_chosen_key', has_device_key: false, created_at: '2000-01-01T00:00:00Z' },
      (b) => b.id === site.camera.id && b.has_device_key === true && !('device_key' in b) && b.created_at !== '2000-01-01T00:00:00Z',
      'key fields and created_at ignored',
    );
    const keyHashAfter = (await t.ds.getRepository(Camera).findOneByOrFail({ id: site.camera.id })).apiKeyHash;
    rec.invariant(cat, 'the camera’s key hash is unchanged and the device still authenticates', keyHashAfter === keyHashBefore);
    assert.equal(keyHashAfter, keyHashBefore);
    assert.equal((await detect(t, { key: site.key, zoneId: site.zone.id, file: img })).status, 200);
    const alert = await t.create('/alerts/', { heading: 'Moved?', zone_id: other.zone.id });
    await check('PATCH', `/alerts/${alert.id}/`, { zone_id: site.zone.id, camera_id: site.camera.id, id: 999999, created_at: '2000-01-01T00:00:00Z' }, (b) => b.id === alert.id && b.zone_id === other.zone.id && b.camera_id === null && b.created_at === alert.created_at, 'zone, camera, id and created_at ignored');
    const notification = await t.create('/notifications/', { title: 'N', message: 'n' });
    for (const method of ['PUT', 'PATCH']) {
      await attack(cat, () => t.request(method, `/notifications/${notification.id}/`, { token: admin, body: { title: 'Edited' } }), 405, { detail: `Method "${method}" not allowed.` });
    }
  });

  it('device keys: another camera’s, a rotated, a tampered or a misplaced key never reaches the detector', async () => {
    const cat = 'device key misuse';
    const sibling = await addCamera(t, site.zone);
    const elsewhere = await createSite(t, { capacity: 10, zoneName: 'Elsewhere' });
    const inactive = await addCamera(t, site.zone, false);
    const rotated = await addCamera(t, site.zone);
    const rot = await t.request('POST', `/cameras/${rotated.camera.id}/rotate-key/`, { token: admin });
    assert.equal(rot.status, 200);
    rec.secrets.push(sibling.key, elsewhere.key, inactive.key, rotated.key, rot.body.device_key as string);
    const tampered = site.key.slice(0, -1) + (site.key.endsWith('A') ? 'B' : 'A');
    const cases: [string, () => Promise<TestResponse>, number, object][] = [
      ['a sibling camera’s key naming this camera', () => detect(t, { key: sibling.key, zoneId: site.zone.id, cameraId: site.camera.id, file: img }), 403, { error: 'Device key does not match camera_id' }],
      ['a key from another zone', () => detect(t, { key: elsewhere.key, zoneId: site.zone.id, file: img }), 403, { error: 'Camera does not belong to this zone' }],
      ['this zone’s key posting for another zone', () => detect(t, { key: site.key, zoneId: elsewhere.zone.id, file: img }), 403, { error: 'Camera does not belong to this zone' }],
      ['an inactive camera’s key', () => detect(t, { key: inactive.key, zoneId: site.zone.id, file: img }), 403, { error: 'Camera is inactive' }],
      ['a key rotated away', () => detect(t, { key: rotated.key, zoneId: site.zone.id, file: img }), 401, { error: 'Invalid device key' }],
      ['a tampered key', () => detect(t, { key: tampered, zoneId: site.zone.id, file: img }), 401, { error: 'Invalid device key' }],
      ['an operator’s access token as the key', () => detect(t, { key: operatorToken, zoneId: site.zone.id, file: img }), 401, { error: 'Invalid device key' }],
      ['the key as a Bearer token', () => detect(t, { zoneId: site.zone.id, file: img, headers: { authorization: `Bearer ${site.key}` } }), 401, { error: 'Missing device key' }],
      ['an admin access token instead of a key', () => detect(t, { zoneId: site.zone.id, file: img, headers: { authorization: `Bearer ${admin}` } }), 401, { error: 'Missing device key' }],
    ];
    const callsBefore = crowd.received.length;
    for (const [name, req, status, body] of cases) {
      const calls = crowd.received.length;
      await attack(`${cat}`, req, status, body);
      assert.equal(crowd.received.length, calls, `${name}: the detector was not called`);
    }
    const reached = crowd.received.length - callsBefore;
    rec.invariant(cat, `${cases.length} refused uploads: ${reached} reached the detector (each also checked for writes)`, reached === 0);
    // the control: the new key of the rotated camera works
    assert.equal((await detect(t, { key: rot.body.device_key as string, zoneId: site.zone.id, file: img })).status, 200);
  });

  it('login brute force is locked out with 429 per (email, IP), even for the right password', async () => {
    const cat = 'login brute force';
    const ip = { 'x-forwarded-for': '203.0.113.50' };
    const login = (pw: string, headers: Record<string, string> = ip): Promise<TestResponse> => t.request('POST', '/auth/login/', { body: { email: 'victim@example.com', password: pw }, headers });
    for (let i = 0; i < 10; i += 1) {
      await attack(cat, () => login(`guess-${i}-wrong`), 401, { detail: 'No active account found with the given credentials' });
    }
    const locked = { detail: 'Too many failed login attempts. Try again later.' };
    const retryAfter = (r: TestResponse): void => {
      const s = Number(r.headers.get('retry-after'));
      assert.ok(s > 0 && s <= 900, `Retry-After ${r.headers.get('retry-after')}`);
    };
    await attack(cat, () => login('guess-10-wrong'), 429, locked, retryAfter);
    await attack(cat, () => login(password), 429, locked, retryAfter);
    await attack(cat, () => login(password, { 'x-forwarded-for': '203.0.113.50', 'X-Real-IP': '192.0.2.99' }), 429, locked, retryAfter);
    // another address is not locked out by the attacker
    const fromElsewhere = await login(password, { 'x-forwarded-for': '203.0.113.51' });
    rec.record(cat, fromElsewhere.status, fromElsewhere.status === 200);
    assert.equal(fromElsewhere.status, 200);
  });

  describe('CORS with an allow-list', () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp({ env: { CORS_ORIGINS: 'https://dash.example' } });
      rec.instrument(t);
    });
    after(async () => t.close());

    it('a disallowed origin gets no CORS grant on preflights or responses; the listed origin does', async () => {
      const cat = 'CORS from a disallowed origin';
      const { token } = await t.admin();
      for (const origin of ['https://evil.example', 'https://dash.example.evil.example', 'http://dash.example', 'null']) {
        for (const [method, path] of [
          ['DELETE', '/alerts/1/'],
          ['POST', '/organizations/'],
          ['GET', '/auth/me/'],
        ]) {
          const pre = await t.request('OPTIONS', path, { headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' } });
          const ok = pre.headers.get('access-control-allow-origin') === null && pre.headers.get('access-control-allow-methods') === null && pre.headers.get('access-control-allow-headers') === null;
          rec.record(cat, pre.status, ok);
          assert.ok(ok, `${origin} preflight ${method} ${path}`);
        }
        const get = await t.request('GET', '/auth/me/', { token, headers: { origin } });
        const ok = get.headers.get('access-control-allow-origin') === null && get.headers.get('access-control-allow-credentials') === null;
        rec.record(cat, get.status, ok);
        assert.ok(ok, `${origin} GET`);
      }
      const good = await t.request('OPTIONS', '/alerts/1/', { headers: { origin: 'https://dash.example', 'access-control-request-method': 'DELETE' } });
      assert.equal(good.headers.get('access-control-allow-origin'), 'https://dash.example');
      assert.match(good.headers.get('access-control-allow-methods') ?? '', /DELETE/);
      assert.equal(good.headers.get('access-control-allow-credentials'), null, 'no credentials mode: tokens travel in headers only');
    });
  });
});
