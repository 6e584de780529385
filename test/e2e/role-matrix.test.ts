import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, TestApp } from '../support/test-app';

const NO_CREDENTIALS = { detail: 'Authentication credentials were not provided.' };
const FORBIDDEN = { detail: 'You do not have permission to perform this action.' };

type Level = 'user' | 'admin';

interface RouteCase {
  method: string;
  /** a pattern, for the test name */
  route: string;
  level: Level;
  success: number;
  /** builds a fresh concrete request (a new row for every destructive call) */
  make: () => Promise<{ path: string; body?: unknown }>;
}

/** Every operator-API route of spec §4.3 with its auth level: USER reads (and closes alerts), ADMIN writes. */
describe('route × role matrix (organizations, zones, cameras, alerts, notifications)', () => {
  let t: TestApp;
  let admin: string;
  let user: string;
  let n = 0;

  const one = async (sql: string, params: unknown[] = []): Promise<number> => Number((await t.ds.query(sql, params))[0].id);
  const org = (): Promise<number> =>
    one(`INSERT INTO lims_organization (name, org_type, total_capacity, created_at, updated_at) VALUES ($1, 'T', 0, now(), now()) RETURNING id`, [`o${(n += 1)}`]);
  const zone = async (): Promise<number> => one(`INSERT INTO lims_zone (organization_id, name, zone_type, capacity) VALUES ($1, 'z', 'T', 5) RETURNING id`, [await org()]);
  const camera = async (): Promise<number> => one(`INSERT INTO lims_camera (zone_id, name, is_active, created_at) VALUES ($1, 'c', true, now()) RETURNING id`, [await zone()]);
  const alert = async (): Promise<number> =>
    one(`INSERT INTO lims_alert (heading, status, created_at, updated_at, zone_id) VALUES ('h', 'OPEN', now(), now(), $1) RETURNING id`, [await zone()]);
  const notification = (): Promise<number> => one(`INSERT INTO lims_notification (title, message, created_at) VALUES ('t', 'm', now()) RETURNING id`);

  const cases: RouteCase[] = [
    { method: 'GET', route: '/organizations/', level: 'user', success: 200, make: async () => ({ path: '/organizations/' }) },
    { method: 'POST', route: '/organizations/', level: 'admin', success: 201, make: async () => ({ path: '/organizations/', body: { name: 'n', org_type: 't' } }) },
    { method: 'GET', route: '/organizations/{id}/', level: 'user', success: 200, make: async () => ({ path: `/organizations/${await org()}/` }) },
    { method: 'PUT', route: '/organizations/{id}/', level: 'admin', success: 200, make: async () => ({ path: `/organizations/${await org()}/`, body: { name: 'x' } }) },
    { method: 'PATCH', route: '/organizations/{id}/', level: 'admin', success: 200, make: async () => ({ path: `/organizations/${await org()}/`, body: { name: 'x' } }) },
    { method: 'DELETE', route: '/organizations/{id}/', level: 'admin', success: 204, make: async () => ({ path: `/organizations/${await org()}/` }) },

    { method: 'GET', route: '/zones/', level: 'user', success: 200, make: async () => ({ path: '/zones/' }) },
    { method: 'POST', route: '/zones/', level: 'admin', success: 201, make: async () => ({ path: '/zones/', body: { name: 'n', zone_type: 't', organization_id: await org() } }) },
    { method: 'GET', route: '/zones/{id}/', level: 'user', success: 200, make: async () => ({ path: `/zones/${await zone()}/` }) },
    { method: 'PUT', route: '/zones/{id}/', level: 'admin', success: 200, make: async () => ({ path: `/zones/${await zone()}/`, body: { capacity: 3 } }) },
    { method: 'PATCH', route: '/zones/{id}/', level: 'admin', success: 200, make: async () => ({ path: `/zones/${await zone()}/`, body: { capacity: 3 } }) },
    { method: 'DELETE', route: '/zones/{id}/', level: 'admin', success: 204, make: async () => ({ path: `/zones/${await zone()}/` }) },

    { method: 'GET', route: '/cameras/', level: 'user', success: 200, make: async () => ({ path: '/cameras/' }) },
    { method: 'POST', route: '/cameras/', level: 'admin', success: 201, make: async () => ({ path: '/cameras/', body: { name: 'c', zone_id: await zone() } }) },
    { method: 'GET', route: '/cameras/{id}/', level: 'user', success: 200, make: async () => ({ path: `/cameras/${await camera()}/` }) },
    { method: 'PUT', route: '/cameras/{id}/', level: 'admin', success: 200, make: async () => ({ path: `/cameras/${await camera()}/`, body: { is_active: false } }) },
    { method: 'PATCH', route: '/cameras/{id}/', level: 'admin', success: 200, make: async () => ({ path: `/cameras/${await camera()}/`, body: { is_active: false } }) },
    { method: 'DELETE', route: '/cameras/{id}/', level: 'admin', success: 204, make: async () => ({ path: `/cameras/${await camera()}/` }) },
    { method: 'POST', route: '/cameras/{id}/rotate-key/', level: 'admin', success: 200, make: async () => ({ path: `/cameras/${await camera()}/rotate-key/` }) },

    { method: 'GET', route: '/alerts/', level: 'user', success: 200, make: async () => ({ path: '/alerts/?status=OPEN' }) },
    { method: 'POST', route: '/alerts/', level: 'admin', success: 201, make: async () => ({ path: '/alerts/', body: { heading: 'h', zone_id: await zone() } }) },
    { method: 'GET', route: '/alerts/{id}/', level: 'user', success: 200, make: async () => ({ path: `/alerts/${await alert()}/` }) },
    { method: 'PUT', route: '/alerts/{id}/', level: 'user', success: 200, make: async () => ({ path: `/alerts/${await alert()}/`, body: { status: 'CLOSED' } }) },
    { method: 'PATCH', route: '/alerts/{id}/', level: 'user', success: 200, make: async () => ({ path: `/alerts/${await alert()}/`, body: { status: 'CLOSED' } }) },
    { method: 'DELETE', route: '/alerts/{id}/', level: 'admin', success: 204, make: async () => ({ path: `/alerts/${await alert()}/` }) },

    { method: 'GET', route: '/notifications/', level: 'user', success: 200, make: async () => ({ path: '/notifications/' }) },
    { method: 'POST', route: '/notifications/', level: 'admin', success: 201, make: async () => ({ path: '/notifications/', body: { title: 't', message: 'm' } }) },
    { method: 'GET', route: '/notifications/{id}/', level: 'user', success: 200, make: async () => ({ path: `/notifications/${await notification()}/` }) },
    { method: 'DELETE', route: '/notifications/{id}/', level: 'admin', success: 204, make: async () => ({ path: `/notifications/${await notification()}/` }) },
  ];

  before(async () => {
    t = await startTestApp();
    admin = (await t.admin()).token;
    user = (await t.operator()).token;
  });
  after(async () => t.close());

  for (const c of cases) {
    it(`${c.method} ${c.route}: anonymous 401, USER ${c.level === 'admin' ? '403' : c.success}, ADMIN ${c.success}`, async () => {
      const anon = await c.make();
      const r401 = await t.request(c.method, anon.path, { body: anon.body });
      assert.equal(r401.status, 401);
      assert.deepEqual(r401.body, NO_CREDENTIALS);
      assert.equal(r401.headers.get('www-authenticate'), 'Bearer realm="api"');

      const forged = await t.request(c.method, anon.path, { body: anon.body, headers: { authorization: `Bearer ${admin.slice(0, -4)}AAAA` } });
      assert.equal(forged.status, 401);
      assert.equal(forged.body.code, 'token_not_valid');

      const asUser = await c.make();
      const ru = await t.request(c.method, asUser.path, { token: user, body: asUser.body });
      if (c.level === 'admin') {
        assert.equal(ru.status, 403, ru.text);
        assert.deepEqual(ru.body, FORBIDDEN);
      } else {
        assert.equal(ru.status, c.success, ru.text);
      }

      const asAdmin = await c.make();
      const ra = await t.request(c.method, asAdmin.path, { token: admin, body: asAdmin.body });
      assert.equal(ra.status, c.success, ra.text);
      if (c.success === 204) {
        assert.equal(ra.text, '');
      } else {
        assert.equal(typeof ra.body, 'object');
      }
      // the no-slash spelling is the same route (C1)
      if (c.method === 'GET') {
        const noSlash = await t.request('GET', asAdmin.path.replace(/\/(\?|$)/, '$1'), { token: user });
        assert.equal(noSlash.status, 200);
      }
    });
  }

  it('a USER refused on an admin route changes nothing', async () => {
    const id = await org();
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const r = await t.request(method, `/organizations/${id}/`, { token: user, body: { name: 'hijacked' } });
      assert.equal(r.status, 403);
    }
    const [row] = await t.ds.query('SELECT name FROM lims_organization WHERE id = $1', [id]);
    assert.match(row.name, /^o\d+$/);
    const before = (await t.ds.query('SELECT count(*)::int AS n FROM lims_notification'))[0].n;
    await t.request('POST', '/notifications/', { token: user, body: { title: 't', message: 'm' } });
    assert.equal((await t.ds.query('SELECT count(*)::int AS n FROM lims_notification'))[0].n, before);
  });

  it('checks in the spec order: 405, 401, 403, 400 (path), 404, 400 (body)', async () => {
    const r405 = await t.request('PATCH', '/notifications/abc/');
    assert.equal(r405.status, 405, '405 before 401');
    const r401 = await t.request('DELETE', '/organizations/abc/');
    assert.equal(r401.status, 401, '401 before 400');
    const r403 = await t.request('DELETE', '/organizations/abc/', { token: user });
    assert.equal(r403.status, 403, '403 before 400');
    assert.deepEqual(r403.body, FORBIDDEN);
    const r400 = await t.request('PUT', '/zones/abc/', { token: admin, body: { capacity: -1 } });
    assert.deepEqual(r400.body, { id: ['A valid integer is required.'] });
    const r404 = await t.request('PUT', '/zones/99999999/', { token: admin, body: { capacity: -1 } });
    assert.equal(r404.status, 404, '404 before the body');
    const q400 = await t.request('GET', '/zones/?org_id=x');
    assert.equal(q400.status, 401, '401 before the query');
  });

  it('answers wrong methods with 405 and Allow, before authentication', async () => {
    const list = await t.request('DELETE', '/organizations/');
    assert.equal(list.status, 405);
    assert.deepEqual(list.body, { detail: 'Method "DELETE" not allowed.' });
    assert.equal(list.headers.get('allow'), 'GET, HEAD, OPTIONS, POST');
    const rotate = await t.request('GET', '/cameras/1/rotate-key/', { token: admin });
    assert.equal(rotate.status, 405);
    assert.equal(rotate.headers.get('allow'), 'OPTIONS, POST');
    const item = await t.request('POST', '/alerts/1');
    assert.equal(item.status, 405);
    assert.equal(item.headers.get('allow'), 'DELETE, GET, HEAD, OPTIONS, PATCH, PUT');
  });
});
