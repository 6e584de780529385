import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Alert } from '../../src/alerts/alert.entity';
import { CarbonLog } from '../../src/carbon/carbon-log.entity';
import { Camera } from '../../src/sites/camera.entity';
import { Zone } from '../../src/sites/zone.entity';
import { CrowdServer, startCrowdServer } from '../doubles/crowd-server';
import { GeminiServer, startGeminiServer } from '../doubles/gemini-server';
import { jpeg, jpegDeclaring, png, pngDeclaring, webp } from '../support/images';
import { addCamera, createSite, detect, Site } from '../support/sensor';
import { startTestApp, TestApp } from '../support/test-app';

const MAX_UPLOAD = 200_000;
// keep the crowd breaker closed: this file provokes detector failures on purpose

describe('POST /sensor/detect/ (device keys required)', () => {
  let t: TestApp;
  let crowd: CrowdServer;
  let gemini: GeminiServer;
  let img: Buffer;
  let site: Site;

  before(async () => {
    [crowd, gemini] = await Promise.all([startCrowdServer(), startGeminiServer()]);
    t = await startTestApp({
      env: {
        CROWD_PREDICT_URL: crowd.predictUrl,
        CROWD_TIMEOUT_MS: '2000', // the hang case waits this long; shorter flakes under load
        CROWD_BREAKER_FAILURES: '1000', // the error table fails on purpose; the breaker must stay closed
        GEMINI_API_KEY: 'test-gemini-key',
        GEMINI_BASE_URL: gemini.url,
        GEMINI_MAX_ATTEMPTS: '1',
        GEMINI_TIMEOUT_MS: '2000',
        SENSOR_THROTTLE_MS: '0',
        MAX_UPLOAD_BYTES: String(MAX_UPLOAD),
      },
    });
    img = await jpeg(64, 48);
    site = await createSite(t, { capacity: 10, zoneName: 'Lobby' });
  });
  after(async () => {
    await t.close();
    await Promise.all([crowd.close(), gemini.close()]);
  });

  /** Runs a request that must be rejected before step 9: no detector call, no alert, no log. */
  async function rejected(run: () => Promise<{ status: number; body: any }>, status: number, error: string): Promise<void> {
    const before = crowd.received.length;
    const r = await run();
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.deepEqual(r.body, { error });
    assert.equal(crowd.received.length, before, 'the detector was not called');
  }

  describe('the error table, in processing order', () => {
    it('1: 401 without or with a wrong device key, before the body is read', async () => {
      await rejected(() => detect(t, { zoneId: site.zone.id, file: img }), 401, 'Missing device key');
      await rejected(() => detect(t, { key: '', zoneId: site.zone.id, file: img }), 401, 'Missing device key');
      await rejected(() => detect(t, { key: `ecd_${'A'.repeat(43)}`, zoneId: site.zone.id, file: img }), 401, 'Invalid device key');
      // even an oversized or malformed body gets the 401 first
      await rejected(() => t.request('POST', '/sensor/detect/', { body: { zone_id: 1 }, headers: { 'x-device-key': 'nope' } }), 401, 'Invalid device key');
    });

    it('the device key is the authentication: a Bearer token is neither needed nor enough', async () => {
      const { token } = await t.admin();
      const r = await t.request('POST', '/sensor/detect/', { raw: new FormData(), token });
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, { error: 'Missing device key' });
    });

    it('2: 413 when Content-Length exceeds MAX_UPLOAD_BYTES + 64 KiB, without reading the body', async () => {
      const body = Buffer.alloc(MAX_UPLOAD + 64 * 1024 + 1, 0x61);
      await rejected(
        () => t.request('POST', '/sensor/detect/', { raw: body, headers: { 'x-device-key': site.key, 'content-type': 'multipart/form-data; boundary=xyz' } }),
        413,
        'File too large',
      );
    });

    it('2: 413 when the file part exceeds MAX_UPLOAD_BYTES while streaming, before field checks', async () => {
      const big = Buffer.concat([img, Buffer.alloc(MAX_UPLOAD + 1 - img.length, 0)]);
      await rejected(() => detect(t, { key: site.key, zoneId: site.zone.id, file: big }), 413, 'File too large');
      await rejected(() => detect(t, { key: site.key, file: big }), 413, 'File too large');
      // exactly at the limit is accepted
      const exact = Buffer.concat([img, Buffer.alloc(MAX_UPLOAD - img.length, 0)]);
      const ok = await detect(t, { key: site.key, zoneId: site.zone.id, file: exact });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
    });

    it("3: 400 when zone_id or file is missing, empty, or the body is not multipart", async () => {
      const msg = "Missing 'zone_id' or 'file'";
      await rejected(() => detect(t, { key: site.key, file: img }), 400, msg);
      await rejected(() => detect(t, { key: site.key, zoneId: '', file: img }), 400, msg);
      await rejected(() => detect(t, { key: site.key, zoneId: site.zone.id }), 400, msg);
      await rejected(() => t.request('POST', '/sensor/detect/', { body: { zone_id: site.zone.id }, headers: { 'x-device-key': site.key } }), 400, msg);
      const malformed = Buffer.from('--xyz\r\nContent-Disposition: form-data; name="zone_id"\r\n\r\n1\r\n--xyz\r\nbroken');
      await rejected(
        () => t.request('POST', '/sensor/detect/', { raw: malformed, headers: { 'x-device-key': site.key, 'content-type': 'multipart/form-data; boundary=xyz' } }),
        400,
        msg,
      );
      // missing fields win over a non-integer or a non-image
      await rejected(() => detect(t, { key: site.key, zoneId: 'abc' }), 400, msg);
    });

    it('4: 400 for a zone_id or camera_id that is not an integer', async () => {
      for (const bad of ['abc', '1.5', '1e3', '0x10', '12a']) {
        await rejected(() => detect(t, { key: site.key, zoneId: bad, file: img }), 400, "'zone_id' must be an integer");
      }
      await rejected(() => detect(t, { key: site.key, zoneId: site.zone.id, cameraId: 'cam', file: img }), 400, "'camera_id' must be an integer");
      // integer syntax is checked before the image type
      await rejected(() => detect(t, { key: site.key, zoneId: 'x', file: Buffer.from('hello') }), 400, "'zone_id' must be an integer");
    });

    it('5: 415 for anything but JPEG, PNG or WebP by magic bytes, whatever the name and declared type', async () => {
      const msg = 'Unsupported image type';
      await rejected(() => detect(t, { key: site.key, zoneId: site.zone.id, file: Buffer.from('not an image at all'), filename: 'photo.jpg', type: 'image/jpeg' }), 415, msg);
      await rejected(() => detect(t, { key: site.key, zoneId: site.zone.id, file: Buffer.alloc(0), filename: 'empty.jpg' }), 415, msg);
      await rejected(() => detect(t, { key: site.key, zoneId: site.zone.id, file: Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'), filename: 'a.png', type: 'image/png' }), 415, msg);
      await rejected(() => detect(t, { key: site.key, zoneId: site.zone.id, file: Buffer.from([0xff, 0xd8, 0xff, 0xe0]), filename: 'cut.jpg' }), 415, msg);
    });

    it('5: accepts PNG and WebP sent as application/octet-stream', async () => {
      crowd.enqueue({ count: 1 }, { count: 1 });
      const p = await detect(t, { key: site.key, zoneId: site.zone.id, file: await png(20, 20), filename: 'x.bin', type: 'application/octet-stream' });
      assert.equal(p.status, 200, JSON.stringify(p.body));
      assert.equal(crowd.received.at(-1)!.mimeType, 'image/png', 'the detected type is forwarded');
      const w = await detect(t, { key: site.key, zoneId: site.zone.id, file: await webp(20, 20), filename: 'y', type: 'application/octet-stream' });
      assert.equal(w.status, 200);
      assert.equal(crowd.received.at(-1)!.mimeType, 'image/webp');
    });

    it('6: 413 for a tiny file declaring 50 000 × 50 000 px, answered fast without decoding', async () => {
      const bomb = pngDeclaring(50000, 50000);
      assert.ok(bomb.length < 100);
      const rssBefore = process.memoryUsage().rss;
      const started = performance.now();
      await rejected(() => detect(t, { key: site.key, zoneId: site.zone.id, file: bomb, filename: 'bomb.png' }), 413, 'Image dimensions too large');
      assert.ok(performance.now() - started < 3000, 'rejected quickly (decoding 2.5 G px would take far longer)');
      assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024, 'no memory spike');
      await rejected(() => detect(t, { key: site.key, zoneId: site.zone.id, file: jpegDeclaring(16385, 10) }), 413, 'Image dimensions too large');
      await rejected(() => detect(t, { key: site.key, zoneId: site.zone.id, file: jpegDeclaring(10000, 5001) }), 413, 'Image dimensions too large');
    });

    it('7: 404 for an unknown zone', async () => {
      await rejected(() => detect(t, { key: site.key, zoneId: 987654321, file: img }), 404, 'Zone not found');
      await rejected(() => detect(t, { key: site.key, zoneId: '99999999999999999999999', file: img }), 404, 'Zone not found');
      await rejected(() => detect(t, { key: site.key, zoneId: '-3', file: img }), 404, 'Zone not found');
    });

    it("8: 403 when camera_id is not the key's camera", async () => {
      const other = await createSite(t);
      await rejected(() => detect(t, { key: site.key, zoneId: site.zone.id, cameraId: other.camera.id, file: img }), 403, 'Device key does not match camera_id');
      await rejected(() => detect(t, { key: site.key, zoneId: site.zone.id, cameraId: 987654321, file: img }), 403, 'Device key does not match camera_id');
    });

    it("8b: 403 when the key's camera belongs to another zone or is inactive", async () => {
      const other = await createSite(t);
      await rejected(() => detect(t, { key: other.key, zoneId: site.zone.id, file: img }), 403, 'Camera does not belong to this zone');
      const inactive = await addCamera(t, site.zone, false);
      await rejected(() => detect(t, { key: inactive.key, zoneId: site.zone.id, file: img }), 403, 'Camera is inactive');
    });

    it('8c: 409 when the zone capacity is 0 (the Django version divided by zero)', async () => {
      const empty = await createSite(t, { capacity: 0 });
      await rejected(() => detect(t, { key: empty.key, zoneId: empty.zone.id, file: img }), 409, 'Zone capacity is not configured');
    });

    it('a rotated key stops working at once', async () => {
      const s = await createSite(t);
      await t.ds.getRepository(Camera).update(s.camera.id, { apiKeyHash: null });
      await rejected(() => detect(t, { key: s.key, zoneId: s.zone.id, file: img }), 401, 'Invalid device key');
    });
  });

  describe('10: crowd API failures', () => {
    const cases: [string, Parameters<CrowdServer['enqueue']>[0], number, string][] = [
      ['non-2xx', { status: 500, body: { error: 'Traceback: secret detector internals' } }, 502, 'Crowd Service failed'],
      ['a 400 from the detector', { status: 400, body: { error: 'No file part' } }, 502, 'Crowd Service failed'],
      ['non-JSON', { garbage: true }, 502, 'Crowd Service returned an invalid response'],
      ['missing sahi_count', { json: { filename: 'x', message: 'ok' } }, 502, 'Crowd Service returned an invalid response'],
      ['negative sahi_count', { count: -1 }, 502, 'Crowd Service returned an invalid response'],
      ['non-numeric sahi_count', { count: 'many' }, 502, 'Crowd Service returned an invalid response'],
      ['timeout', { hang: true }, 504, 'Crowd API timeout. Please try again.'],
      ['connection reset', { reset: true }, 503, 'Cannot connect to Crowd API. Service may be down.'],
    ];
    for (const [name, behaviour, status, error] of cases) {
      it(`${name} → ${status}`, async () => {
        crowd.enqueue(behaviour);
        const before = await t.ds.getRepository(CarbonLog).count();
        const r = await detect(t, { key: site.key, zoneId: site.zone.id, file: img });
        assert.equal(r.status, status, JSON.stringify(r.body));
        assert.deepEqual(r.body, { error });
        assert.doesNotMatch(r.text, /Traceback|secret/);
        assert.equal(await t.ds.getRepository(CarbonLog).count(), before, 'no carbon log');
      });
    }

    it('a digit-string sahi_count with a fraction is truncated', async () => {
      crowd.enqueue({ count: '4.9' });
      const r = await detect(t, { key: site.key, zoneId: site.zone.id, file: img });
      assert.equal(r.status, 200);
      assert.equal(r.body.detected_people, 4);
    });
  });

  describe('11: threshold and response variants', () => {
    it('capacity 10: 8 people are NORMAL with a carbon log, 9 are DANGER', async () => {
      const s = await createSite(t, { capacity: 10, zoneName: 'Atrium' });
      crowd.enqueue({ count: 8 });
      gemini.enqueue({ text: '10' });
      const normal = await detect(t, { key: s.key, zoneId: s.zone.id, file: img, filename: 'capture.jpg' });
      assert.equal(normal.status, 200);
      assert.deepEqual(normal.body, {
        zone: 'Atrium',
        capacity: 10,
        detected_people: 8,
        occupancy_percentage: '80.0%',
        status: 'NORMAL',
        carbon_data: { filename: 'capture.jpg', sahi_count: 8, gemini_count: 10, calculation_result: 0.8, formula: '8 / 10 rounded', message: 'Prediction successful via Gemini API' },
        alert_created: false,
      });
      const logs = await t.ds.getRepository(CarbonLog).find({ where: { zoneId: s.zone.id } });
      assert.equal(logs.length, 1);
      assert.equal(logs[0].savedAmount, 0.8);
      assert.equal(gemini.received.at(-1)!.body.contents[0].parts[0].text, 'Count people. Capacity: 10. Return only the number.');

      crowd.enqueue({ count: 9 });
      const danger = await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
      assert.equal(danger.status, 200);
      const alert = await t.ds.getRepository(Alert).findOneByOrFail({ zoneId: s.zone.id });
      assert.deepEqual(danger.body, {
        zone: 'Atrium',
        capacity: 10,
        detected_people: 9,
        occupancy_percentage: '90.0%',
        status: 'DANGER',
        alert_created: true,
        alert_id: Number(alert.id),
        carbon_message: 'Skipped Gemini calculation due to overcrowding.',
      });
      assert.equal(alert.heading, 'Overcrowding in Atrium');
      assert.equal(alert.subHeading, `Detected 9/10 people. (Cam: ${s.camera.id})`);
      assert.equal(alert.status, 'OPEN');
      assert.equal(alert.cameraId, s.camera.id);
      // the dashboard parses these texts
      assert.equal(/\bin\s+(.+)$/i.exec(alert.heading)![1], 'Atrium');
      assert.deepEqual(/(\d+)\s*\/\s*(\d+)/.exec(alert.subHeading!)!.slice(1), ['9', '10']);

      crowd.enqueue({ count: 12 });
      const again = await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
      assert.deepEqual(again.body, {
        zone: 'Atrium',
        capacity: 10,
        detected_people: 12,
        occupancy_percentage: '120.0%',
        status: 'DANGER',
        alert_created: false,
        alert_id: Number(alert.id),
        alert_message: 'Existing alert still active',
        carbon_message: 'Skipped Gemini calculation due to overcrowding.',
      });
      assert.equal(await t.ds.getRepository(Alert).countBy({ zoneId: s.zone.id }), 1);
      assert.equal(await t.ds.getRepository(CarbonLog).countBy({ zoneId: s.zone.id }), 1, 'DANGER writes no carbon log');

      // a NORMAL result leaves the open alert alone
      crowd.enqueue({ count: 1 });
      await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
      assert.equal((await t.ds.getRepository(Alert).findOneByOrFail({ id: alert.id })).status, 'OPEN');
    });

    it('capacity 3: 3 people are DANGER; a closed alert lets a new one open', async () => {
      const s = await createSite(t, { capacity: 3 });
      crowd.enqueue({ count: 2 }, { count: 3 });
      const two = await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
      assert.equal(two.body.status, 'NORMAL');
      assert.equal(two.body.occupancy_percentage, '66.7%');
      const three = await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
      assert.equal(three.body.status, 'DANGER');
      assert.equal(three.body.alert_created, true);
      await t.ds.getRepository(Alert).update(three.body.alert_id as number, { status: 'CLOSED' });
      crowd.enqueue({ count: 5 });
      const next = await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
      assert.equal(next.body.alert_created, true);
      assert.notEqual(next.body.alert_id, three.body.alert_id);
    });

    it('prints occupancy with Python rounding', async () => {
      const s16 = await createSite(t, { capacity: 16 });
      const s80 = await createSite(t, { capacity: 80 });
      const expectations: [Site, number, string][] = [
        [s16, 1, '6.2%'],
        [s16, 3, '18.8%'],
        [s80, 23, '28.7%'],
        [s80, 49, '61.3%'],
      ];
      for (const [s, count, want] of expectations) {
        crowd.enqueue({ count });
        const r = await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
        assert.equal(r.body.occupancy_percentage, want, `${count}/${s.zone.capacity}`);
      }
    });

    it('ratio rounding at 4 decimals and 0.0 when Gemini sees nobody', async () => {
      const s = await createSite(t, { capacity: 100 });
      const cases: [number, string, number][] = [
        [1, '32', 0.0312],
        [3, '57', 0.0526],
        [2, 'approx 3 to 4', 0.6667],
        [4, '0', 0],
      ];
      for (const [count, text, ratio] of cases) {
        crowd.enqueue({ count });
        gemini.enqueue({ text });
        const r = await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
        assert.equal(r.body.carbon_data.calculation_result, ratio, `${count} / ${text}`);
      }
      const saved = (await t.ds.getRepository(CarbonLog).find({ where: { zoneId: s.zone.id }, order: { id: 'ASC' } })).map((l) => l.savedAmount);
      assert.deepEqual(saved, [0.0312, 0.0526, 0.6667, 0]);
    });

    it('a Gemini failure gives the generic carbon_error, no log and no alert_created key', async () => {
      const s = await createSite(t, { capacity: 10, zoneName: 'Hall' });
      for (const behaviour of [{ status: 400, message: 'API key not valid: secret' }, { text: 'no people' }, { blocked: true as const }]) {
        crowd.enqueue({ count: 3 });
        gemini.enqueue(behaviour);
        const r = await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
        assert.equal(r.status, 200);
        assert.deepEqual(r.body, { zone: 'Hall', capacity: 10, detected_people: 3, occupancy_percentage: '30.0%', status: 'NORMAL', carbon_error: 'Error calling Gemini API' });
      }
      assert.equal(await t.ds.getRepository(CarbonLog).countBy({ zoneId: s.zone.id }), 0);
      assert.ok(t.logs.some((l) => l.message === 'carbon calculation failed'), 'the cause is logged');
    });

    it('never forwards a client path: ../../etc/passwd arrives as "passwd"', async () => {
      const before = crowd.received.length;
      crowd.enqueue({ count: 1 });
      gemini.enqueue({ text: '2' });
      const r = await detect(t, { key: site.key, zoneId: site.zone.id, file: img, filename: '../../etc/passwd' });
      assert.equal(r.status, 200);
      assert.equal(crowd.received.length, before + 1);
      assert.equal(crowd.received.at(-1)!.filename, 'passwd');
      assert.equal(crowd.received.at(-1)!.mimeType, 'image/jpeg');
      assert.equal(r.body.carbon_data.filename, 'passwd');
      crowd.enqueue({ count: 1 });
      await detect(t, { key: site.key, zoneId: site.zone.id, file: img, filename: '..' });
      assert.equal(crowd.received.at(-1)!.filename, 'upload.jpg');
    });

    it('the first of duplicate fields wins', async () => {
      const s = await createSite(t, { capacity: 10, zoneName: 'First' });
      const form = new FormData();
      form.append('zone_id', String(s.zone.id));
      form.append('zone_id', 'garbage');
      form.append('file', new Blob([new Uint8Array(img)], { type: 'image/jpeg' }), 'one.jpg');
      form.append('file', new Blob([Buffer.from('not an image')], { type: 'image/jpeg' }), 'two.jpg');
      crowd.enqueue({ count: 1 });
      const r = await t.request('POST', '/sensor/detect/', { raw: form, headers: { 'x-device-key': s.key } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.zone, 'First');
      assert.equal(crowd.received.at(-1)!.filename, 'one.jpg');
    });

    it('answers /sensor/detect without the trailing slash too, and 405 for GET', async () => {
      crowd.enqueue({ count: 1 });
      const r = await t.request('POST', '/sensor/detect', { raw: (await import('../support/images')).detectForm({ zoneId: site.zone.id, file: img }), headers: { 'x-device-key': site.key } });
      assert.equal(r.status, 200);
      const g = await t.request('GET', '/sensor/detect/');
      assert.equal(g.status, 405);
      assert.deepEqual(g.body, { detail: 'Method "GET" not allowed.' });
    });
  });

  describe('race-free alerts', () => {
    it('20 concurrent DANGER uploads for one zone and camera open exactly one alert, named by every response', async () => {
      const s = await createSite(t, { capacity: 10 });
      crowd.enqueue(...Array.from({ length: 20 }, () => ({ count: 15 })));
      const responses = await Promise.all(Array.from({ length: 20 }, () => detect(t, { key: s.key, zoneId: s.zone.id, file: img })));
      assert.ok(responses.every((r) => r.status === 200), JSON.stringify(responses.map((r) => r.status)));
      const open = await t.ds.getRepository(Alert).find({ where: { zoneId: s.zone.id, status: 'OPEN' } });
      assert.equal(open.length, 1);
      assert.ok(responses.every((r) => r.body.alert_id === Number(open[0].id)));
      assert.equal(responses.filter((r) => r.body.alert_created === true).length, 1);
      assert.equal(responses.filter((r) => r.body.alert_message === 'Existing alert still active').length, 19);
    });

    it('two cameras of one zone each get their own alert', async () => {
      const s = await createSite(t, { capacity: 10 });
      const second = await addCamera(t, s.zone);
      crowd.enqueue({ count: 10 }, { count: 10 });
      const a = await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
      const b = await detect(t, { key: second.key, zoneId: s.zone.id, file: img });
      assert.equal(a.body.alert_created, true);
      assert.equal(b.body.alert_created, true);
      assert.notEqual(a.body.alert_id, b.body.alert_id);
    });
  });

  it('zone capacity and name are read at request time', async () => {
    const s = await createSite(t, { capacity: 10 });
    await t.ds.getRepository(Zone).update(s.zone.id, { capacity: 100, name: 'Renamed' });
    crowd.enqueue({ count: 50 });
    gemini.enqueue({ text: '50' });
    const r = await detect(t, { key: s.key, zoneId: s.zone.id, file: img });
    assert.equal(r.body.zone, 'Renamed');
    assert.equal(r.body.status, 'NORMAL');
    assert.equal(r.body.occupancy_percentage, '50.0%');
  });
});

describe('POST /sensor/detect/ with SENSOR_AUTH=off and no Gemini key', () => {
  let t: TestApp;
  let crowd: CrowdServer;
  let img: Buffer;

  before(async () => {
    crowd = await startCrowdServer();
    t = await startTestApp({ env: { CROWD_PREDICT_URL: crowd.predictUrl, SENSOR_AUTH: 'off', SENSOR_THROTTLE_MS: '0' } });
    img = await jpeg(32, 32);
  });
  after(async () => {
    await t.close();
    await crowd.close();
  });

  it('accepts uploads without a key; NORMAL says Gemini is not configured and writes no log', async () => {
    const s = await createSite(t, { capacity: 10, zoneName: 'Open' });
    crowd.enqueue({ count: 3 });
    const r = await detect(t, { zoneId: s.zone.id, file: img });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { zone: 'Open', capacity: 10, detected_people: 3, occupancy_percentage: '30.0%', status: 'NORMAL', carbon_error: 'Gemini is not configured' });
    assert.equal(await t.ds.getRepository(CarbonLog).count(), 0);
  });

  it('8: an unknown camera_id is 400, a camera of another zone 403, an inactive one 403', async () => {
    const s = await createSite(t);
    const other = await createSite(t);
    const inactive = await addCamera(t, s.zone, false);
    const cases: [number | string, number, string][] = [
      [987654321, 400, 'Camera not found'],
      ['99999999999999999999', 400, 'Camera not found'],
      [other.camera.id, 403, 'Camera does not belong to this zone'],
      [inactive.camera.id, 403, 'Camera is inactive'],
    ];
    const before = crowd.received.length;
    for (const [cameraId, status, error] of cases) {
      const r = await detect(t, { zoneId: s.zone.id, cameraId, file: img });
      assert.equal(r.status, status);
      assert.deepEqual(r.body, { error });
    }
    assert.equal(crowd.received.length, before, 'the detector was not called');
  });

  it('camera-less alerts of two zones do not suppress each other', async () => {
    const a = await createSite(t, { capacity: 10, zoneName: 'A' });
    const b = await createSite(t, { capacity: 10, zoneName: 'B' });
    crowd.enqueue({ count: 10 }, { count: 10 }, { count: 10 });
    const ra = await detect(t, { zoneId: a.zone.id, file: img });
    const rb = await detect(t, { zoneId: b.zone.id, file: img, cameraId: '' });
    assert.equal(ra.body.alert_created, true);
    assert.equal(rb.body.alert_created, true);
    assert.notEqual(ra.body.alert_id, rb.body.alert_id);
    const alert = await t.ds.getRepository(Alert).findOneByOrFail({ id: rb.body.alert_id as number });
    assert.equal(alert.subHeading, 'Detected 10/10 people. (Cam: None)');
    assert.equal(alert.cameraId, null);
    assert.equal(alert.zoneId, b.zone.id);
    // a camera alert in zone A is separate from A's camera-less one
    const withCam = await detect(t, { zoneId: a.zone.id, cameraId: a.camera.id, file: img });
    assert.equal(withCam.body.alert_created, true);
  });
});
