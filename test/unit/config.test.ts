import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { availableParallelism } from 'node:os';
import { ConfigError, cpuBudget, loadConfig, parseTtl } from '../../src/config/config';

function problems(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('expected the configuration to be rejected');
}

describe('loadConfig', () => {
  it('defaults to the embedded database, port 8080 and the spec defaults', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.db.kind, 'embedded');
    assert.equal(c.auth.accessTokenTtlSec, 1800);
    assert.equal(c.auth.refreshTokenTtlSec, 7 * 86400);
    assert.equal(c.sensor.throttleMs, 2000);
    assert.equal(c.sensor.auth, 'required');
    assert.equal(c.sensor.maxUploadBytes, 10485760);
    assert.equal(c.gemini.model, 'gemini-3.5-flash');
    assert.equal(c.gemini.maxAttempts, 2);
    assert.equal(c.corsOrigins, '*');
    assert.equal(c.auth.jwtSecretGenerated, true);
  });

  it('lists every bad variable in one message', () => {
    const msg = problems({ PORT: 'abc', SENSOR_AUTH: 'maybe', GEMINI_MAX_ATTEMPTS: '9', ACCESS_TOKEN_TTL: '30x' });
    assert.match(msg, /^Invalid configuration: /);
    assert.match(msg, /PORT must be an integer 1-65535 \(got "abc"\)/);
    assert.match(msg, /SENSOR_AUTH must be "required" or "off" \(got "maybe"\)/);
    assert.match(msg, /GEMINI_MAX_ATTEMPTS must be an integer 1-5 \(got "9"\)/);
    assert.match(msg, /ACCESS_TOKEN_TTL must be seconds or a number with s, m, h or d/);
  });

  it('validates the circuit breaker settings with everything else', () => {
    const msg = problems({ CROWD_BREAKER_FAILURES: '0', GEMINI_BREAKER_HALF_OPEN_MS: 'soon' });
    assert.match(msg, /CROWD_BREAKER_FAILURES must be an integer 1-1000 \(got "0"\)/);
    assert.match(msg, /GEMINI_BREAKER_HALF_OPEN_MS must be an integer 1-3600000 \(got "soon"\)/);
    const c = loadConfig({ CROWD_BREAKER_FAILURES: '3' });
    assert.deepEqual(c.crowd.breaker, { failureThreshold: 3, halfOpenAfterMs: 5000 });
    assert.deepEqual(c.gemini.breaker, { failureThreshold: 5, halfOpenAfterMs: 30000 });
  });

  it('requires JWT_SECRET, a database and the detector URL in production', () => {
    const msg = problems({ NODE_ENV: 'production' });
    assert.match(msg, /JWT_SECRET is required in production/);
    assert.match(msg, /a database is required in production/);
    assert.match(msg, /CROWD_PREDICT_URL is required in production/);
  });

  it('accepts a complete production configuration', () => {
    const c = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET: 'x'.repeat(40),
      USE_CLOUD_SQL: 'True',
      DB_HOST: '/cloudsql/proj:region:inst',
      DB_NAME: 'ecoflow',
      DB_USER: 'app',
      DB_PASSWORD: 'pw',
      CROWD_PREDICT_URL: 'https://detector.example/predict',
    });
    assert.equal(c.db.kind, 'postgres');
    assert.equal(c.db.kind === 'postgres' && c.db.host, '/cloudsql/proj:region:inst');
    assert.equal(c.isProduction, true);
  });

  it('parses the delivery settings: schedules with units, safe defaults in production, one message for every mistake', () => {
    const dev = loadConfig({ WEBHOOK_RETRY_SCHEDULE: '200ms,1s,5m', SSE_MAX_DURATION: '2s', WHATSAPP_PROVIDER: 'gowa', WHATSAPP_BASE_URL: 'http://gowa:3000/', WHATSAPP_BASIC_AUTH: 'u:p' });
    assert.deepEqual(dev.webhooks.retryScheduleMs, [200, 1000, 300000]);
    assert.equal(dev.webhooks.allowHttp, true);
    assert.equal(dev.webhooks.allowPrivate, true);
    assert.equal(dev.stream.maxDurationMs, 2000);
    assert.deepEqual(dev.whatsapp, { provider: 'gowa', baseUrl: 'http://gowa:3000', apiKey: null, basicAuth: 'u:p', session: 'default', timeoutMs: 10000, retryScheduleMs: [60000, 300000] });
    const defaults = loadConfig({});
    assert.deepEqual(defaults.webhooks.retryScheduleMs, [5000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000]);
    assert.equal(defaults.whatsapp.provider, null);
    assert.equal(defaults.stream.maxDurationMs, 55 * 60000);
    assert.equal(defaults.events.retentionDays, 30);
    const prod = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), DATABASE_URL: 'postgres://db/x', CROWD_PREDICT_URL: 'https://d.example/predict' });
    assert.equal(prod.webhooks.allowHttp, false, 'https only in production');
    assert.equal(prod.webhooks.allowPrivate, false, 'no private destinations in production');

    const msg = problems({ WEBHOOK_RETRY_SCHEDULE: '5s,soon', WHATSAPP_PROVIDER: 'telegram', SSE_MAX_DURATION: '10', WHATSAPP_RETRY_SCHEDULE: '10m,10m', WHATSAPP_BASIC_AUTH: 'nocolon' });
    assert.match(msg, /WEBHOOK_RETRY_SCHEDULE must be up to 20 comma-separated delays/);
    assert.match(msg, /WHATSAPP_PROVIDER must be "waha" or "gowa" \(got "telegram"\)/);
    assert.match(msg, /SSE_MAX_DURATION must be a duration/);
    assert.match(msg, /WHATSAPP_RETRY_SCHEDULE must be at most 2 comma-separated delays adding up to at most 15m/);
    assert.match(msg, /WHATSAPP_BASIC_AUTH must be user:password/);
    assert.match(problems({ WHATSAPP_PROVIDER: 'waha' }), /WHATSAPP_BASE_URL is required when WHATSAPP_PROVIDER is set/);
  });

  it('rejects a short secret without printing it', () => {
    const msg = problems({ JWT_SECRET: 'hunter2' });
    assert.match(msg, /JWT_SECRET must be at least 32 characters \(got 7\)/);
    assert.doesNotMatch(msg, /hunter2/);
  });

  it('never echoes a database URL, which may hold a password', () => {
    const msg = problems({ DATABASE_URL: 'mysql://u:s3cret@h/db' });
    assert.match(msg, /DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
    assert.doesNotMatch(msg, /s3cret/);
  });

  it('requires the DB_* variables when USE_CLOUD_SQL is on', () => {
    const msg = problems({ USE_CLOUD_SQL: 'true' });
    for (const v of ['DB_HOST', 'DB_NAME', 'DB_USER', 'DB_PASSWORD']) {
      assert.match(msg, new RegExp(`${v} is required`));
    }
  });

  it('parses CORS lists and model ids with models/ prefix', () => {
    const c = loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example', GEMINI_MODEL: 'models/gemini-x' });
    assert.deepEqual(c.corsOrigins, ['https://a.example', 'https://b.example']);
    assert.equal(c.gemini.model, 'gemini-x');
    assert.match(problems({ CORS_ORIGINS: 'not a url' }), /CORS_ORIGINS must be/);
  });

  it('namespaces Redis keys with REDIS_KEY_PREFIX, refusing blanks and spaces', () => {
    assert.equal(loadConfig({}).redisKeyPrefix, 'ecoflow:');
    assert.equal(loadConfig({ REDIS_KEY_PREFIX: 'staging:' }).redisKeyPrefix, 'staging:');
    for (const bad of ['', 'has space:', 'x'.repeat(101), 'tab\t']) {
      assert.match(problems({ REDIS_KEY_PREFIX: bad }), /REDIS_KEY_PREFIX must be 1-100 printable characters/, JSON.stringify(bad));
    }
  });

  it('parses TTLs with units', () => {
    assert.equal(parseTtl('1800'), 1800);
    assert.equal(parseTtl('30m'), 1800);
    assert.equal(parseTtl('7d'), 604800);
    assert.equal(parseTtl('2h'), 7200);
    assert.equal(parseTtl('0'), null);
    assert.equal(parseTtl('-5m'), null);
  });

  describe('WEB_CONCURRENCY (worker processes, docs/decisions/0010)', () => {
    const pg = { DATABASE_URL: 'postgres://u@127.0.0.1:5432/db' };
    const redis = { REDIS_URL: 'redis://127.0.0.1:6379' };

    it('defaults to one process; "auto" is one per usable CPU with PostgreSQL and Redis, else one', () => {
      assert.equal(loadConfig({ ...pg, ...redis }).processes, 1);
      assert.equal(loadConfig({ ...pg, ...redis, WEB_CONCURRENCY: 'auto' }).processes, cpuBudget());
      assert.equal(loadConfig({ ...pg, WEB_CONCURRENCY: 'auto' }).processes, 1, 'without Redis the throttle and login limiter are per process');
      assert.equal(loadConfig({ WEB_CONCURRENCY: 'auto' }).processes, 1, 'the embedded database lives in one process');
      assert.equal(loadConfig({ ...pg, ...redis, WEB_CONCURRENCY: '3' }).processes, 3);
      assert.equal(loadConfig({ ...pg, ...redis, WEB_CONCURRENCY: '1' }).processes, 1);
    });

    it('refuses several processes where what they share would not be shared, and bad values', () => {
      assert.match(problems({ WEB_CONCURRENCY: '2' }), /WEB_CONCURRENCY above 1 needs PostgreSQL/);
      assert.match(problems({ ...pg, WEB_CONCURRENCY: '2' }), /WEB_CONCURRENCY above 1 needs REDIS_URL/);
      assert.match(problems({ ...pg, ...redis, WEB_CONCURRENCY: 'two' }), /WEB_CONCURRENCY must be an integer 1-64 or "auto" \(got "two"\)/);
      assert.match(problems({ ...pg, ...redis, WEB_CONCURRENCY: '0' }), /WEB_CONCURRENCY must be an integer 1-64/);
    });

    it('divides the per-instance image and upload budgets among the processes unless they are set', () => {
      const two = loadConfig({ ...pg, ...redis, WEB_CONCURRENCY: '2' });
      assert.equal(two.limits.maxInflightUploadBytes, 128 * 1024 * 1024);
      assert.equal(two.limits.imageDecodeConcurrency, Math.max(1, Math.floor(availableParallelism() / 2)));
      const one = loadConfig({ ...pg, ...redis, WEB_CONCURRENCY: '1' });
      assert.equal(one.limits.maxInflightUploadBytes, 256 * 1024 * 1024);
      assert.equal(one.limits.imageDecodeConcurrency, availableParallelism());
      assert.equal(loadConfig({ ...pg, ...redis, WEB_CONCURRENCY: '2', IMAGE_DECODE_CONCURRENCY: '3' }).limits.imageDecodeConcurrency, 3);
      assert.equal(two.db.poolMax, 3, 'the default pool of 5 per instance: 3 per process with two');
      assert.equal(one.db.poolMax, 5);
      assert.equal(loadConfig({ ...pg, ...redis, WEB_CONCURRENCY: '2', DB_POOL_MAX: '5' }).db.poolMax, 5, 'a value given is per process');
    });

    it('reads the container CPU quota (cgroup v2, then v1), never above the CPUs it may run on', () => {
      const files = (m: Record<string, string>) => (f: string): string => {
        if (!(f in m)) {
          throw new Error('ENOENT');
        }
        return m[f];
      };
      const cores = availableParallelism();
      assert.equal(cpuBudget(files({ '/sys/fs/cgroup/cpu.max': '100000 100000\n' })), 1);
      assert.equal(cpuBudget(files({ '/sys/fs/cgroup/cpu.max': '150000 100000' })), Math.min(cores, 2), 'a fraction rounds up');
      assert.equal(cpuBudget(files({ '/sys/fs/cgroup/cpu.max': 'max 100000' })), cores);
      assert.equal(cpuBudget(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '100000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })), 1);
      assert.equal(cpuBudget(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })), cores);
      assert.equal(cpuBudget(files({})), cores);
      assert.equal(cpuBudget(files({ '/sys/fs/cgroup/cpu.max': '6400000 100000' })), cores, 'a quota above the cores is capped');
    });
  });
});
