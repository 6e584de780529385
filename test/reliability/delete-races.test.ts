import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { SiteGraph } from '../../src/sites/site-graph';
import { CrowdServer, startCrowdServer } from '../doubles/crowd-server';
import { REAL_POSTGRES } from '../support/database';
import { jpeg } from '../support/images';
import { createSite, detect } from '../support/sensor';
import { startTestApp, TestApp, TestResponse } from '../support/test-app';
import { Recorder } from './support';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const invalidPk = (id: number | string): string[] => [`Invalid pk "${id}" - object does not exist.`];
const NO_PG = 'needs real PostgreSQL (TEST_DATABASE_URL): PGlite is one session, a second client cannot hold a row lock while a request waits on it';

/**
 * A child created, moved or detected while its parent is deleted (spec §11): 400 `Invalid pk` or
 * 404, never a 500 from an unmapped foreign-key violation (23503).
 *
 * Three ways to make the race happen:
 * - "between check and write" (both modes): the parent is deleted right after the service's
 *   existence check returned, by a hook on that check, so the INSERT/UPDATE hits the FK;
 * - "row lock" (PostgreSQL): a second client deletes the parent in an open transaction, the
 *   request passes its check (MVCC still shows the row) and blocks on the FK's row lock, then the
 *   delete commits;
 * - "storm" (both modes; only PostgreSQL truly interleaves): many creates and deletes at once,
 *   checking every answer is an allowed one and no orphan row is left.
 */
describe('delete races: a parent deleted mid-request is a 400/404, never a 500', () => {
  const rec = new Recorder('delete-races');
  let t: TestApp;
  let crowd: CrowdServer;
  let admin: string;
  let img: Buffer;
  let graph: SiteGraph;
  /** runs once, right after the next existence check of a zone or organization returned */
  let afterCheck: (() => Promise<void>) | null = null;
  let n = 0;

  const check = (cat: string, r: TestResponse, status: number, body: unknown): void => {
    const ok = r.status === status && JSON.stringify(r.body) === JSON.stringify(body);
    rec.record(cat, r.status, ok);
    assert.equal(r.status, status, r.text);
    assert.deepEqual(r.body, body);
  };

  const org = async (): Promise<number> => {
    n += 1;
    return ((await t.create('/organizations/', { name: `Org ${n}`, org_type: 'office' })) as { id: number }).id;
  };
  const zone = async (orgId: number, capacity = 10): Promise<number> =>
    ((await t.create('/zones/', { name: `Zone ${(n += 1)}`, zone_type: 'hall', organization_id: orgId, capacity })) as { id: number }).id;
  const camera = async (zoneId: number): Promise<number> => ((await t.create('/cameras/', { name: `Cam ${(n += 1)}`, zone_id: zoneId })) as { id: number }).id;
  const del = async (path: string): Promise<void> => {
    const r = await t.request('DELETE', path, { token: admin });
    assert.equal(r.status, 204, `DELETE ${path}: ${r.text}`);
  };
  const req = (method: string, path: string, body: unknown): Promise<TestResponse> => t.request(method, path, { token: admin, body });

  /** No child row whose parent is gone (the FKs forbid it; this checks nothing slipped past). */
  const orphans = async (): Promise<number> => {
    const [row] = (await t.ds.query(`SELECT
        (SELECT count(*) FROM lims_zone z WHERE NOT EXISTS (SELECT 1 FROM lims_organization o WHERE o.id = z.organization_id))
      + (SELECT count(*) FROM lims_camera c WHERE NOT EXISTS (SELECT 1 FROM lims_zone z WHERE z.id = c.zone_id))
      + (SELECT count(*) FROM lims_alert a WHERE a.zone_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM lims_zone z WHERE z.id = a.zone_id))
      + (SELECT count(*) FROM lims_alert a WHERE a.camera_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM lims_camera c WHERE c.id = a.camera_id))
      AS n`)) as { n: number }[];
    return Number(row.n);
  };

  before(async () => {
    crowd = await startCrowdServer();
    t = await startTestApp({ env: { CROWD_PREDICT_URL: crowd.predictUrl, CROWD_TIMEOUT_MS: '10000', SENSOR_THROTTLE_MS: '0', DB_POOL_MAX: '10' } });
    rec.instrument(t);
    admin = (await t.admin()).token;
    img = await jpeg(32, 32);
    graph = t.app.get(SiteGraph);
    for (const name of ['organizationExists', 'zoneExists'] as const) {
      const original = graph[name].bind(graph);
      graph[name] = async (id: number): Promise<boolean> => {
        const exists = await original(id);
        const hook = afterCheck;
        afterCheck = null;
        if (hook) {
          await hook();
        }
        return exists;
      };
    }
  });

  after(async () => {
    rec.write();
    await t?.close();
    await crowd?.close();
    assert.deepEqual(rec.leaks, [], 'no response leaked internals or secrets');
  });

  describe('deleted between the existence check and the write (both modes)', () => {
    const cat = 'parent deleted between check and write';

    it('POST /zones/ whose organization vanished: 400 Invalid pk on organization_id', async () => {
      const o = await org();
      afterCheck = () => del(`/organizations/${o}/`);
      check(cat, await req('POST', '/zones/', { name: 'Z', zone_type: 'hall', organization_id: String(o) }), 400, { organization_id: invalidPk(o) });
    });

    it('PATCH /zones/{id}/ moving to an organization that vanished: 400 Invalid pk', async () => {
      const z = await zone(await org());
      const target = await org();
      afterCheck = () => del(`/organizations/${target}/`);
      check(cat, await req('PATCH', `/zones/${z}/`, { organization_id: target }), 400, { organization_id: invalidPk(target) });
    });

    it('PUT /zones/{id}/ whose own zone vanished: 404', async () => {
      const o = await org();
      const z = await zone(o);
      afterCheck = () => del(`/zones/${z}/`);
      check(cat, await req('PUT', `/zones/${z}/`, { name: 'renamed', organization_id: o }), 404, { detail: 'No Zone matches the given query.' });
    });

    it('POST /cameras/ whose zone vanished: 400 Invalid pk on zone_id', async () => {
      const z = await zone(await org());
      afterCheck = () => del(`/zones/${z}/`);
      check(cat, await req('POST', '/cameras/', { name: 'C', zone_id: z }), 400, { zone_id: invalidPk(z) });
    });

    it('PATCH /cameras/{id}/ moving to a zone that vanished: 400 Invalid pk', async () => {
      const o = await org();
      const c = await camera(await zone(o));
      const target = await zone(o);
      afterCheck = () => del(`/zones/${target}/`);
      check(cat, await req('PATCH', `/cameras/${c}/`, { zone_id: target }), 400, { zone_id: invalidPk(target) });
    });

    it('PATCH /cameras/{id}/ whose own camera vanished: 404', async () => {
      const z = await zone(await org());
      const c = await camera(z);
      afterCheck = () => del(`/cameras/${c}/`);
      check(cat, await req('PATCH', `/cameras/${c}/`, { zone_id: z }), 404, { detail: 'No Camera matches the given query.' });
    });

    it('POST /alerts/ whose zone vanished: 400 Invalid pk on zone_id', async () => {
      const z = await zone(await org());
      afterCheck = () => del(`/zones/${z}/`);
      check(cat, await req('POST', '/alerts/', { heading: 'h', zone_id: z }), 400, { zone_id: invalidPk(z) });
    });

  });

  describe('the detector answers after the zone or camera was deleted (both modes)', () => {
    const cat = 'DANGER detection, zone/camera deleted while the detector answers';

    /** Sends a DANGER upload, deletes `path` while the crowd double holds the answer, returns the response. */
    const racedDetection = async (deletePath: (s: Awaited<ReturnType<typeof createSite>>) => string): Promise<TestResponse> => {
      const s = await createSite(t, { capacity: 10 });
      rec.secrets.push(s.key);
      const seen = crowd.received.length;
      crowd.enqueue({ count: 12, delayMs: 800 });
      const pending = detect(t, { key: s.key, zoneId: s.zone.id, file: img });
      for (let i = 0; crowd.received.length === seen && i < 200; i += 1) {
        await sleep(10);
      }
      assert.ok(crowd.received.length > seen, 'the upload reached the detector');
      await del(deletePath(s));
      return pending;
    };

    it('zone deleted: 404 {"error":"Zone not found"}, and no alert row', async () => {
      const r = await racedDetection((s) => `/zones/${s.zone.id}/`);
      check(cat, r, 404, { error: 'Zone not found' });
      assert.equal(await orphans(), 0);
    });

    it("camera deleted: 401 {\"error\":\"Invalid device key\"} (the key died with its camera)", async () => {
      const r = await racedDetection((s) => `/cameras/${s.camera.id}/`);
      check(cat, r, 401, { error: 'Invalid device key' });
      assert.equal(await orphans(), 0);
    });

    it('organization deleted: 404 Zone not found', async () => {
      const r = await racedDetection((s) => `/organizations/${s.zone.organizationId}/`);
      check(cat, r, 404, { error: 'Zone not found' });
    });
  });

  describe('the delete commits while the write waits on its row lock (PostgreSQL)', { skip: REAL_POSTGRES ? false : NO_PG }, () => {
    const cat = 'parent deleted in an open transaction, request blocked on the FK lock';
    let locker: Client;

    before(async () => {
      locker = new Client({ connectionString: t.db.url! });
      await locker.connect();
    });
    after(async () => {
      await locker?.end();
    });

    /** Deletes in an open transaction, fires the request, waits until it blocks on a lock, commits. */
    const whileDeleting = async (deleteSql: string, id: number, send: () => Promise<TestResponse>): Promise<TestResponse> => {
      await locker.query('BEGIN');
      const del = (await locker.query(deleteSql, [id])) as { rowCount: number | null };
      assert.equal(del.rowCount, 1);
      const pending = send();
      let waiting = 0;
      for (let i = 0; waiting === 0 && i < 300; i += 1) {
        await sleep(10);
        const rows = await locker.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`,
        );
        waiting = (rows.rows[0] as { n: number }).n;
      }
      await locker.query('COMMIT');
      assert.ok(waiting > 0, 'the request waited on the uncommitted delete');
      return pending;
    };

    it('POST /zones/ while its organization is being deleted: 400 Invalid pk', async () => {
      const o = await org();
      const r = await whileDeleting('DELETE FROM lims_organization WHERE id = $1', o, () =>
        req('POST', '/zones/', { name: 'Z', zone_type: 'hall', organization_id: o }),
      );
      check(cat, r, 400, { organization_id: invalidPk(o) });
    });

    it('PATCH /zones/{id}/ onto an organization being deleted: 400 Invalid pk', async () => {
      const z = await zone(await org());
      const target = await org();
      const r = await whileDeleting('DELETE FROM lims_organization WHERE id = $1', target, () => req('PATCH', `/zones/${z}/`, { organization_id: target }));
      check(cat, r, 400, { organization_id: invalidPk(target) });
    });

    it('PATCH /zones/{id}/ while the zone itself is being deleted: 404', async () => {
      const z = await zone(await org());
      const r = await whileDeleting('DELETE FROM lims_zone WHERE id = $1', z, () => req('PATCH', `/zones/${z}/`, { name: 'renamed' }));
      check(cat, r, 404, { detail: 'No Zone matches the given query.' });
    });

    it('POST /cameras/ while its zone is being deleted: 400 Invalid pk', async () => {
      const z = await zone(await org());
      const r = await whileDeleting('DELETE FROM lims_zone WHERE id = $1', z, () => req('POST', '/cameras/', { name: 'C', zone_id: z }));
      check(cat, r, 400, { zone_id: invalidPk(z) });
    });

    it('PUT /cameras/{id}/ onto a zone being deleted: 400 Invalid pk', async () => {
      const o = await org();
      const c = await camera(await zone(o));
      const target = await zone(o);
      const r = await whileDeleting('DELETE FROM lims_zone WHERE id = $1', target, () => req('PUT', `/cameras/${c}/`, { zone_id: target }));
      check(cat, r, 400, { zone_id: invalidPk(target) });
    });

    it('PATCH /cameras/{id}/ while the camera itself is being deleted: 404', async () => {
      const c = await camera(await zone(await org()));
      const r = await whileDeleting('DELETE FROM lims_camera WHERE id = $1', c, () => req('PATCH', `/cameras/${c}/`, { name: 'renamed' }));
      check(cat, r, 404, { detail: 'No Camera matches the given query.' });
    });

    it('POST /alerts/ while its zone (and so its camera) is being deleted: 400 on zone_id and camera_id', async () => {
      const z = await zone(await org());
      const c = await camera(z);
      const r = await whileDeleting('DELETE FROM lims_zone WHERE id = $1', z, () => req('POST', '/alerts/', { heading: 'h', zone_id: z, camera_id: c }));
      check(cat, r, 400, { zone_id: invalidPk(z), camera_id: invalidPk(c) });
    });

    it('POST /alerts/ while its camera is being deleted: 400 on camera_id', async () => {
      const z = await zone(await org());
      const c = await camera(z);
      const r = await whileDeleting('DELETE FROM lims_camera WHERE id = $1', c, () => req('POST', '/alerts/', { heading: 'h', zone_id: z, camera_id: c }));
      check(cat, r, 400, { camera_id: invalidPk(c) });
    });
  });

  describe('storms of creates, moves and detections racing deletes', () => {
    const cat = `creates/moves/detections racing deletes (${REAL_POSTGRES ? 'PostgreSQL, truly concurrent' : 'embedded, serialized'})`;
    const ROUNDS = 12;
    const no5xx = (rs: TestResponse[]): void => assert.deepEqual(rs.filter((r) => r.status >= 500).map((r) => r.text), []);

    it('zones created and moved while their organizations are deleted', async () => {
      const home = await org();
      const rs: TestResponse[] = [];
      await Promise.all(
        Array.from({ length: ROUNDS }, async (_, i) => {
          const o = await org();
          const z = await zone(home);
          const [create, move] = await Promise.all([
            req('POST', '/zones/', { name: `S${i}`, zone_type: 'hall', organization_id: o }),
            req('PATCH', `/zones/${z}/`, { organization_id: o }),
            sleep(i % 4).then(() => del(`/organizations/${o}/`)),
          ]);
          const gone = (r: TestResponse): boolean => r.status === 400 && JSON.stringify(r.body) === JSON.stringify({ organization_id: invalidPk(o) });
          // a move that commits first is taken by the organization's cascade: 404 for its own row
          const allowed = [create.status === 201 || gone(create), move.status === 200 || gone(move) || move.status === 404];
          for (const [k, r] of [create, move].entries()) {
            const ok = allowed[k];
            rec.record(cat, r.status, ok);
            rs.push(r);
            assert.ok(ok, `${r.status} ${r.text}`);
          }
        }),
      );
      no5xx(rs);
      assert.equal(await orphans(), 0);
    });

    it('cameras and alerts created while their zones are deleted', async () => {
      const rs: TestResponse[] = [];
      await Promise.all(
        Array.from({ length: ROUNDS }, async (_, i) => {
          const z = await zone(await org());
          const c = await camera(z);
          const [cam, alert] = await Promise.all([
            req('POST', '/cameras/', { name: `S${i}`, zone_id: z }),
            req('POST', '/alerts/', { heading: `h${i}`, zone_id: z, camera_id: c }),
            sleep(i % 4).then(() => del(`/zones/${z}/`)),
          ]);
          for (const r of [cam, alert]) {
            const fields = r.status === 400 ? Object.keys(r.body as object) : [];
            const ok = r.status === 201 || (r.status === 400 && fields.length > 0 && fields.every((f) => f === 'zone_id' || f === 'camera_id'));
            rec.record(cat, r.status, ok);
            rs.push(r);
            assert.ok(ok, `${r.status} ${r.text}`);
          }
        }),
      );
      no5xx(rs);
      assert.equal(await orphans(), 0);
    });

    it('DANGER detections while their zones or cameras are deleted', async () => {
      crowd.setDefault({ count: 12, delayMs: 5 });
      const rs: TestResponse[] = [];
      await Promise.all(
        Array.from({ length: ROUNDS }, async (_, i) => {
          const s = await createSite(t, { capacity: 10 });
          rec.secrets.push(s.key);
          const [r] = await Promise.all([
            detect(t, { key: s.key, zoneId: s.zone.id, file: img }),
            sleep(i % 8).then(() => del(i % 2 ? `/zones/${s.zone.id}/` : `/cameras/${s.camera.id}/`)),
          ]);
          const ok =
            r.status === 200 ||
            (r.status === 404 && (r.body as { error?: string }).error === 'Zone not found') ||
            (r.status === 401 && (r.body as { error?: string }).error === 'Invalid device key');
          rec.record(cat, r.status, ok);
          rs.push(r);
          assert.ok(ok, `${r.status} ${r.text}`);
        }),
      );
      no5xx(rs);
      assert.equal(await orphans(), 0);
    });
  });
});
