import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { PasswordHasher } from '../../src/auth/password-hasher';
import { startTestApp, TestApp, TestResponse } from '../support/test-app';

const PASSWORD = 'client-ip-pass-1';
const LOCKED = { detail: 'Too many failed login attempts. Try again later.' };

const login = (t: TestApp, email: string, password: string, xff?: string): Promise<TestResponse> =>
  t.request('POST', '/auth/login/', { body: { email, password }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } });

/** A fresh address each call, as a client rotating X-Forwarded-For would send. */
const randomIp = (): string => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

async function failTenTimes(t: TestApp, email: string, xff: () => string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const r = await login(t, email, 'wrong-password', xff());
    assert.equal(r.status, 401, `failure ${i + 1}: ${r.text}`);
  }
}

/**
 * The client IP of the login limit (spec §11 TRUST_PROXY): X-Forwarded-For is believed only as far
 * as the trusted hops go, so a client cannot pick its own address to escape a lockout.
 */
describe('login limit: which client IP counts (TRUST_PROXY)', () => {
  const apps: TestApp[] = [];
  const start = async (env: Record<string, string>): Promise<TestApp> => {
    const t = await startTestApp({ env });
    apps.push(t);
    await t.createUser({ email: 'ip@example.com', password: await new PasswordHasher().hash(PASSWORD) });
    return t;
  };
  after(async () => {
    for (const t of apps) {
      await t.close();
    }
  });

  it('TRUST_PROXY=0 (the default outside production): rotating X-Forwarded-For does not reset a lockout', async () => {
    const t = await start({});
    assert.equal(t.config.trustProxy, 0);
    await failTenTimes(t, 'ip@example.com', randomIp);
    const r = await login(t, 'ip@example.com', PASSWORD, randomIp());
    assert.equal(r.status, 429, r.text);
    assert.deepEqual(r.body, LOCKED);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    // nor does leaving the header out
    assert.equal((await login(t, 'ip@example.com', PASSWORD)).status, 429);
  });

  it('TRUST_PROXY=1: the right-most X-Forwarded-For entry is the client; a client-supplied left entry is ignored', async () => {
    const t = await start({ TRUST_PROXY: '1' });
    // what Cloud Run's front end forwards: "<whatever the client sent>, <the address it saw>"
    await failTenTimes(t, 'ip@example.com', () => `${randomIp()}, 198.51.100.7`);
    const locked = await login(t, 'ip@example.com', PASSWORD, `${randomIp()}, 198.51.100.7`);
    assert.equal(locked.status, 429, locked.text);
    assert.deepEqual(locked.body, LOCKED);
    // the left entry the client forged equal to a clean address does not help either
    assert.equal((await login(t, 'ip@example.com', PASSWORD, '198.51.100.8, 198.51.100.7')).status, 429);
    // another real client address is not locked out
    const other = await login(t, 'ip@example.com', PASSWORD, '198.51.100.7, 198.51.100.8');
    assert.equal(other.status, 200, other.text);
  });

  it('TRUST_PROXY as a CIDR list: addresses are peeled off while they are trusted proxies', async () => {
    // the test client connects from 127.0.0.1: that is the only proxy trusted here
    const t = await start({ TRUST_PROXY: '127.0.0.1/32' });
    assert.deepEqual(t.config.trustProxy, ['127.0.0.1/32']);
    await failTenTimes(t, 'ip@example.com', () => `${randomIp()}, 198.51.100.20`);
    assert.equal((await login(t, 'ip@example.com', PASSWORD, `${randomIp()}, 198.51.100.20`)).status, 429);
    assert.equal((await login(t, 'ip@example.com', PASSWORD, '198.51.100.21')).status, 200);

    // with the 198.51.100.0/24 proxies trusted too, the address before them is the client
    const t2 = await start({ TRUST_PROXY: '127.0.0.1/32, 198.51.100.0/24' });
    await failTenTimes(t2, 'ip@example.com', () => `192.0.2.5, 198.51.100.${randomBytes(1)[0]}`);
    assert.equal((await login(t2, 'ip@example.com', PASSWORD, '192.0.2.5, 198.51.100.1')).status, 429);
    assert.equal((await login(t2, 'ip@example.com', PASSWORD, '192.0.2.6, 198.51.100.1')).status, 200);
  });
});
