import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Alert } from '../../src/alerts/alert.entity';
import { PasswordHasher } from '../../src/auth/password-hasher';
import { CarbonLog } from '../../src/carbon/carbon-log.entity';
import { RedisClient } from '../../src/integrations/redis/redis.client';
import { CrowdServer, startCrowdServer } from '../doubles/crowd-server';
import { GeminiServer, startGeminiServer } from '../doubles/gemini-server';
import { REAL_POSTGRES, REAL_REDIS_URL } from '../support/database';
import { jpeg } from '../support/images';
import { createSite, detect } from '../support/sensor';
import { startTestApp, TestApp, TestResponse } from '../support/test-app';
import { Recorder } from './support';
import { shareRedisPrefix } from '../support/env';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const times = <T>(n: number, f: (i: number) => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: n }, (_, i) => f(i)));
const count = (rs: TestResponse[], status: number): number => rs.filter((r) => r.status === status).length;

/**
 * Races the service must win: many devices and operators at once, on two application instances
 * sharing one database and one Redis (as Cloud Run runs it). The embedded database cannot be
 * shared by two processes, so without TEST_DATABASE_URL both "instances" are the same one and
 * the categories say so.
 */
describe('concurrency: nothing duplicated or lost when requests race', () => {
  const rec = new Recorder('concurrency');
  const TWO = REAL_POSTGRES;
  const where = TWO ? `two instances, one database${REAL_REDIS_URL ? ' and Redis' : ''}` : 'one instance (embedded database)';
  let one: TestApp;
  let two: TestApp;
  let crowd: CrowdServer;
  let gemini: GeminiServer;
  let img: Buffer;
  let admin: string;
  let restoreEnv = (): void => undefined;
  /** alternate between the two instances */
  const on = (i: number): TestApp => (i % 2 === 0 ? one : two);

  before(async () => {
    crowd = await startCrowdServer();
    gemini = await startGeminiServer();
    // both instances must use the same Redis keys to share throttle and cache state
    restoreEnv = shareRedisPrefix('concurrency');
    const env = {
      CROWD_PREDICT_URL: crowd.predictUrl,
      CROWD_TIMEOUT_MS: '10000',
      CROWD_BREAKER_FAILURES: '1000',
      GEMINI_API_KEY: 'test-gemini-key',
      GEMINI_BASE_URL: gemini.url,
      SENSOR_THROTTLE_MS: '0', // every racing upload must reach the alert step
      DB_POOL_MAX: '10',
    };
    one = await startTestApp({ env });
    two = TWO ? await startTestApp({ env, db: one.db }) : one;
    for (const t of new Set([one, two])) {
      rec.instrument(t);
      const redis = t.app.get(RedisClient).redis;
      for (let i = 0; redis && redis.status !== 'ready' && i < 100; i += 1) {
        await sleep(20);
      }
    }
    rec.secrets.push('test-gemini-key');
    admin = (await one.admin()).token;
    img = await jpeg(32, 32);
  });

  after(async () => {
    rec.write();
    if (two !== one) {
      await two.close();
    }
    await one.close();
    await crowd.close();
    await gemini.close();
    restoreEnv();
    assert.deepEqual(rec.leaks, [], 'no response leaked internals or secrets');
  });

  it(`50 parallel DANGER uploads for one camera (${where}) open exactly one alert, named by every response`, async () => {
    const cat = `50 DANGER uploads, one camera, ${where}`;
    const s = await createSite(one, { capacity: 10, zoneName: 'Atrium' });
    rec.secrets.push(s.key);
    crowd.setDefault({ count: 15, delayMs: 5 });
    const rs = await times(50, (i) => detect(on(i), { key: s.key, zoneId: s.zone.id, file: img }));
    const open = await one.ds.getRepository(Alert).find({ where: { zoneId: s.zone.id, status: 'OPEN' } });
    const all = await one.ds.getRepository(Alert).count({ where: { zoneId: s.zone.id } });
    for (const r of rs) {
      rec.record(cat, r.status, r.status === 200 && open.length === 1 && r.body?.alert_id === Number(open[0].id));
    }
    const created = rs.filter((r) => r.body?.alert_created === true).length;
    rec.invariant(cat, `${open.length} OPEN alert (${all} in all) after 50 uploads; ${created} response said alert_created`, open.length === 1 && all === 1 && created === 1);
    assert.deepEqual(
      rs.map((r) => r.status),
      rs.map(() => 200),
    );
    assert.equal(open.length, 1);
    assert.equal(all, 1, 'no second alert row, open or closed');
    assert.equal(created, 1);
    assert.ok(rs.every((r) => r.body.alert_id === Number(open[0].id)));
    assert.equal(rs.filter((r) => r.body.alert_message === 'Existing alert still active').length, 49);
  });

  it('operators reopening a closed alert while devices report DANGER end with exactly one OPEN alert', async () => {
    const cat = `reopen vs new alert race, ${where}`;
    const s = await createSite(one, { capacity: 10, zoneName: 'Foyer' });
    rec.secrets.push(s.key);
    crowd.setDefault({ count: 12, delayMs: 20 });
    // the PATCHes start at different points of the uploads' flight, so both sides get to win
    const patchDelays = [0, 15, 30, 60];
    for (let round = 0; round < patchDelays.length; round += 1) {
      // an alert for this camera that an operator closed
      const first = await detect(one, { key: s.key, zoneId: s.zone.id, file: img });
      assert.equal(first.status, 200, first.text);
      const closedId = first.body.alert_id as number;
      const close = await one.request('PATCH', `/alerts/${closedId}/`, { token: admin, body: { status: 'CLOSED' } });
      assert.equal(close.status, 200, close.text);

      const [uploads, patches] = await Promise.all([
        times(20, (i) => detect(on(i), { key: s.key, zoneId: s.zone.id, file: img })),
        sleep(patchDelays[round]).then(() => times(10, (i) => on(i + 1).request('PATCH', `/alerts/${closedId}/`, { token: admin, body: { status: 'OPEN' } }))),
      ]);
      const open = await one.ds.getRepository(Alert).find({ where: { zoneId: s.zone.id, status: 'OPEN' } });
      const openId = open.length === 1 ? Number(open[0].id) : -1;
      const reopened = openId === closedId;
      // whoever wins, the losers agree: uploads name the one open alert, PATCHes all 200 (they won) or all 409
      const patchOk = patches.every((p) => p.status === (reopened ? 200 : 409));
      for (const r of uploads) {
        rec.record(cat, r.status, r.status === 200 && r.body.alert_id === openId);
      }
      for (const p of patches) {
        rec.record(cat, p.status, patchOk);
      }
      rec.invariant(cat, `round ${round + 1}: ${open.length} OPEN alert (${reopened ? 'the reopened one' : 'a new one'}); PATCHes ${[...new Set(patches.map((p) => p.status))].join('/')}`, open.length === 1 && patchOk);
      assert.equal(open.length, 1, `round ${round}`);
      assert.ok(uploads.every((r) => r.status === 200 && r.body.alert_id === openId), `round ${round}: every upload names the open alert`);
      assert.ok(patchOk, `round ${round}: PATCH statuses ${patches.map((p) => p.status).join(',')}`);
      for (const p of patches.filter((x) => x.status === 409)) {
        assert.deepEqual(p.body, { detail: 'An open alert already exists for this zone and camera.' });
      }
      // close whatever is open for the next round
      assert.equal((await one.request('PATCH', `/alerts/${openId}/`, { token: admin, body: { status: 'CLOSED' } })).status, 200);
    }
  });

  it('40 parallel NORMAL uploads write 40 carbon logs, and both instances then report them', async () => {
    const cat = `40 NORMAL uploads → carbon logs, ${where}`;
    const s = await createSite(one, { capacity: 100, zoneName: 'Library' });
    rec.secrets.push(s.key);
    crowd.setDefault({ count: 3 });
    gemini.setDefault({ text: '5' });
    const stats = (t: TestApp): Promise<TestResponse> => t.request('GET', `/carbon/stats/?zone_id=${s.zone.id}`, { token: admin });
    // warm both caches with the empty state, so a missed invalidation would show
    for (const t of new Set([one, two])) {
      assert.deepEqual((await stats(t)).body.summary, { total_saved_all_time: 0, average_per_detection: 0 });
    }
    const rs = await times(40, (i) => detect(on(i), { key: s.key, zoneId: s.zone.id, file: img }));
    const logs = await one.ds.getRepository(CarbonLog).count({ where: { zoneId: s.zone.id } });
    const logged = rs.filter((r) => r.status === 200 && r.body.carbon_data?.calculation_result === 0.6).length;
    for (const r of rs) {
      rec.record(cat, r.status, r.status === 200 && r.body.carbon_data?.calculation_result === 0.6);
    }
    const after1 = (await stats(one)).body.summary;
    const after2 = (await stats(two)).body.summary;
    const expected = { total_saved_all_time: 24, average_per_detection: 0.6 };
    const statsOk = JSON.stringify(after1) === JSON.stringify(expected) && JSON.stringify(after2) === JSON.stringify(expected);
    rec.invariant(cat, `${logs} carbon logs for ${logged} successful responses; stats on every instance ${JSON.stringify(after2)}`, logs === 40 && logged === 40 && statsOk);
    assert.equal(logged, 40);
    assert.equal(logs, 40, 'one carbon log per successful NORMAL detection, no more, no fewer');
    assert.deepEqual(after1, expected);
    assert.deepEqual(after2, expected, 'the other instance’s cache was invalidated too');
  });

  /** The refresh token's row family: every row with its revocation time. */
  const familyOf = async (t: TestApp, refresh: string): Promise<{ jti: string; revoked_at: Date | null }[]> => {
    const jti = JSON.parse(Buffer.from(refresh.split('.')[1], 'base64url').toString()).jti as string;
    return (await t.ds.query(
      `SELECT jti, revoked_at FROM ecoflow_refresh_token WHERE family_id = (SELECT family_id FROM ecoflow_refresh_token WHERE jti = $1)`,
      [jti],
    )) as { jti: string; revoked_at: Date | null }[];
  };
  const raceLogin = async (t: TestApp): Promise<TestResponse> => {
    const pw = 'race-pass-12345';
    const u = await t.createUser({ email: `race-${randomBytes(3).toString('hex')}@example.com`, password: await new PasswordHasher().hash(pw) });
    rec.secrets.push(pw);
    const li = await t.request('POST', '/auth/login/', { body: { email: u.email, password: pw } });
    assert.equal(li.status, 200, li.text);
    return li;
  };

  it(`50 parallel refreshes of one token with REFRESH_REUSE_INTERVAL=0 (${where}): exactly one wins and the family is revoked`, async () => {
    const cat = `50 refreshes of one token, no reuse interval, ${where}`;
    // the strict §4.2 rule needs its own instances: the shared ones run with the default interval
    const env = { REFRESH_REUSE_INTERVAL: '0', DB_POOL_MAX: '10' };
    // (the embedded database is one per app: there s1 gets its own)
    const s1 = await startTestApp({ env, db: TWO ? one.db : undefined });
    const s2 = TWO ? await startTestApp({ env, db: one.db }) : s1;
    try {
      rec.instrument(s1);
      if (s2 !== s1) {
        rec.instrument(s2);
      }
      const li = await raceLogin(s1);
      const rs = await times(50, (i) => (i % 2 === 0 ? s1 : s2).request('POST', '/auth/refresh/', { body: { refresh: li.body.refresh } }));
      const winners = rs.filter((r) => r.status === 200);
      const blacklisted = rs.filter((r) => r.status === 401 && JSON.stringify(r.body) === JSON.stringify({ detail: 'Token is blacklisted', code: 'token_not_valid' }));
      const family = await familyOf(s1, li.body.refresh as string);
      const successorDead = winners.length === 1 ? (await s2.request('POST', '/auth/refresh/', { body: { refresh: winners[0].body.refresh } })).status === 401 : false;
      for (const r of rs) {
        rec.record(cat, r.status, r.status === 200 || blacklisted.includes(r));
      }
      const familyRevoked = family.length === 2 && family.every((f) => f.revoked_at !== null);
      rec.invariant(cat, `${winners.length} refresh succeeded, ${blacklisted.length} blacklisted; family of ${family.length} tokens all revoked: ${familyRevoked}; the winner's new token refused: ${successorDead}`, winners.length === 1 && familyRevoked && successorDead);
      assert.equal(winners.length, 1, rs.map((r) => r.status).join(','));
      assert.equal(blacklisted.length, 49);
      assert.ok(familyRevoked, 'reuse revoked the whole family');
      assert.ok(successorDead, 'the winner’s new refresh token is dead too');
      assert.equal(count(rs, 500), 0);
    } finally {
      if (s2 !== s1) {
        await s2.close();
      }
      await s1.close();
    }
  });

  it(`50 parallel refreshes of one token within REFRESH_REUSE_INTERVAL (${where}): all get a working pair of the same family`, async () => {
    const cat = `50 refreshes of one token, within the reuse interval, ${where}`;
    const li = await raceLogin(one);
    const rs = await times(50, (i) => on(i).request('POST', '/auth/refresh/', { body: { refresh: li.body.refresh } }));
    for (const r of rs) {
      rec.record(cat, r.status, r.status === 200);
    }
    const family = await familyOf(one, li.body.refresh as string);
    const live = family.filter((f) => f.revoked_at === null);
    const issued = rs.filter((r) => r.status === 200).map((r) => JSON.parse(Buffer.from((r.body.refresh as string).split('.')[1], 'base64url').toString()).jti as string);
    const allInFamily = issued.every((jti) => live.some((f) => f.jti === jti));
    // every pair works: its access token authenticates, its refresh token rotates (on the other instance)
    const me = await times(rs.length, (i) => on(i + 1).request('GET', '/auth/me/', { token: rs[i].body?.access as string }));
    const next = await times(rs.length, (i) => on(i + 1).request('POST', '/auth/refresh/', { body: { refresh: rs[i].body?.refresh as string } }));
    const ok = count(rs, 200) === 50 && family.length === 51 && live.length === 50 && allInFamily && count(me, 200) === 50 && count(next, 200) === 50;
    rec.invariant(cat, `${count(rs, 200)} of 50 refreshes succeeded; family of ${family.length} tokens, ${live.length} live, every issued token in it: ${allInFamily}; ${count(me, 200)} access tokens and ${count(next, 200)} refresh tokens worked`, ok);
    assert.equal(count(rs, 200), 50, rs.map((r) => `${r.status} ${r.text}`).join(','));
    assert.equal(new Set(issued).size, 50, 'each response is a fresh token');
    assert.equal(family.length, 51, 'the rotated token and 50 successors, one family');
    assert.equal(live.length, 50, 'the family is not revoked');
    assert.ok(allInFamily);
    assert.equal(count(me, 200), 50);
    assert.equal(count(next, 200), 50, next.map((r) => r.status).join(','));
  });
});
