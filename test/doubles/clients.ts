import { Writable } from 'node:stream';
import { createLogger } from '../../src/common/logger';
import { loadConfig } from '../../src/config/config';
import { CrowdPredictionClient } from '../../src/integrations/crowd-prediction/crowd-prediction.client';
import type { BreakerSettings } from '../../src/integrations/crowd-prediction/upstream-breaker';
import { ImageDecodes } from '../../src/integrations/images/image-decodes';
import { GeminiClient } from '../../src/integrations/gemini/gemini.client';
import { Metrics } from '../../src/observability/metrics.service';

/** The production clients, built outside Nest with a log sink and their own metrics registry. */
export interface Built<C> {
  client: C;
  metrics: Metrics;
  logs: Record<string, unknown>[];
}

function sink(logs: Record<string, unknown>[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        }
      }
      cb();
    },
  });
}

const LOOSE_BREAKER: BreakerSettings = { failureThreshold: 1000, halfOpenAfterMs: 1000 };

export function buildCrowdClient(env: Record<string, string>, breaker: BreakerSettings = LOOSE_BREAKER): Built<CrowdPredictionClient> {
  const logs: Record<string, unknown>[] = [];
  // the breaker through its own configuration variables, as production sets it
  const config = loadConfig({ NODE_ENV: 'test', ...env, CROWD_BREAKER_FAILURES: String(breaker.failureThreshold), CROWD_BREAKER_HALF_OPEN_MS: String(breaker.halfOpenAfterMs) });
  const metrics = new Metrics();
  const client = new CrowdPredictionClient(config, metrics, createLogger('debug', sink(logs)));
  return { client, metrics, logs };
}

/** Jitter source of a Gemini client under test (production: Math.random). */
export type RandomSource = () => number;

/** The production client with a chosen jitter, so backoff timings are deterministic. */
class SeededGeminiClient extends GeminiClient {
  seed: RandomSource = Math.random;

  protected override random(): number {
    return this.seed();
  }
}

export function buildGeminiClient(env: Record<string, string>, opts: { breaker?: BreakerSettings; random?: RandomSource } = {}): Built<GeminiClient> {
  const logs: Record<string, unknown>[] = [];
  const breaker = opts.breaker ?? LOOSE_BREAKER;
  const config = loadConfig({ NODE_ENV: 'test', ...env, GEMINI_BREAKER_FAILURES: String(breaker.failureThreshold), GEMINI_BREAKER_HALF_OPEN_MS: String(breaker.halfOpenAfterMs) });
  const metrics = new Metrics();
  const client = new SeededGeminiClient(config, metrics, createLogger('debug', sink(logs)), new ImageDecodes(config));
  client.seed = opts.random ?? Math.random;
  return { client, metrics, logs };
}

/** Value of one labelled sample of a counter, 0 when absent. */
export async function counterValue(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const m = await metrics.registry.getSingleMetric(name)?.get();
  const v = m?.values.find((s) => Object.entries(labels).every(([k, val]) => s.labels[k] === val));
  return v?.value ?? 0;
}
