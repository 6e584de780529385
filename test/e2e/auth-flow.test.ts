import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PasswordHasher } from '../../src/auth/password-hasher';
import { RefreshTokens } from '../../src/auth/refresh-tokens.service';
import { TokenService } from '../../src/auth/token.service';
import { Metrics } from '../../src/observability/metrics.service';
import { User } from '../../src/users/user.entity';
import { startTestApp, TestApp } from '../support/test-app';

// the hash of "legacy-pass-123" from test/fixtures/django-schema.sql
const DJANGO_HASH = 'pbkdf2_sha256$1000$legacysalt123$dD5esW+eZ9UN4CuZHijr+FNiz6s8NW8dUTtNtq8Z1nY=';
const WWW = 'Bearer realm="api"';

interface FamilyRow {
  jti: string;
  revoked_at: Date | null;
  replaced_by: string | null;
}

describe('auth: register, login, me, refresh rotation, logout', () => {
  let t: TestApp;
  let ipCounter = 0;
  // each test logs in from its own client IP so brute-force counters never leak between tests
  const fromIp = (): Record<string, string> => ({ 'x-forwarded-for': `10.0.0.${++ipCounter}` });

  const login = (email: string, password: string, headers = fromIp()) => t.request('POST', '/auth/login/', { body: { email, password }, headers });
  const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
  const family = async (refresh: string): Promise<FamilyRow[]> => {
    const jti = claimsOf(refresh).jti as string;
    return (await t.ds.query(
      `SELECT jti, revoked_at, replaced_by FROM ecoflow_refresh_token
       WHERE family_id = (SELECT family_id FROM ecoflow_refresh_token WHERE jti = $1) ORDER BY issued_at, jti`,
      [jti],
    )) as FamilyRow[];
  };

  before(async () => {
    // TRUST_PROXY=1: X-Forwarded-For simulates distinct client IPs; REFRESH_REUSE_INTERVAL=0: the
    // strict §4.2 reuse rule (the interval has its own suite, auth-refresh-reuse.test.ts)
    t = await startTestApp({ env: { TRUST_PROXY: '1', REFRESH_REUSE_INTERVAL: '0' } });
  });
  after(async () => t.close());

  it('walks register → login → me → refresh → old token rejected → reuse revokes the family → logout', async () => {
    const reg = await t.request('POST', '/auth/register/', {
      body: { email: '  Alice@Example.COM ', password: 'correct-horse', first_name: 'Alice', last_name: 'Liddell', role: 'USER' },
    });
    assert.equal(reg.status, 201, reg.text);
    // the very first account becomes ADMIN whatever it asked for
    assert.deepEqual(reg.body, { message: 'User registered successfully', user: { email: 'alice@example.com', role: 'ADMIN' } });
    assert.equal(reg.headers.get('cache-control'), 'no-store');
    const [row] = (await t.ds.query(`SELECT username, password, role, is_active, eco_points, last_login FROM lims_user WHERE email = 'alice@example.com'`)) as any[];
    assert.equal(row.username, 'alice@example.com');
    assert.match(row.password, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(row.last_login, null);

    const li = await login('ALICE@example.com', 'correct-horse');
    assert.equal(li.status, 200, li.text);
    assert.equal(li.headers.get('cache-control'), 'no-store');
    assert.deepEqual(Object.keys(li.body as object), ['refresh', 'access', 'user_id', 'email', 'role', 'name']);
    assert.equal(typeof li.body.user_id, 'number');
    assert.equal(li.body.email, 'alice@example.com');
    assert.equal(li.body.role, 'ADMIN');
    assert.equal(li.body.name, 'Alice');
    const access = claimsOf(li.body.access as string);
    assert.equal(access.token_type, 'access');
    assert.equal(access.user_id, String(li.body.user_id));
    assert.match(access.jti as string, /^[0-9a-f]{32}$/);
    assert.equal((access.exp as number) - (access.iat as number), 1800);
    const [after1] = (await t.ds.query(`SELECT last_login FROM lims_user WHERE id = $1`, [li.body.user_id])) as any[];
    assert.ok(after1.last_login instanceof Date, 'last_login is set on login');

    const me = await t.request('GET', '/auth/me/', { token: li.body.access });
    assert.equal(me.status, 200);
    assert.equal(me.headers.get('cache-control'), 'no-store');
    assert.deepEqual(me.body, {
      id: li.body.user_id,
      email: 'alice@example.com',
      first_name: 'Alice',
      last_name: 'Liddell',
      role: 'ADMIN',
      eco_points: 0,
      full_name: 'Alice Liddell',
    });

    const r1 = await t.request('POST', '/auth/refresh/', { body: { refresh: li.body.refresh } });
    assert.equal(r1.status, 200, r1.text);
    assert.deepEqual(Object.keys(r1.body as object), ['access', 'refresh']);
    assert.notEqual(r1.body.refresh, li.body.refresh);
    const rc = claimsOf(r1.body.refresh as string);
    assert.equal(rc.token_type, 'refresh');
    assert.equal((rc.exp as number) - (rc.iat as number), 7 * 86400, 'the rotated refresh token has a full TTL');
    assert.equal((await t.request('GET', '/auth/me', { token: r1.body.access })).status, 200);

    // the old token is revoked and points at its successor
    const fam = await family(li.body.refresh as string);
    assert.equal(fam.length, 2);
    const old = fam.find((f) => f.jti === claimsOf(li.body.refresh as string).jti)!;
    assert.ok(old.revoked_at);
    assert.equal(old.replaced_by, rc.jti);

    // re-sending the old one is reuse: 401, and the newest token of the family dies too
    const reuse = await t.request('POST', '/auth/refresh/', { body: { refresh: li.body.refresh } });
    assert.equal(reuse.status, 401);
    assert.deepEqual(reuse.body, { detail: 'Token is blacklisted', code: 'token_not_valid' });
    assert.equal(reuse.headers.get('www-authenticate'), WWW);
    const newest = await t.request('POST', '/auth/refresh/', { body: { refresh: r1.body.refresh } });
    assert.equal(newest.status, 401);
    assert.deepEqual(newest.body, { detail: 'Token is blacklisted', code: 'token_not_valid' });
    assert.ok((await family(li.body.refresh as string)).every((f) => f.revoked_at !== null));

    // a new login starts a new family; logout revokes it and is idempotent
    const li2 = await login('alice@example.com', 'correct-horse');
    assert.equal(li2.status, 200);
    const out = await t.request('POST', '/auth/logout/', { token: li2.body.access, body: { refresh: li2.body.refresh } });
    assert.equal(out.status, 204);
    assert.equal(out.text, '');
    const again = await t.request('POST', '/auth/logout', { token: li2.body.access, body: { refresh: li2.body.refresh } });
    assert.equal(again.status, 204);
    const afterLogout = await t.request('POST', '/auth/refresh/', { body: { refresh: li2.body.refresh } });
    assert.equal(afterLogout.status, 401);
    assert.deepEqual(afterLogout.body, { detail: 'Token is blacklisted', code: 'token_not_valid' });

    // passwords and tokens never reach the logs
    const logged = JSON.stringify(t.logs);
    assert.ok(t.logs.length > 0);
    for (const secret of ['correct-horse', li.body.refresh, li.body.access, r1.body.refresh, li2.body.refresh] as string[]) {
      assert.equal(logged.includes(secret), false, 'a secret was logged');
    }
  });

  it('validates logout: Bearer required, refresh required, bad signature 401, another user\'s token 403', async () => {
    const pw = 'logout-pass-1';
    const a = await t.createUser({ email: 'logout-a@example.com' });
    const b = await t.createUser({ email: 'logout-b@example.com' });
    const hash = await new PasswordHasher().hash(pw);
    await t.ds.query(`UPDATE lims_user SET password = $1 WHERE id IN ($2, $3)`, [hash, a.id, b.id]);
    const la = await login(a.email, pw);
    const lb = await login(b.email, pw);
    assert.equal(la.status, 200);
    assert.equal(lb.status, 200);

    const anon = await t.request('POST', '/auth/logout/', { body: { refresh: la.body.refresh } });
    assert.equal(anon.status, 401);
    assert.deepEqual(anon.body, { detail: 'Authentication credentials were not provided.' });

    const missing = await t.request('POST', '/auth/logout/', { token: la.body.access, body: {} });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body, { refresh: ['This field is required.'] });

    const forged = await t.request('POST', '/auth/logout/', { token: la.body.access, body: { refresh: `${la.body.refresh as string}x` } });
    assert.equal(forged.status, 401);
    assert.deepEqual(forged.body, { detail: 'Token is invalid', code: 'token_not_valid' });

    // an expired refresh token of the caller is simply dead already: still 204
    const stale = t.app.get(TokenService).sign('refresh', Number(a.id), undefined, Math.floor(Date.now() / 1000) - 8 * 86400).token;
    assert.equal((await t.request('POST', '/auth/logout/', { token: la.body.access, body: { refresh: stale } })).status, 204);
    const wrongType = await t.request('POST', '/auth/logout/', { token: la.body.access, body: { refresh: la.body.access } });
    assert.equal(wrongType.status, 401);
    assert.deepEqual(wrongType.body, { detail: 'Token has wrong type', code: 'token_not_valid' });

    const foreign = await t.request('POST', '/auth/logout/', { token: la.body.access, body: { refresh: lb.body.refresh } });
    assert.equal(foreign.status, 403);
    assert.deepEqual(foreign.body, { detail: 'You do not have permission to perform this action.' });
    // b's token still works
    assert.equal((await t.request('POST', '/auth/refresh/', { body: { refresh: lb.body.refresh } })).status, 200);
  });

  it('answers refresh errors with simplejwt\'s bodies', async () => {
    const u = await t.createUser({ email: 'refresh-errors@example.com' });
    const tokens = t.app.get(TokenService);
    const missing = await t.request('POST', '/auth/refresh/', { body: {} });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body, { refresh: ['This field is required.'] });

    const garbage = await t.request('POST', '/auth/refresh/', { body: { refresh: 'not.a.jwt' } });
    assert.equal(garbage.status, 401);
    assert.deepEqual(garbage.body, { detail: 'Token is invalid', code: 'token_not_valid' });
    assert.equal(garbage.headers.get('www-authenticate'), WWW);

    const access = await t.request('POST', '/auth/refresh/', { body: { refresh: t.tokenFor(u) } });
    assert.equal(access.status, 401);
    assert.deepEqual(access.body, { detail: 'Token has wrong type', code: 'token_not_valid' });

    const expired = tokens.sign('refresh', u.id, undefined, Math.floor(Date.now() / 1000) - 8 * 86400).token;
    const exp = await t.request('POST', '/auth/refresh/', { body: { refresh: expired } });
    assert.equal(exp.status, 401);
    assert.deepEqual(exp.body, { detail: 'Token is expired', code: 'token_not_valid' });

    // validly signed but never issued (not in the store)
    const unknown = await t.request('POST', '/auth/refresh/', { body: { refresh: tokens.sign('refresh', u.id).token } });
    assert.equal(unknown.status, 401);
    assert.deepEqual(unknown.body, { detail: 'Token is invalid', code: 'token_not_valid' });
  });

  it('refuses refresh for a deleted or inactive user', async () => {
    const pw = 'inactive-pass-1';
    const hash = await new PasswordHasher().hash(pw);
    const gone = await t.createUser({ email: 'gone@example.com', password: hash });
    const sleepy = await t.createUser({ email: 'sleepy@example.com', password: hash });
    const lg = await login(gone.email, pw);
    const ls = await login(sleepy.email, pw);
    await t.ds.getRepository(User).delete({ id: gone.id });
    await t.ds.getRepository(User).update({ id: sleepy.id }, { isActive: false });
    for (const refresh of [lg.body.refresh, ls.body.refresh]) {
      const r = await t.request('POST', '/auth/refresh/', { body: { refresh } });
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, { detail: 'No active account found for the given token.' });
    }
    // and an inactive user cannot log in either
    const li = await login(sleepy.email, pw);
    assert.equal(li.status, 401);
    assert.deepEqual(li.body, { detail: 'No active account found with the given credentials' });
  });

  it('lets exactly one of 50 parallel refreshes with one token win, and the family ends revoked (REFRESH_REUSE_INTERVAL=0)', async () => {
    const pw = 'parallel-pass-1';
    const hash = await new PasswordHasher().hash(pw);
    const u = await t.createUser({ email: 'parallel@example.com', password: hash });
    const li = await login(u.email, pw);
    assert.equal(li.status, 200);
    const results = await Promise.all(Array.from({ length: 50 }, () => t.request('POST', '/auth/refresh/', { body: { refresh: li.body.refresh } })));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses.join(',')}`);
    assert.equal(statuses.filter((s) => s === 401).length, 49);
    for (const r of results.filter((x) => x.status === 401)) {
      assert.deepEqual(r.body, { detail: 'Token is blacklisted', code: 'token_not_valid' });
    }
    const fam = await family(li.body.refresh as string);
    assert.equal(fam.length, 2, 'one successor was issued');
    assert.ok(fam.every((f) => f.revoked_at !== null), 'reuse revoked the winner\'s new token too');
    const winner = results.find((r) => r.status === 200)!;
    assert.equal((await t.request('POST', '/auth/refresh/', { body: { refresh: winner.body.refresh } })).status, 401);
  });

  it('logs in with a Django pbkdf2 hash and re-hashes it to argon2id', async () => {
    await t.ds.query(
      `INSERT INTO lims_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined, role, eco_points)
       VALUES ($1, NULL, false, 'Operator@EcoFlow.example', 'Otto', '', 'Operator@EcoFlow.example', false, true, now(), 'USER', 12)`,
      [DJANGO_HASH],
    );
    const bad = await login('operator@ecoflow.example', 'legacy-pass-124');
    assert.equal(bad.status, 401);
    const [before1] = (await t.ds.query(`SELECT password FROM lims_user WHERE email = 'Operator@EcoFlow.example'`)) as any[];
    assert.equal(before1.password, DJANGO_HASH, 'a failed login does not touch the hash');

    const li = await login('OPERATOR@ecoflow.example', 'legacy-pass-123');
    assert.equal(li.status, 200, li.text);
    assert.equal(li.body.email, 'Operator@EcoFlow.example');
    assert.equal(li.body.name, 'Otto');
    const [row] = (await t.ds.query(`SELECT password FROM lims_user WHERE email = 'Operator@EcoFlow.example'`)) as any[];
    assert.match(row.password, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    // the new hash verifies the same password
    assert.equal((await login('operator@ecoflow.example', 'legacy-pass-123')).status, 200);
    const me = await t.request('GET', '/auth/me/', { token: li.body.access });
    assert.equal(me.body.eco_points, 12);
    assert.equal(me.body.full_name, 'Otto ');
  });

  it('never matches an unusable or unknown hash format, and unknown emails get the same 401', async () => {
    await t.createUser({ email: 'unusable@example.com', password: '!legacy-pass-123' });
    await t.createUser({ email: 'md5@example.com', password: 'md5$salt$0123456789abcdef0123456789abcdef' });
    for (const email of ['unusable@example.com', 'md5@example.com', 'nobody@example.com']) {
      const r = await login(email, 'legacy-pass-123');
      assert.equal(r.status, 401, email);
      assert.deepEqual(r.body, { detail: 'No active account found with the given credentials' });
      assert.equal(r.headers.get('www-authenticate'), WWW);
    }
    const missing = await t.request('POST', '/auth/login/', { body: { email: '' } });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body, { email: ['This field may not be blank.'], password: ['This field is required.'] });
  });

  it('locks out (email, IP) after 10 failures with 429 and Retry-After; a success before that clears the count', async () => {
    const pw = 'brute-pass-123';
    const hash = await new PasswordHasher().hash(pw);
    await t.createUser({ email: 'brute@example.com', password: hash });
    const ip = { 'x-forwarded-for': '192.0.2.10' };

    // 9 failures, then a success: the count starts over
    for (let i = 0; i < 9; i++) {
      assert.equal((await login('brute@example.com', 'wrong', ip)).status, 401);
    }
    assert.equal((await login('Brute@Example.com', pw, ip)).status, 200);
    for (let i = 0; i < 10; i++) {
      assert.equal((await login('brute@example.com', 'wrong', ip)).status, 401, `failure ${i + 1}`);
    }
    // the 11th attempt is refused before the password is looked at, even the right one
    for (const password of ['wrong', pw]) {
      const r = await login(' BRUTE@example.com', password, ip);
      assert.equal(r.status, 429);
      assert.deepEqual(r.body, { detail: 'Too many failed login attempts. Try again later.' });
      const retry = Number(r.headers.get('retry-after'));
      assert.ok(retry > 880 && retry <= 900, `Retry-After ${retry}`);
    }
    // another client IP is not locked out
    assert.equal((await login('brute@example.com', pw, { 'x-forwarded-for': '192.0.2.11' })).status, 200);
    const metrics = await t.app.get(Metrics).registry.getSingleMetricAsString('login_throttle_rejections_total');
    assert.match(metrics, /login_throttle_rejections_total 2/);
  });

  it('updates only first_name and last_name on /auth/me/ (PUT and PATCH)', async () => {
    const u = await t.createUser({ email: 'me@example.com', firstName: 'Old', lastName: 'Name' });
    const token = t.tokenFor(u);
    const put = await t.request('PUT', '/auth/me/', {
      token,
      body: { first_name: 'New', role: 'ADMIN', email: 'evil@example.com', is_active: false, eco_points: 999, id: 1 },
    });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.body, { id: Number(u.id), email: 'me@example.com', first_name: 'New', last_name: 'Name', role: 'USER', eco_points: 0, full_name: 'New Name' });
    const patch = await t.request('PATCH', '/auth/me', { token, body: { last_name: '' } });
    assert.equal(patch.status, 200);
    assert.equal(patch.body.full_name, 'New ');
    const bad = await t.request('PATCH', '/auth/me/', { token, body: { first_name: 'x'.repeat(151), last_name: null } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { first_name: ['Ensure this field has no more than 150 characters.'], last_name: ['This field may not be null.'] });
    const [row] = (await t.ds.query(`SELECT role, email, is_active, first_name, last_name FROM lims_user WHERE id = $1`, [u.id])) as any[];
    assert.deepEqual(row, { role: 'USER', email: 'me@example.com', is_active: true, first_name: 'New', last_name: '' });
  });

  it('purges expired refresh tokens', async () => {
    const u = await t.createUser({ email: 'purge@example.com' });
    await t.ds.query(
      `INSERT INTO ecoflow_refresh_token (jti, user_id, family_id, issued_at, expires_at, revoked_at, replaced_by)
       VALUES ('expired-jti', $1, gen_random_uuid(), now() - interval '8 days', now() - interval '1 day', NULL, NULL),
              ('live-jti', $1, gen_random_uuid(), now(), now() + interval '1 day', NULL, NULL)`,
      [u.id],
    );
    const purged = await t.app.get(RefreshTokens).purgeExpired();
    assert.ok(purged >= 1);
    const rows = (await t.ds.query(`SELECT jti FROM ecoflow_refresh_token WHERE user_id = $1 ORDER BY jti`, [u.id])) as { jti: string }[];
    assert.deepEqual(rows.map((r) => r.jti), ['live-jti']);
  });
});
