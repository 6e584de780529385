import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CrowdPredictionClient } from '../../src/integrations/crowd-prediction/crowd-prediction.client';
import { CrowdPredictionError } from '../../src/integrations/crowd-prediction/crowd-prediction.errors';
import { startTestApp, TestApp } from '../support/test-app';
import { unusedPortUrl } from '../doubles/crowd-server';

// breaker settings come from the environment (this file runs in its own process)

describe('/api/health/ reports the breakers', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ env: { CROWD_PREDICT_URL: await unusedPortUrl(), GEMINI_API_KEY: 'k', CROWD_BREAKER_FAILURES: '2', CROWD_BREAKER_HALF_OPEN_MS: '60000' } });
  });
  after(async () => t.close());

  it('shows circuit "open" for the crowd API after repeated refusals and "closed" for Gemini', async () => {
    const crowd = t.app.get(CrowdPredictionClient);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(crowd.count({ buffer: Buffer.from([0xff, 0xd8, 0xff]), filename: 'a.jpg', mimeType: 'image/jpeg' }), CrowdPredictionError);
    }
    const r = await t.request('GET', '/api/health/');
    assert.equal(r.status, 503);
    assert.equal(r.body.checks.crowd_api.status, 'DOWN');
    assert.equal(r.body.checks.crowd_api.circuit, 'open');
    assert.deepEqual(r.body.checks.gemini, { status: 'CONFIGURED', circuit: 'closed' });
    assert.ok(t.logs.some((l) => l.upstream === 'crowd_api' && l.circuit === 'open' && l.severity === 'WARNING'), 'the state change is logged');
  });
});
