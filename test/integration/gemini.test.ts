import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { GeminiClient, parseCount } from '../../src/integrations/gemini/gemini.client';
import { GeminiError, GeminiFailureKind } from '../../src/integrations/gemini/gemini.errors';
import { buildGeminiClient, counterValue, type Built } from '../doubles/clients';
import { GeminiServer, startGeminiServer } from '../doubles/gemini-server';
import { unusedPortUrl } from '../doubles/crowd-server';

const KEY = 'test-gemini-key';
const MODEL = 'gemini-test-model';
const PROMPT = 'Count people. Capacity: 10. Return only the number.';
const zero = (): number => 0;

async function failure(p: Promise<unknown>, kind: GeminiFailureKind): Promise<GeminiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof GeminiError, `expected GeminiError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    return e;
  }
  assert.fail('expected the call to fail');
}

const jpeg = (width: number, height: number): Promise<Buffer> => sharp({ create: { width, height, channels: 3, background: '#808080' } }).jpeg().toBuffer();

/** A PNG whose header claims 50 000 × 50 000 px, with no real pixel data behind it. */
function pngBomb(): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(50000, 0);
  ihdr.writeUInt32BE(50000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.alloc(16)), chunk('IEND', Buffer.alloc(0))]);
}

describe('GeminiClient against the Gemini double', () => {
  let server: GeminiServer;
  let built: Built<GeminiClient>;
  let client: GeminiClient;
  let small: Buffer;

  before(async () => {
    server = await startGeminiServer();
    built = buildGeminiClient(
      { GEMINI_API_KEY: KEY, GEMINI_BASE_URL: server.url, GEMINI_MODEL: `models/${MODEL}`, GEMINI_TIMEOUT_MS: '1500', GEMINI_MAX_ATTEMPTS: '2' },
      { random: zero },
    );
    client = built.client;
    small = await jpeg(600, 400);
  });
  after(async () => server.close());
  beforeEach(() => {
    server.setDefault({ text: '5' });
    server.received.length = 0;
  });

  it('sends the exact prompt, image, generation config, model and key', async () => {
    server.enqueue({ text: '7' });
    assert.equal(await client.countPeople(small, 10), 7);
    assert.equal(server.received.length, 1);
    const r = server.received[0];
    assert.equal(r.model, MODEL);
    assert.equal(r.apiKey, KEY);
    assert.equal(r.body.contents.length, 1);
    assert.equal(r.body.contents[0].role, 'user');
    const parts = r.body.contents[0].parts;
    assert.equal(parts.length, 2);
    assert.deepEqual(parts[0], { text: PROMPT });
    assert.equal(parts[1].inlineData.mimeType, 'image/jpeg');
    assert.deepEqual(r.body.generationConfig, { temperature: 0, maxOutputTokens: 32 });
    assert.equal(await counterValue(built.metrics, 'upstream_requests_total', { service: 'gemini', outcome: 'ok' }), 1);
  });

  it('reads the first digit run of the answer', async () => {
    server.enqueue({ text: 'approx 5 to 7' }, { text: '3.5' }, { text: '0' }, { text: 'There are 12 people.' });
    assert.equal(await client.countPeople(small, 10), 5);
    assert.equal(await client.countPeople(small, 10), 3);
    assert.equal(await client.countPeople(small, 10), 0);
    assert.equal(await client.countPeople(small, 10), 12);
  });

  it('rejects answers without digits or beyond 2^53-1, without retrying', async () => {
    server.enqueue({ text: 'no people' }, { text: '9007199254740993' });
    await failure(client.countPeople(small, 10), 'unparsable');
    await failure(client.countPeople(small, 10), 'unparsable');
    assert.equal(server.received.length, 2);
  });

  it('treats a blocked prompt as an error and does not retry it', async () => {
    server.enqueue({ blocked: true });
    await failure(client.countPeople(small, 10), 'blocked');
    assert.equal(server.received.length, 1);
  });

  it('does not retry 400, 403 or 404', async () => {
    for (const status of [400, 403, 404]) {
      server.received.length = 0;
      server.enqueue({ status });
      await failure(client.countPeople(small, 10), 'http_error');
      assert.equal(server.received.length, 1, `status ${status}`);
    }
  });

  it('does not retry a non-JSON 200', async () => {
    server.enqueue({ garbage: true });
    await failure(client.countPeople(small, 10), 'unparsable');
    assert.equal(server.received.length, 1);
  });

  it('retries a 503 and returns the second answer', async () => {
    server.enqueue({ status: 503 }, { text: '4' });
    assert.equal(await client.countPeople(small, 10), 4);
    assert.equal(server.received.length, 2);
    assert.equal(await counterValue(built.metrics, 'gemini_retries_total', { reason: '5xx' }), 1);
  });

  it('stops after GEMINI_MAX_ATTEMPTS', async () => {
    server.setDefault({ status: 500 });
    await failure(client.countPeople(small, 10), 'http_error');
    assert.equal(server.received.length, 2);
  });

  it('waits exactly a RetryInfo hint that fits the budget', async () => {
    server.enqueue({ status: 429, retryDelay: '0.2s' }, { text: '6' });
    assert.equal(await client.countPeople(small, 10), 6);
    assert.equal(server.received.length, 2);
    const gap = server.received[1].at - server.received[0].at;
    assert.ok(gap >= 190 && gap < 1000, `gap ${gap} ms`);
    assert.equal(await counterValue(built.metrics, 'gemini_retries_total', { reason: '429' }), 1);
  });

  it('honours Retry-After when there is no RetryInfo', async () => {
    server.enqueue({ status: 429, retryAfter: '1' }, { text: '2' });
    assert.equal(await client.countPeople(small, 10), 2);
    const gap = server.received[1].at - server.received[0].at;
    assert.ok(gap >= 990 && gap < 1800, `gap ${gap} ms`);
  });

  it('does not retry when the hint plus 1 s exceeds the remaining budget', async () => {
    // budget 2 × 1500 ms; a 2.5 s hint + 1 s margin does not fit
    server.setDefault({ status: 429, retryDelay: '2.5s' });
    const start = Date.now();
    await failure(client.countPeople(small, 10), 'http_error');
    assert.ok(Date.now() - start < 500);
    assert.equal(server.received.length, 1);
  });

  it('shrinks a 3000 × 2000 image to a longest side in [512, 1024]', async () => {
    await client.countPeople(await jpeg(3000, 2000), 10);
    const r = server.received[0];
    assert.equal(r.imageFormat, 'jpeg');
    assert.ok(r.imageWidth! <= 1024 && r.imageWidth! >= 512, `width ${r.imageWidth}`);
    assert.ok(Math.abs(r.imageWidth! / r.imageHeight! - 1.5) < 0.01, `${r.imageWidth}×${r.imageHeight}`);
  });

  it('keeps a 600 × 400 image at its size', async () => {
    await client.countPeople(small, 10);
    assert.equal(server.received[0].imageWidth, 600);
    assert.equal(server.received[0].imageHeight, 400);
  });

  it('applies EXIF orientation', async () => {
    const rotated = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#808080' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    await client.countPeople(rotated, 10);
    assert.equal(server.received[0].imageWidth, 400);
    assert.equal(server.received[0].imageHeight, 600);
  });

  it('sends a transparent PNG as a JPEG flattened onto white', async () => {
    const png = await sharp({ create: { width: 300, height: 200, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png()
      .toBuffer();
    await client.countPeople(png, 10);
    const r = server.received[0];
    assert.equal(r.imageFormat, 'jpeg');
    const sent = Buffer.from(r.body.contents[0].parts[1].inlineData.data, 'base64');
    const { data, info } = await sharp(sent).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, 3);
    assert.ok(data[0] > 245 && data[1] > 245 && data[2] > 245, `pixel ${data[0]},${data[1]},${data[2]}`);
  });

  it('refuses a decompression bomb fast, without calling Gemini', async () => {
    const start = Date.now();
    await failure(client.countPeople(pngBomb(), 10), 'image_error');
    assert.ok(Date.now() - start < 1000);
    assert.equal(server.received.length, 0);
  });

  it('fails with not_configured and no request when GEMINI_API_KEY is unset', async () => {
    const unconfigured = buildGeminiClient({ GEMINI_BASE_URL: server.url }).client;
    assert.equal(unconfigured.configured, false);
    await failure(unconfigured.countPeople(small, 10), 'not_configured');
    assert.equal(server.received.length, 0);
  });
});

describe('Gemini timeouts and budget', () => {
  let server: GeminiServer;
  before(async () => {
    server = await startGeminiServer();
  });
  after(async () => server.close());

  it('gives up within GEMINI_TIMEOUT_MS × GEMINI_MAX_ATTEMPTS when every attempt hangs', async () => {
    server.setDefault({ hang: true });
    const { client, metrics } = buildGeminiClient({ GEMINI_API_KEY: KEY, GEMINI_BASE_URL: server.url, GEMINI_TIMEOUT_MS: '300', GEMINI_MAX_ATTEMPTS: '3' }, { random: zero });
    const img = await jpeg(64, 64);
    const start = Date.now();
    await failure(client.countPeople(img, 10), 'timeout');
    const elapsed = Date.now() - start;
    assert.ok(elapsed <= 900 + 500, `elapsed ${elapsed} ms`);
    assert.ok(elapsed >= 850, `elapsed ${elapsed} ms`);
    assert.equal(server.received.length, 3);
    assert.equal(await counterValue(metrics, 'gemini_retries_total', { reason: 'timeout' }), 2);
    assert.equal(await counterValue(metrics, 'upstream_requests_total', { service: 'gemini', outcome: 'timeout' }), 3);
  });

  it('keeps the jittered backoff inside the budget', async () => {
    server.received.length = 0;
    server.setDefault({ status: 503 });
    // random = 1 gives the maximum backoff: 500 ms before retry 1, 1000 ms before retry 2
    const { client } = buildGeminiClient({ GEMINI_API_KEY: KEY, GEMINI_BASE_URL: server.url, GEMINI_TIMEOUT_MS: '400', GEMINI_MAX_ATTEMPTS: '3' }, { random: () => 0.999 });
    const start = Date.now();
    await failure(client.countPeople(await jpeg(64, 64), 10), 'http_error');
    const elapsed = Date.now() - start;
    assert.ok(elapsed <= 1200 + 500, `elapsed ${elapsed} ms`);
    // 500 ms wait fits the 1200 ms budget, the following 1000 ms does not
    assert.equal(server.received.length, 2);
    const gap = server.received[1].at - server.received[0].at;
    assert.ok(gap >= 480, `gap ${gap} ms`);
  });
});

describe('Gemini circuit breaker', () => {
  it('opens after repeated timeouts, fails fast, and recovers via half-open', async () => {
    const server = await startGeminiServer();
    try {
      server.setDefault({ hang: true });
      const { client, logs } = buildGeminiClient(
        { GEMINI_API_KEY: KEY, GEMINI_BASE_URL: server.url, GEMINI_TIMEOUT_MS: '400', GEMINI_MAX_ATTEMPTS: '1' },
        { breaker: { failureThreshold: 2, halfOpenAfterMs: 300 }, random: zero },
      );
      const img = await jpeg(64, 64);
      await failure(client.countPeople(img, 10), 'timeout');
      await failure(client.countPeople(img, 10), 'timeout');
      assert.equal(client.breakerState, 'open');
      const seen = server.received.length;
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        await failure(client.countPeople(img, 10), 'circuit_open');
        best = Math.min(best, performance.now() - start);
      }
      assert.ok(best < 50, `fails fast while open (${best} ms)`);
      assert.equal(server.received.length, seen);
      server.setDefault({ text: '8' });
      await new Promise((r) => setTimeout(r, 350));
      assert.equal(await client.countPeople(img, 10), 8);
      assert.equal(client.breakerState, 'closed');
      assert.ok(logs.some((l) => l.upstream === 'gemini' && l.circuit === 'open'));
    } finally {
      await server.close();
    }
  });

  it('counts refused connections as outages but does not retry them', async () => {
    const base = new URL(await unusedPortUrl()).origin;
    const { client } = buildGeminiClient({ GEMINI_API_KEY: KEY, GEMINI_BASE_URL: base, GEMINI_MAX_ATTEMPTS: '3' }, { breaker: { failureThreshold: 2, halfOpenAfterMs: 60000 }, random: zero });
    const img = await jpeg(64, 64);
    await failure(client.countPeople(img, 10), 'http_error');
    await failure(client.countPeople(img, 10), 'http_error');
    await failure(client.countPeople(img, 10), 'circuit_open');
  });
});

describe('parseCount', () => {
  it('skips thought parts and joins the rest', () => {
    assert.equal(parseCount({ candidates: [{ content: { parts: [{ text: 'I see 12 shapes', thought: true }, { text: 'Answer: ' }, { text: '4' }] } }] }), 4);
  });

  it('rejects a missing candidate or a block reason', () => {
    assert.throws(() => parseCount({ candidates: [] }), (e: unknown) => e instanceof GeminiError && e.kind === 'blocked');
    assert.throws(() => parseCount({ promptFeedback: { blockReason: 'SAFETY' as never } }), (e: unknown) => e instanceof GeminiError && e.kind === 'blocked');
    assert.throws(() => parseCount({ candidates: [{ content: { parts: [] } }] }), (e: unknown) => e instanceof GeminiError && e.kind === 'unparsable');
  });

  it('accepts 2^53-1 and rejects 2^53', () => {
    assert.equal(parseCount({ candidates: [{ content: { parts: [{ text: '9007199254740991' }] } }] }), Number.MAX_SAFE_INTEGER);
    assert.throws(() => parseCount({ candidates: [{ content: { parts: [{ text: '9007199254740992' }] } }] }));
  });
});
