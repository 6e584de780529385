import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, TestApp } from '../support/test-app';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('notifications', () => {
  let t: TestApp;
  let admin: string;
  let user: string;

  before(async () => {
    t = await startTestApp();
    admin = (await t.admin()).token;
    user = (await t.operator()).token;
  });
  after(async () => t.close());

  it('creates a notification with the spec shape', async () => {
    const r = await t.request('POST', '/notifications/', { token: admin, body: { title: 'Maintenance', message: 'Cameras restart at 22:00.', created_at: '1999-01-01', id: 77 } });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body, { id: r.body.id, title: 'Maintenance', message: 'Cameras restart at 22:00.', created_at: r.body.created_at });
    assert.deepEqual(Object.keys(r.body), ['id', 'title', 'message', 'created_at']);
    assert.match(r.body.created_at, ISO_MS);
    assert.ok(Math.abs(Date.parse(r.body.created_at) - Date.now()) < 60_000);
    const got = await t.request('GET', `/notifications/${r.body.id}/`, { token: user });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, r.body);
  });

  it('validates title and message together', async () => {
    const missing = await t.request('POST', '/notifications/', { token: admin, body: {} });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body, { title: ['This field is required.'], message: ['This field is required.'] });
    const bad = await t.request('POST', '/notifications/', { token: admin, body: { title: 'x'.repeat(256), message: '   ' } });
    assert.deepEqual(bad.body, { title: ['Ensure this field has no more than 255 characters.'], message: ['This field may not be blank.'] });
    const nul = await t.request('POST', '/notifications/', { token: admin, body: { title: 'ok', message: null } });
    assert.deepEqual(nul.body, { message: ['This field may not be null.'] });
    const arr = await t.request('POST', '/notifications/', { token: admin, body: [{ title: 'x' }] });
    assert.equal(arr.status, 400);
    assert.deepEqual(arr.body, { non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] });
  });

  it('keeps long and script-looking messages verbatim', async () => {
    const message = `<script>fetch('/steal?c='+document.cookie)</script>\n'); DROP TABLE lims_notification; --\n${'long '.repeat(2000)}end`;
    const r = await t.request('POST', '/notifications/', { token: admin, body: { title: '"quoted" & <b>bold</b>', message } });
    assert.equal(r.status, 201);
    const got = await t.request('GET', `/notifications/${r.body.id}`, { token: user });
    assert.equal(got.body.message, message);
    assert.equal(got.body.title, '"quoted" & <b>bold</b>');
  });

  it('answers PUT and PATCH with 405 and Allow, after nothing else', async () => {
    const n = (await t.request('POST', '/notifications/', { token: admin, body: { title: 't', message: 'm' } })).body;
    for (const method of ['PUT', 'PATCH']) {
      for (const token of [admin, undefined]) {
        const r = await t.request(method, `/notifications/${n.id}/`, { token, body: { title: 'changed' } });
        assert.equal(r.status, 405, `${method} ${token ? 'admin' : 'anonymous'}`);
        assert.deepEqual(r.body, { detail: `Method "${method}" not allowed.` });
        assert.equal(r.headers.get('allow'), 'DELETE, GET, HEAD, OPTIONS');
      }
    }
    const [row] = await t.ds.query('SELECT title FROM lims_notification WHERE id = $1', [n.id]);
    assert.equal(row.title, 't');
  });

  it('deletes with 204 and answers 404 and bad ids in the spec bodies', async () => {
    const n = (await t.request('POST', '/notifications/', { token: admin, body: { title: 't', message: 'm' } })).body;
    const del = await t.request('DELETE', `/notifications/${n.id}/`, { token: admin });
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
    const gone = await t.request('GET', `/notifications/${n.id}/`, { token: user });
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body, { detail: 'No Notification matches the given query.' });
    const again = await t.request('DELETE', `/notifications/${n.id}`, { token: admin });
    assert.deepEqual(again.body, { detail: 'No Notification matches the given query.' });
    const bad = await t.request('GET', '/notifications/one/', { token: user });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { id: ['A valid integer is required.'] });
  });
});

describe('notification lists', () => {
  let t: TestApp;
  let user: string;

  before(async () => {
    t = await startTestApp();
    user = (await t.operator()).token;
    const times = ['2026-02-01T00:00:00Z', '2026-02-03T00:00:00Z', '2026-02-02T00:00:00Z', '2026-02-03T00:00:00Z'];
    for (const [i, ts] of times.entries()) {
      await t.ds.query(`INSERT INTO lims_notification (title, message, created_at) VALUES ($1, 'm', $2)`, [`n${i}`, ts]);
    }
  });
  after(async () => t.close());

  it('lists newest first (created_at DESC, id DESC), paged, with X-Total-Count', async () => {
    const r = await t.request('GET', '/notifications', { token: user });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-total-count'), '4');
    assert.deepEqual(
      r.body.map((n: { title: string }) => n.title),
      ['n3', 'n1', 'n2', 'n0'],
    );
    assert.equal(r.body[0].created_at, '2026-02-03T00:00:00.000Z');
    const page = await t.request('GET', '/notifications/?limit=2&offset=2', { token: user });
    assert.deepEqual(
      page.body.map((n: { title: string }) => n.title),
      ['n2', 'n0'],
    );
    assert.equal(page.headers.get('x-total-count'), '4');
    const bad = await t.request('GET', '/notifications/?offset=x', { token: user });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { offset: ['A valid integer is required.'] });
  });
});
