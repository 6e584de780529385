import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { User } from '../../src/users/user.entity';
import { startTestApp, TestApp } from '../support/test-app';

describe('auth: registration and the first ADMIN', () => {
  let t: TestApp;
  const register = (body: unknown, token?: string, headers?: Record<string, string>) => t.request('POST', '/auth/register/', { body, token, headers });

  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  // must run first: it needs the empty database
  it('makes exactly one of two concurrent first registrations ADMIN', async () => {
    const [a, b] = await Promise.all([
      register({ email: 'first-a@example.com', password: 'password-a1', role: 'USER' }),
      register({ email: 'first-b@example.com', password: 'password-b1', role: 'ADMIN' }),
    ]);
    const statuses = [a.status, b.status].sort();
    const admin = [a, b].find((r) => r.status === 201 && r.body.user.role === 'ADMIN');
    assert.ok(admin, `one becomes ADMIN: ${a.text} / ${b.text}`);
    // the loser asked for USER (201) or for ADMIN without an ADMIN token (403)
    const other = admin === a ? b : a;
    if (other === a) {
      assert.equal(a.status, 201);
      assert.equal(a.body.user.role, 'USER');
    } else {
      assert.equal(b.status, 403);
      assert.deepEqual(b.body, { detail: 'Only an administrator can create ADMIN accounts.' });
    }
    assert.ok(statuses.every((s) => s === 201 || s === 403));
    const [row] = (await t.ds.query(`SELECT count(*)::int AS n FROM lims_user WHERE role = 'ADMIN'`)) as { n: number }[];
    assert.equal(row.n, 1);
  });

  it('gives later anonymous callers USER, and refuses them ADMIN with 403 after field validation', async () => {
    const user = await register({ email: 'later@example.com', password: 'password-123' });
    assert.equal(user.status, 201);
    assert.deepEqual(user.body, { message: 'User registered successfully', user: { email: 'later@example.com', role: 'USER' } });

    const denied = await register({ email: 'wannabe@example.com', password: 'password-123', role: 'ADMIN' });
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.body, { detail: 'Only an administrator can create ADMIN accounts.' });
    // field errors come first
    const invalid = await register({ email: 'wannabe@example.com', password: 'short', role: 'ADMIN' });
    assert.equal(invalid.status, 400);
    assert.deepEqual(invalid.body, { password: ['This password is too short. It must contain at least 8 characters.'] });
    const rows = (await t.ds.query(`SELECT 1 FROM lims_user WHERE email = 'wannabe@example.com'`)) as unknown[];
    assert.equal(rows.length, 0);
  });

  it('lets an active ADMIN create an ADMIN, and refuses a USER token or an inactive ADMIN', async () => {
    const { token } = await t.admin();
    const ok = await register({ email: 'second-admin@example.com', password: 'password-123', role: 'ADMIN' }, token);
    assert.equal(ok.status, 201, ok.text);
    assert.deepEqual(ok.body, { message: 'User registered successfully', user: { email: 'second-admin@example.com', role: 'ADMIN' } });
    const login = await t.request('POST', '/auth/login/', { body: { email: 'second-admin@example.com', password: 'password-123' } });
    assert.equal(login.status, 200);
    assert.equal(login.body.role, 'ADMIN');

    const op = await t.operator();
    const byUser = await register({ email: 'by-user@example.com', password: 'password-123', role: 'ADMIN' }, op.token);
    assert.equal(byUser.status, 403);
    assert.deepEqual(byUser.body, { detail: 'Only an administrator can create ADMIN accounts.' });

    const retired = await t.createUser({ email: 'retired-admin@example.com', role: 'ADMIN', isActive: false });
    const byInactive = await register({ email: 'by-inactive@example.com', password: 'password-123', role: 'ADMIN' }, t.tokenFor(retired));
    assert.equal(byInactive.status, 401);
    assert.deepEqual(byInactive.body, { detail: 'User is inactive', code: 'user_inactive' });
  });

  it('validates a present Authorization header (401), unlike the other public routes', async () => {
    const bad = await register({ email: 'hdr@example.com', password: 'password-123' }, undefined, { authorization: 'Bearer garbage' });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.code, 'token_not_valid');
    assert.equal(bad.headers.get('www-authenticate'), 'Bearer realm="api"');
    const basic = await register({ email: 'hdr@example.com', password: 'password-123' }, undefined, { authorization: 'Basic abc' });
    assert.equal(basic.status, 401);
    assert.deepEqual(basic.body, { detail: 'Authentication credentials were not provided.' });
    assert.equal((await t.ds.query(`SELECT 1 FROM lims_user WHERE email = 'hdr@example.com'`)).length, 0);
  });

  it('normalizes emails and keeps them unique case-insensitively', async () => {
    const r = await register({ email: '  Mixed.Case@Example.ORG ', password: 'password-123', first_name: 'Mia', last_name: 'Case' });
    assert.equal(r.status, 201);
    assert.equal(r.body.user.email, 'mixed.case@example.org');
    const dup = await register({ email: 'MIXED.CASE@example.org', password: 'password-456' });
    assert.equal(dup.status, 400);
    assert.deepEqual(dup.body, { email: ['user with this email already exists.'] });
    // uniqueness is reported with the other field errors
    const both = await register({ email: 'mixed.case@EXAMPLE.org', password: 'short' });
    assert.deepEqual(both.body, { email: ['user with this email already exists.'], password: ['This password is too short. It must contain at least 8 characters.'] });
    const user = await t.ds.getRepository(User).findOneByOrFail({ email: 'mixed.case@example.org' });
    assert.equal(user.username, 'mixed.case@example.org');
    assert.equal(user.firstName, 'Mia');
    assert.equal(user.role, 'USER');
    assert.equal(user.isActive, true);
    assert.equal(user.isStaff, false);
    assert.equal(user.isSuperuser, false);
    assert.equal(user.ecoPoints, 0);
    // login is case-insensitive too
    const login = await t.request('POST', '/auth/login/', { body: { email: 'MIXED.case@example.org', password: 'password-123' } });
    assert.equal(login.status, 200);
    assert.equal(login.body.name, 'Mia');
  });

  it('reports every invalid field at once in the Django wording', async () => {
    const r = await register({ email: 'not-an-email', password: 'p'.repeat(129), first_name: 'x'.repeat(151), role: 'ROOT' });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, {
      email: ['Enter a valid email address.'],
      password: ['Ensure this field has no more than 128 characters.'],
      first_name: ['Ensure this field has no more than 150 characters.'],
      role: ['"ROOT" is not a valid choice.'],
    });
    const empty = await register({});
    assert.deepEqual(empty.body, { email: ['This field is required.'], password: ['This field is required.'] });
    const long = await register({ email: `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`, password: 'password-123' });
    assert.equal(long.status, 400);
    assert.deepEqual(long.body, { email: ['Ensure this field has no more than 254 characters.'] });
  });

  it('uses user-<uuid> as username when the email is longer than 150 characters', async () => {
    const email = `${'a'.repeat(60)}@${'b'.repeat(60)}.${'c'.repeat(40)}.com`;
    assert.ok(email.length > 150 && email.length <= 254);
    const r = await register({ email, password: 'password-123' });
    assert.equal(r.status, 201, r.text);
    const user = await t.ds.getRepository(User).findOneByOrFail({ email });
    assert.match(user.username, /^user-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('accepts urlencoded registration bodies (the dashboard may post forms)', async () => {
    const r = await t.request('POST', '/auth/register', {
      raw: 'email=form%40example.com&password=password-123&first_name=Fo',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });
});
