import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/test-app';

const DEMO = join(__dirname, '..', '..', 'scripts', 'webhook-demo.js');

/** The README's "receive a signed webhook locally": `npm run webhook:demo` against a running service. */
describe('npm run webhook:demo', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  it('registers a receiver, and the test event, alert.opened and alert.resolved arrive verified by standardwebhooks', async () => {
    const proc = spawn(process.execPath, [DEMO, '--once'], {
      env: { PATH: process.env.PATH ?? '', ECOFLOW_URL: t.baseUrl, RECEIVER_PORT: '0', ECOFLOW_EMAIL: 'demo-admin@example.com', ECOFLOW_PASSWORD: 'a-long-demo-password' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    assert.equal(code, 0, out);
    for (const type of ['webhook.test', 'alert.opened', 'alert.resolved']) {
      assert.match(out, new RegExp(`verified evt_\\d+ ${type.replace('.', '\\.')} `), out);
    }
    assert.doesNotMatch(out, /REJECTED/);
  });
});
