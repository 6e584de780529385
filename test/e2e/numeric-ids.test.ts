import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Alert } from '../../src/alerts/alert.entity';
import { RefreshToken } from '../../src/auth/refresh-token.entity';
import { CarbonLogService } from '../../src/carbon/carbon-log.service';
import { bigintId } from '../../src/database/id.transformer';
import { Notification } from '../../src/notifications/notification.entity';
import { Camera } from '../../src/sites/camera.entity';
import { Organization } from '../../src/sites/organization.entity';
import { Zone } from '../../src/sites/zone.entity';
import { User } from '../../src/users/user.entity';
import { REAL_POSTGRES } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';

// Ids are numbers on every entity, after save() and insert() as after a read, and on the wire
// (docs/decisions/0007-numeric-ids.md). Runs on PGlite and, with TEST_DATABASE_URL, on PostgreSQL.
describe(`numeric ids (${REAL_POSTGRES ? 'PostgreSQL' : 'embedded PGlite'})`, () => {
  let t: TestApp;
  let admin: string;

  before(async () => {
    t = await startTestApp();
    admin = (await t.admin()).token;
  });
  after(async () => t.close());

  const newOrg = (): Organization =>
    t.ds.getRepository(Organization).create({ name: 'Org', orgType: 'LIBRARY', totalCapacity: 0, latitude: null, longitude: null, createdAt: new Date(), updatedAt: new Date() });

  it('the transformer keeps numbers, parses decimal strings and refuses ids beyond 2^53', () => {
    assert.equal(bigintId.from(5), 5);
    assert.equal(bigintId.from('5'), 5);
    assert.equal(bigintId.from(null), null);
    assert.equal(bigintId.to(5), 5);
    assert.throws(() => bigintId.from('9007199254740993'), RangeError);
  });

  it('what TypeORM does by itself: save() applies the transformer to the generated id, insert() does not', async () => {
    // save() without subscribers: the transformer alone gives a number
    const repo = t.ds.getRepository(Organization);
    const saved = await repo.save(newOrg(), { listeners: false });
    assert.equal(typeof saved.id, 'number');
    // insert() without subscribers: TypeORM's createValueMap turns the RETURNING value into a string
    const inserted = newOrg();
    const result = await t.ds.createQueryBuilder().insert().into(Organization).values(inserted).callListeners(false).execute();
    assert.equal(typeof inserted.id, 'string');
    assert.equal(typeof (result.identifiers[0] as { id: unknown }).id, 'string');
    assert.equal(typeof t.ds.getMetadata(Organization).primaryColumns[0].createValueMap(5).id, 'string');
    // with subscribers (the default), NumericIdSubscriber makes it a number
    const coerced = newOrg();
    await t.ds.createQueryBuilder().insert().into(Organization).values(coerced).execute();
    assert.equal(typeof coerced.id, 'number');
    assert.equal(coerced.id, Number(inserted.id) + 1);
  });

  it('save() returns numeric ids and foreign keys for every entity', async () => {
    const orgs = t.ds.getRepository(Organization);
    const org = await orgs.save(newOrg());
    assert.equal(typeof org.id, 'number');

    const zones = t.ds.getRepository(Zone);
    const zone = await zones.save(zones.create({ organizationId: org.id, name: 'Z', zoneType: 'HALL', capacity: 3, latitude: null, longitude: null }));
    assert.equal(typeof zone.id, 'number');
    assert.equal(zone.organizationId, org.id);

    const cameras = t.ds.getRepository(Camera);
    const camera = await cameras.save(cameras.create({ zoneId: zone.id, name: 'C', isActive: true, createdAt: new Date(), apiKeyHash: null, apiKeyCreatedAt: null }));
    assert.equal(typeof camera.id, 'number');

    const alerts = t.ds.getRepository(Alert);
    const now = new Date();
    const alert = await alerts.save(alerts.create({ zoneId: zone.id, cameraId: camera.id, heading: 'h', subHeading: null, status: 'OPEN', createdAt: now, updatedAt: now }));
    assert.equal(typeof alert.id, 'number');

    const notifications = t.ds.getRepository(Notification);
    const notification = await notifications.save(notifications.create({ title: 't', message: 'm', createdAt: new Date() }));
    assert.equal(typeof notification.id, 'number');

    const user = await t.createUser();
    assert.equal(typeof user.id, 'number');

    // insert() (one INSERT … RETURNING) merges the generated id into the entity, as a number too
    const log = await t.app.get(CarbonLogService).record(zone.id, 1.5);
    assert.equal(typeof log.id, 'number');
    assert.equal(log.zoneId, zone.id);

    // and so does the entity manager's insert() of a plain object
    const plain = { name: 'Plain', orgType: 'LIBRARY', totalCapacity: 0, createdAt: new Date(), updatedAt: new Date() };
    await t.ds.manager.insert(Organization, plain);
    assert.equal(typeof (plain as Partial<Organization>).id, 'number');

    // reads: primary and foreign keys are numbers, through the transformer and without it (raw SQL)
    const readZone = await zones.findOneByOrFail({ id: zone.id });
    assert.deepEqual([typeof readZone.id, typeof readZone.organizationId], ['number', 'number']);
    const readAlert = await alerts.findOneByOrFail({ id: alert.id });
    assert.deepEqual([readAlert.id, readAlert.zoneId, readAlert.cameraId], [alert.id, zone.id, camera.id]);
    const [row] = (await t.ds.query('SELECT id, organization_id, count(*) OVER () AS n FROM lims_zone WHERE id = $1', [zone.id])) as Record<string, unknown>[];
    assert.deepEqual(row, { id: zone.id, organization_id: org.id, n: 1 });
    await t.ds.getRepository(RefreshToken).save({
      jti: 'j'.repeat(64),
      userId: user.id,
      familyId: '00000000-0000-4000-8000-000000000000',
      issuedAt: now,
      expiresAt: now,
      revokedAt: null,
      replacedBy: null,
    });
    const token = await t.ds.getRepository(RefreshToken).findOneByOrFail({ jti: 'j'.repeat(64) });
    assert.equal(token.userId, user.id);
    assert.equal(typeof (await t.ds.getRepository(User).findOneByOrFail({ id: user.id })).id, 'number');
  });

  it('puts ids on the wire as JSON numbers, on create and on read', async () => {
    const expectNumericIds = (text: string, where: string): void => {
      assert.match(text, /"id":\d+/, where);
      assert.doesNotMatch(text, /"(id|zone_id|camera_id|organization_id|user_id)":"/, where);
    };
    const created: [string, string][] = [];
    const post = async (path: string, body: unknown): Promise<any> => {
      const r = await t.request('POST', path, { token: admin, body });
      assert.equal(r.status, 201, `${path}: ${r.text}`);
      expectNumericIds(r.text, `POST ${path}`);
      assert.equal(typeof r.body.id, 'number');
      created.push([path, `${path}${r.body.id}/`]);
      return r.body;
    };
    const org = await post('/organizations/', { name: 'Wire', org_type: 'LIBRARY' });
    const zone = await post('/zones/', { name: 'Lobby', zone_type: 'HALL', organization_id: org.id, capacity: 10 });
    const camera = await post('/cameras/', { name: 'L', zone_id: zone.id });
    const alert = await post('/alerts/', { heading: 'h', zone_id: zone.id, camera_id: camera.id });
    assert.deepEqual([alert.zone_id, alert.camera_id], [zone.id, camera.id]);
    await post('/notifications/', { title: 't', message: 'm' });
    for (const [list, one] of created) {
      for (const path of [list, one]) {
        const r = await t.request('GET', path, { token: admin });
        assert.equal(r.status, 200, `${path}: ${r.text}`);
        expectNumericIds(r.text, `GET ${path}`);
      }
    }
  });
});
