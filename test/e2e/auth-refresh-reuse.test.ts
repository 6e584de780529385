import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PasswordHasher } from '../../src/auth/password-hasher';
import { startTestApp, TestApp, TestResponse } from '../support/test-app';

const PASSWORD = 'reuse-pass-1234';
const BLACKLISTED = { detail: 'Token is blacklisted', code: 'token_not_valid' };

const jtiOf = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { jti: string }).jti;

/**
 * REFRESH_REUSE_INTERVAL (spec §11): a refresh token presented again shortly after it was rotated
 * (parallel tabs, concurrent polls) gets a fresh pair of the same family; later, or when the
 * family is dead, reuse is theft as in §4.2. The interval is decided on the row's `revoked_at`.
 */
describe('refresh token reuse interval (default 10 s)', () => {
  let t: TestApp;
  let n = 0;
  const refresh = (token: string): Promise<TestResponse> => t.request('POST', '/auth/refresh/', { body: { refresh: token } });
  const row = async (token: string): Promise<{ family_id: string; revoked_at: Date | null }> =>
    ((await t.ds.query(`SELECT family_id, revoked_at FROM ecoflow_refresh_token WHERE jti = $1`, [jtiOf(token)])) as { family_id: string; revoked_at: Date | null }[])[0];
  const family = async (token: string): Promise<{ jti: string; revoked_at: Date | null }[]> =>
    (await t.ds.query(`SELECT jti, revoked_at FROM ecoflow_refresh_token WHERE family_id = $1`, [(await row(token)).family_id])) as {
      jti: string;
      revoked_at: Date | null;
    }[];
  /** pretends the token was rotated `sec` seconds ago */
  const age = async (token: string, sec: number): Promise<void> => {
    await t.ds.query(`UPDATE ecoflow_refresh_token SET revoked_at = now() - make_interval(secs => $2) WHERE jti = $1`, [jtiOf(token), sec]);
  };
  const login = async (): Promise<{ access: string; refresh: string }> => {
    const u = await t.createUser({ email: `reuse-${++n}@example.com`, password: await new PasswordHasher().hash(PASSWORD) });
    const li = await t.request('POST', '/auth/login/', { body: { email: u.email, password: PASSWORD } });
    assert.equal(li.status, 200, li.text);
    return li.body as { access: string; refresh: string };
  };

  before(async () => {
    t = await startTestApp();
    assert.equal(t.config.auth.refreshReuseIntervalSec, 10);
  });
  after(async () => t.close());

  it('within the interval, the rotated token gets a fresh working pair of the same family; nothing is revoked', async () => {
    const li = await login();
    const first = await refresh(li.refresh);
    assert.equal(first.status, 200, first.text);
    const again = await refresh(li.refresh);
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(Object.keys(again.body as object), ['access', 'refresh']);
    assert.notEqual(again.body.refresh, first.body.refresh);
    assert.equal((await row(again.body.refresh as string)).family_id, (await row(li.refresh)).family_id);
    const fam = await family(li.refresh);
    assert.equal(fam.length, 3);
    assert.deepEqual(fam.filter((f) => f.revoked_at !== null).map((f) => f.jti), [jtiOf(li.refresh)], 'only the presented token is revoked');
    // both branches work: access tokens authenticate, refresh tokens rotate
    for (const pair of [first.body, again.body] as { access: string; refresh: string }[]) {
      assert.equal((await t.request('GET', '/auth/me/', { token: pair.access })).status, 200);
      assert.equal((await refresh(pair.refresh)).status, 200);
    }
  });

  it('after the interval, reuse is theft: 401 blacklisted and the whole family revoked', async () => {
    const li = await login();
    const first = await refresh(li.refresh);
    assert.equal(first.status, 200);
    await age(li.refresh, 11);
    const reuse = await refresh(li.refresh);
    assert.equal(reuse.status, 401);
    assert.deepEqual(reuse.body, BLACKLISTED);
    assert.ok((await family(li.refresh)).every((f) => f.revoked_at !== null));
    assert.deepEqual((await refresh(first.body.refresh as string)).body, BLACKLISTED);
  });

  it('within the interval, a token of a revoked family is still refused, and the family stays dead', async () => {
    const li = await login();
    const b = await refresh(li.refresh);
    const c = await refresh(b.body.refresh as string);
    assert.equal(c.status, 200);
    // the first token resurfaces late: theft, the family dies
    await age(li.refresh, 60);
    assert.deepEqual((await refresh(li.refresh)).body, BLACKLISTED);
    // b was rotated a moment ago, but its family is revoked: no new token
    const late = await refresh(b.body.refresh as string);
    assert.equal(late.status, 401);
    assert.deepEqual(late.body, BLACKLISTED);
    const fam = await family(li.refresh);
    assert.equal(fam.length, 3, 'nothing was issued');
    assert.ok(fam.every((f) => f.revoked_at !== null));
  });

  it('a logged-out token is not "rotated": reusing it within the interval is refused and revokes the family', async () => {
    const li = await login();
    const out = await t.request('POST', '/auth/logout/', { token: li.access, body: { refresh: li.refresh } });
    assert.equal(out.status, 204);
    const r = await refresh(li.refresh);
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, BLACKLISTED);
    assert.equal((await family(li.refresh)).length, 1);
  });
});
