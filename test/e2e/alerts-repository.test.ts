import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlertsRepository } from '../../src/alerts/alerts.repository';
import { OpenAlertExistsError } from '../../src/alerts/alerts.errors';
import { NotFoundError } from '../../src/common/errors';
import { UnitOfWork } from '../../src/database/unit-of-work';
import { createSite } from '../support/sensor';
import { startTestApp, TestApp } from '../support/test-app';

// AlertsRepository on the real database: the open-alert claim, the 409 of the partial unique
// index and the caller-chosen answer for a vanished zone, none of which HTTP reaches directly.
describe('alerts repository', () => {
  let t: TestApp;
  let alerts: AlertsRepository;

  before(async () => {
    t = await startTestApp();
    alerts = t.app.get(AlertsRepository);
  });
  after(async () => t.close());

  it('claims one open alert per (zone, camera), and a new one once it is closed', async () => {
    const { zone, camera } = await createSite(t);
    const values = { zoneId: zone.id, cameraId: camera.id, heading: 'Overcrowding', subHeading: 'Detected 9/10 people.', people: 9 };
    const first = await alerts.claimOpen(values);
    assert.equal(first.created, true);
    assert.equal(typeof first.alert.id, 'number');
    assert.equal(first.alert.status, 'OPEN');
    const again = await alerts.claimOpen(values);
    assert.deepEqual([again.created, again.alert.id], [false, first.alert.id]);
    // no camera is its own slot
    assert.equal((await alerts.claimOpen({ ...values, cameraId: null })).created, true);
    await alerts.update(first.alert.id, { status: 'CLOSED' });
    const next = await alerts.claimOpen(values);
    assert.equal(next.created, true);
    assert.notEqual(next.alert.id, first.alert.id);
  });

  it('answers a second open alert with OpenAlertExistsError, on insert and on reopening', async () => {
    const { zone } = await createSite(t);
    const values = { heading: 'h', subHeading: null, status: 'OPEN' as const, zoneId: zone.id, cameraId: null };
    const open = await alerts.insert(values, {});
    await assert.rejects(alerts.insert(values, {}), OpenAlertExistsError);
    const closed = await alerts.insert({ ...values, status: 'CLOSED' }, {});
    await assert.rejects(alerts.update(closed.id, { status: 'OPEN' }), OpenAlertExistsError);
    assert.equal((await alerts.findById(open.id))?.status, 'OPEN');
  });

  it('answers a vanished zone with the caller-chosen error, inside and outside a transaction', async () => {
    const { zone } = await createSite(t);
    await t.ds.query('DELETE FROM lims_zone WHERE id = $1', [zone.id]);
    const gone = { zone_id: () => new NotFoundError('Alert') };
    const values = { zoneId: zone.id, cameraId: null, heading: 'h', subHeading: 's', people: 9 };
    await assert.rejects(alerts.claimOpen(values, gone), NotFoundError);
    await assert.rejects(
      t.app.get(UnitOfWork).run((tx) => alerts.insert({ ...values, status: 'OPEN' }, gone, tx)),
      NotFoundError,
    );
  });

  it("reads a legacy row (zone_id NULL) with its camera's zone", async () => {
    const { zone, camera } = await createSite(t);
    const [{ id }] = (await t.ds.query(
      `INSERT INTO lims_alert (heading, sub_heading, status, created_at, updated_at, zone_id, camera_id) VALUES ('legacy', NULL, 'CLOSED', now(), now(), NULL, $1) RETURNING id`,
      [camera.id],
    )) as { id: number }[];
    const alert = await alerts.findById(id);
    assert.equal(alert?.zoneId, zone.id);
    assert.ok(alert?.createdAt instanceof Date);
    const page = await alerts.findPage({ limit: 10, offset: 0 }, { zoneId: zone.id });
    assert.ok(page.items.some((a) => a.id === id));
    assert.equal(await alerts.delete(id), true);
    assert.equal(await alerts.delete(id), false);
  });
});
