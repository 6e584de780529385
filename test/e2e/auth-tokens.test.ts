import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TokenService } from '../../src/auth/token.service';
import { User } from '../../src/users/user.entity';
import { startTestApp, TEST_JWT_SECRET, TestApp } from '../support/test-app';

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

const notValid = (message: string) => ({
  detail: 'Given token not valid for any token type',
  code: 'token_not_valid',
  messages: [{ token_class: 'AccessToken', token_type: 'access', message }],
});

describe('auth: access-token attacks on a protected route', () => {
  let t: TestApp;
  let user: User;

  before(async () => {
    t = await startTestApp();
    user = await t.createUser({ email: 'victim@example.com' });
  });
  after(async () => t.close());

  const me = (authorization?: string) => t.request('GET', '/auth/me/', { headers: authorization === undefined ? {} : { authorization } });

  async function expect401(authorization: string | undefined, body: unknown): Promise<void> {
    const r = await me(authorization);
    assert.equal(r.status, 401, `${authorization ?? '(none)'} → ${r.text}`);
    assert.deepEqual(r.body, body);
    assert.equal(r.headers.get('www-authenticate'), WWW);
  }

  it('accepts a genuine token (the control case)', async () => {
    const r = await me(`Bearer ${craft({ alg: 'HS256', typ: 'JWT' }, claims(Number(user.id)), TEST_JWT_SECRET)}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.email, 'victim@example.com');
  });

  it('rejects a missing header, another scheme and a malformed Bearer header', async () => {
    const none = { detail: 'Authentication credentials were not provided.' };
    await expect401(undefined, none);
    await expect401(`Basic ${Buffer.from('victim@example.com:pw').toString('base64')}`, none);
    await expect401(`Token ${t.tokenFor(user)}`, none);
    const bad = { detail: 'Authorization header must contain two space-delimited values', code: 'bad_authorization_header' };
    await expect401('Bearer', bad);
    await expect401(`Bearer ${t.tokenFor(user)} extra`, bad);
  });

  it('rejects alg "none", a wrong key, a tampered payload, an RS256 header and garbage', async () => {
    const id = Number(user.id);
    await expect401(`Bearer ${craft({ alg: 'none', typ: 'JWT' }, claims(id), null)}`, notValid('Token is invalid'));
    await expect401(`Bearer ${craft({ alg: 'HS256', typ: 'JWT' }, claims(id), 'another-secret-that-is-also-32-characters')}`, notValid('Token is invalid'));
    const genuine = craft({ alg: 'HS256', typ: 'JWT' }, claims(id), TEST_JWT_SECRET).split('.');
    await expect401(`Bearer ${genuine[0]}.${b64(claims(id + 1000))}.${genuine[2]}`, notValid('Token is invalid'));
    await expect401(`Bearer ${craft({ alg: 'RS256', typ: 'JWT' }, claims(id), TEST_JWT_SECRET)}`, notValid('Token is invalid'));
    await expect401('Bearer not-a-jwt', notValid('Token is invalid'));
    // a token signed with the right key but a numeric user_id (not simplejwt's string) is not ours
    await expect401(`Bearer ${craft({ alg: 'HS256', typ: 'JWT' }, claims(id, { user_id: id }), TEST_JWT_SECRET)}`, notValid('Token is invalid'));
  });

  it('rejects an expired token and a refresh token used as an access token', async () => {
    const tokens = t.app.get(TokenService);
    const expired = tokens.sign('access', Number(user.id), undefined, Math.floor(Date.now() / 1000) - 3600).token;
    await expect401(`Bearer ${expired}`, notValid('Token is expired'));
    // no leeway: one second past exp is expired
    const justExpired = craft({ alg: 'HS256', typ: 'JWT' }, claims(Number(user.id), { exp: Math.floor(Date.now() / 1000) - 1 }), TEST_JWT_SECRET);
    await expect401(`Bearer ${justExpired}`, notValid('Token is expired'));
    await expect401(`Bearer ${tokens.sign('refresh', Number(user.id)).token}`, notValid('Token has wrong type'));
  });

  it('rejects the token of a deleted user and of an inactive user', async () => {
    const gone = await t.createUser({ email: 'gone@example.com' });
    const goneToken = t.tokenFor(gone);
    await t.ds.getRepository(User).delete({ id: gone.id });
    await expect401(`Bearer ${goneToken}`, { detail: 'User not found', code: 'user_not_found' });

    const sleepy = await t.createUser({ email: 'sleepy@example.com' });
    const sleepyToken = t.tokenFor(sleepy);
    assert.equal((await me(`Bearer ${sleepyToken}`)).status, 200);
    await t.ds.getRepository(User).update({ id: sleepy.id }, { isActive: false });
    await expect401(`Bearer ${sleepyToken}`, { detail: 'User is inactive', code: 'user_inactive' });
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
