import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The whole runtime configuration, parsed and validated once at boot (spec §8).
 * Injected by class: `constructor(private readonly config: AppConfig)`.
 */
export class AppConfig {
  port!: number;
  /**
   * HTTP worker processes of this instance (`WEB_CONCURRENCY`, docs/decisions/0010): 1 = the
   * service runs in the started process; more = that process only supervises them (node:cluster).
   */
  processes!: number;
  nodeEnv!: 'development' | 'production' | 'test';
  isProduction!: boolean;
  db!: DbConfig;
  auth!: {
    jwtSecret: string;
    /** true when JWT_SECRET was not given and a random per-process secret is used */
    jwtSecretGenerated: boolean;
    accessTokenTtlSec: number;
    refreshTokenTtlSec: number;
    /** a rotated refresh token presented again within this many seconds is not theft (spec §11); 0 = off */
    refreshReuseIntervalSec: number;
    /** failed logins per client IP per window across all emails (password spraying, spec §11) */
    loginMaxFailuresPerIp: number;
  };
  /**
   * Express `trust proxy`: the number of trusted proxy hops, or the CIDRs of trusted proxies
   * (spec §11 `TRUST_PROXY`). X-Forwarded-For beyond it is ignored.
   */
  trustProxy!: number | string[];
  /** Hostile-input bounds of spec §11. */
  limits!: {
    /** width × height × channels × bytes per sample above which an image is refused before decoding */
    maxDecodeBytes: number;
    /** image decodes (sharp) running at once per process (default: the CPUs divided among the processes) */
    imageDecodeConcurrency: number;
    /** bytes of uploads held in memory at once per process; beyond it 503 + Retry-After (default: 256 MiB divided among the processes) */
    maxInflightUploadBytes: number;
    /** a whole request body must arrive within this */
    requestBodyTimeoutMs: number;
    /** headers of a request must arrive within this (also closes connections that never send one) */
    headersTimeoutMs: number;
    /** idle keep-alive connections are closed after this (above Cloud Run's front end) */
    keepAliveTimeoutMs: number;
    /** image preparation for Gemini (decode, rotate, resize, encode) must finish within this */
    imagePrepTimeoutMs: number;
  };
  crowd!: { predictUrl: string | null; timeoutMs: number; breaker: BreakerConfig };
  gemini!: {
    apiKey: string | null;
    model: string;
    timeoutMs: number;
    maxAttempts: number;
    baseUrl: string;
    breaker: BreakerConfig;
  };
  redisUrl!: string | null;
  /** namespaces every Redis key, so several deployments (or test runs) can share one server */
  redisKeyPrefix!: string;
  sensor!: { throttleMs: number; auth: 'required' | 'off'; maxUploadBytes: number };
  corsOrigins!: '*' | string[];
  logLevel!: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  metricsToken!: string | null;
  /** Event log and outbox (ALERTING.md §1, §7). */
  events!: {
    retentionDays: number;
    /** how often each instance looks for due deliveries besides the commit signal */
    deliveryPollMs: number;
    /** outbox health turns LAGGING when a due delivery waited longer than this */
    lagAlertSec: number;
  };
  /** Webhooks (ALERTING.md §2). */
  webhooks!: {
    timeoutMs: number;
    /** delay before each retry; N entries = at most N + 1 attempts */
    retryScheduleMs: number[];
    disableAfterSec: number;
    allowHttp: boolean;
    allowPrivate: boolean;
    /** attempts in flight per instance, all channels together */
    concurrency: number;
  };
  /** WhatsApp gateway (ALERTING.md §3); provider null = sending off. */
  whatsapp!: {
    provider: 'waha' | 'gowa' | null;
    baseUrl: string | null;
    apiKey: string | null;
    basicAuth: string | null;
    session: string;
    timeoutMs: number;
    /** delays before the 2nd and 3rd attempt: at most 3 attempts within 15 minutes (§3) */
    retryScheduleMs: number[];
  };
  /** Live stream (ALERTING.md §4). */
  stream!: { maxDurationMs: number; keepAliveMs: number; ticketTtlSec: number };
  /** Alert lifecycle (ALERTING.md §5). */
  lifecycle!: {
    /** an OPEN alert auto-resolves once readings stay below this × capacity (C13) */
    resolveRatio: number;
    /** how long they must stay below; 0 = auto-resolve off */
    autoResolveAfterMs: number;
    /** 0 = no reminders */
    remindEveryMs: number;
    remindMax: number;
    /** 0 = no snapshot is ever kept */
    snapshotRetentionDays: number;
    /** how often each instance looks for due reminders and silent cameras (§7: within 5 s of due) */
    sweepIntervalMs: number;
  };
  /** Readings, occupancy and camera liveness (ALERTING.md §6). */
  occupancy!: {
    /** false = no readings are recorded (an operational switch; the board then shows NO_DATA) */
    recordReadings: boolean;
    staleAfterMs: number;
    readingRetentionDays: number;
    rollupRetentionDays: number;
    cameraOfflineAfterMs: number;
  };
}

/** Circuit breaker of one downstream: consecutive outages that open it, cool-down before a probe. */
export interface BreakerConfig {
  failureThreshold: number;
  halfOpenAfterMs: number;
}

/** Pool, timeout and migration settings, the same for both kinds of database. */
export interface DbLimits {
  poolMax: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  idleTimeoutMs: number;
  migrationsRun: boolean;
  migrationLockTimeoutMs: number;
}

export type DbConfig =
  | ({ kind: 'embedded'; dataDir: string | null } & DbLimits)
  | ({
      kind: 'postgres';
      url: string | null;
      host: string | null;
      port: number;
      database: string | null;
      user: string | null;
      password: string | null;
    } & DbLimits);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Parses `1800`, `30s`, `30m`, `12h`, `7d` into seconds. */
export function parseTtl(value: string): number | null {
  const m = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!m) {
    return null;
  }
  const n = Number(m[1]);
  const mult = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  const sec = n * mult;
  return sec > 0 && Number.isSafeInteger(sec) ? sec : null;
}

/** Parses `250ms`, `5s`, `5m`, `2h`, `1d` or plain milliseconds into milliseconds. */
export function parseDurationMs(value: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) {
    return null;
  }
  const mult = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * mult;
  return Number.isSafeInteger(ms) ? ms : null;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off', '']);

/**
 * Validates `env` and returns the typed configuration, or throws one ConfigError that lists
 * every problem at once so an operator fixes them in a single deploy.
 */
export function loadConfig(env: Env): AppConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, def: number, min: number, max: number, hint?: string): number => {
    const raw = get(name);
    if (raw === undefined) {
      return def;
    }
    if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be ${hint ?? `an integer ${min}-${max}`} (got "${raw}")`);
      return def;
    }
    return Number(raw);
  };
  const oneOf = <T extends string>(name: string, def: T, allowed: readonly T[]): T => {
    const raw = get(name);
    if (raw === undefined) {
      return def;
    }
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name} must be ${allowed.map((a) => `"${a}"`).join(' or ')} (got "${raw}")`);
      return def;
    }
    return raw as T;
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined) {
      return def;
    }
    const v = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(v)) {
      return true;
    }
    if (FALSE_WORDS.has(v)) {
      return false;
    }
    problems.push(`${name} must be true or false (got "${raw}")`);
    return def;
  };
  const ttl = (name: string, def: number): number => {
    const raw = get(name);
    if (raw === undefined) {
      return def;
    }
    const v = parseTtl(raw);
    if (v === null) {
      problems.push(`${name} must be seconds or a number with s, m, h or d, e.g. 30m (got "${raw}")`);
      return def;
    }
    return v;
  };
  const url = (name: string, protocols: string[]): string | null => {
    const raw = get(name);
    if (raw === undefined) {
      return null;
    }
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) {
        throw new Error('protocol');
      }
      return raw;
    } catch {
      // never echo a URL: it may carry a password
      problems.push(`${name} must be a ${protocols.map((p) => p.replace(':', '://')).join(' or ')} URL`);
      return null;
    }
  };

  const nodeEnv = oneOf('NODE_ENV', 'development', ['development', 'production', 'test'] as const);
  const isProduction = nodeEnv === 'production';

  // database
  const poolMax = int('DB_POOL_MAX', 5, 1, 1000);
  const connectTimeoutMs = int('DB_CONNECT_TIMEOUT_MS', 10000, 100, 600000);
  const statementTimeoutMs = int('DB_STATEMENT_TIMEOUT_MS', 30000, 100, 3600000);
  const idleTimeoutMs = int('DB_IDLE_TIMEOUT_MS', 30000, 1000, 3600000);
  const migrationsRun = bool('MIGRATIONS_RUN', true);
  // DDL waits at most this long for a table lock, so a migration queued behind a long query never stalls all traffic
  const migrationLockTimeoutMs = int('MIGRATION_LOCK_TIMEOUT_MS', 10000, 100, 3600000);
  const common = { poolMax, connectTimeoutMs, statementTimeoutMs, idleTimeoutMs, migrationsRun, migrationLockTimeoutMs };
  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const useCloudSql = bool('USE_CLOUD_SQL', false);
  const dbPort = int('DB_PORT', 5432, 1, 65535, 'an integer 1-65535');
  let db: DbConfig;
  if (databaseUrl || get('DATABASE_URL') !== undefined) {
    db = { kind: 'postgres', url: databaseUrl, host: null, port: dbPort, database: null, user: null, password: null, ...common };
  } else if (useCloudSql || get('DB_HOST') !== undefined) {
    const missing = ['DB_HOST', 'DB_NAME', 'DB_USER', 'DB_PASSWORD'].filter((n) => get(n) === undefined && !(n === 'DB_PASSWORD' && env[n] !== undefined));
    for (const n of missing) {
      problems.push(`${n} is required when USE_CLOUD_SQL or DB_HOST is set`);
    }
    db = {
      kind: 'postgres',
      url: null,
      host: get('DB_HOST') ?? null,
      port: dbPort,
      database: get('DB_NAME') ?? null,
      user: get('DB_USER') ?? null,
      password: env.DB_PASSWORD ?? null,
      ...common,
    };
  } else {
    if (isProduction) {
      problems.push('a database is required in production: set DATABASE_URL or USE_CLOUD_SQL with DB_HOST, DB_NAME, DB_USER, DB_PASSWORD (the embedded database would live on the container\'s ephemeral disk)');
    }
    const dataDir = env.EMBEDDED_DB_DIR === undefined ? './.data' : env.EMBEDDED_DB_DIR.trim() === '' || env.EMBEDDED_DB_DIR === 'memory' ? null : env.EMBEDDED_DB_DIR;
    db = { kind: 'embedded', dataDir, ...common };
  }

  // processes: several only where everything they share is shared (docs/decisions/0010)
  const rawProcesses = get('WEB_CONCURRENCY');
  // default 1: on the reference machine one process carried more cameras within p99 ≤ 1 s, in less memory
  let processes = 1;
  if (rawProcesses !== undefined && rawProcesses !== 'auto') {
    processes = int('WEB_CONCURRENCY', 1, 1, 64, 'an integer 1-64 or "auto"');
    if (processes > 1 && db.kind === 'embedded') {
      problems.push('WEB_CONCURRENCY above 1 needs PostgreSQL (DATABASE_URL or USE_CLOUD_SQL): the embedded database lives inside one process');
    } else if (processes > 1 && get('REDIS_URL') === undefined) {
      problems.push('WEB_CONCURRENCY above 1 needs REDIS_URL: the zone throttle and the login limiter must be shared by the processes');
    }
  } else if (rawProcesses === 'auto' && db.kind === 'postgres' && get('REDIS_URL') !== undefined) {
    // one process per CPU this container may use
    processes = cpuBudget();
  }
  if (get('DB_POOL_MAX') === undefined) {
    // the default of 5 is the instance's: several processes share it (3 each with two: 8
    // connections with their LISTEN ones instead of 12), so max_connections sizing barely moves
    db.poolMax = Math.max(2, Math.ceil(poolMax / processes));
  }

  // auth
  const jwtRaw = env.JWT_SECRET;
  let jwtSecret = jwtRaw ?? '';
  let jwtSecretGenerated = false;
  if (jwtRaw === undefined || jwtRaw === '') {
    if (isProduction) {
      problems.push('JWT_SECRET is required in production');
    }
    jwtSecret = randomBytes(48).toString('base64url');
    jwtSecretGenerated = true;
  } else if (jwtRaw.length < 32) {
    problems.push(`JWT_SECRET must be at least 32 characters (got ${jwtRaw.length})`);
  }

  const crowdUrl = url('CROWD_PREDICT_URL', ['http:', 'https:']);
  if (isProduction && get('CROWD_PREDICT_URL') === undefined) {
    problems.push('CROWD_PREDICT_URL is required in production (the detector URL including /predict)');
  }

  const geminiBase = url('GEMINI_BASE_URL', ['http:', 'https:']) ?? 'https://generativelanguage.googleapis.com';
  const geminiModel = (get('GEMINI_MODEL') ?? 'gemini-3.5-flash').replace(/^models\//, '');
  if (!/^[A-Za-z0-9._-]+$/.test(geminiModel)) {
    problems.push(`GEMINI_MODEL must be a model id such as gemini-3.5-flash (got "${geminiModel}")`);
  }

  const corsRaw = get('CORS_ORIGINS') ?? '*';
  let corsOrigins: '*' | string[] = '*';
  if (corsRaw !== '*') {
    corsOrigins = corsRaw.split(',').map((o) => o.trim()).filter(Boolean);
    const bad = corsOrigins.filter((o) => !/^https?:\/\/[^/\s]+$/.test(o));
    if (bad.length || corsOrigins.length === 0) {
      problems.push(`CORS_ORIGINS must be * or a comma-separated list of origins like https://dash.example.com (bad: ${bad.join(', ') || 'empty'})`);
    }
  }

  // TRUST_PROXY: hops (Cloud Run's front end is one) or a list of trusted proxy CIDRs
  const trustRaw = get('TRUST_PROXY');
  let trustProxy: number | string[] = isProduction ? 1 : 0;
  if (trustRaw !== undefined) {
    if (/^\d+$/.test(trustRaw) && Number(trustRaw) <= 10) {
      trustProxy = Number(trustRaw);
    } else {
      const cidrs = trustRaw.split(',').map((c) => c.trim()).filter(Boolean);
      const bad = cidrs.filter((c) => !isCidr(c));
      if (bad.length || cidrs.length === 0) {
        problems.push(`TRUST_PROXY must be a number of proxy hops 0-10 or a comma-separated list of CIDRs like 10.0.0.0/8 (bad: ${bad.join(', ') || 'empty'})`);
      } else {
        trustProxy = cidrs;
      }
    }
  }

  const reuseRaw = get('REFRESH_REUSE_INTERVAL');
  let refreshReuseIntervalSec = 10;
  if (reuseRaw !== undefined) {
    const v = /^0+[smhd]?$/.test(reuseRaw) ? 0 : parseTtl(reuseRaw);
    if (v === null || v > 3600) {
      problems.push(`REFRESH_REUSE_INTERVAL must be 0 to 1h, in seconds or with s, m or h, e.g. 10s (got "${reuseRaw}")`);
    } else {
      refreshReuseIntervalSec = v;
    }
  }

  const redisUrl = url('REDIS_URL', ['redis:', 'rediss:']);
  const redisKeyPrefix = env.REDIS_KEY_PREFIX ?? 'ecoflow:';
  if (!/^[\x21-\x7e]{1,100}$/.test(redisKeyPrefix)) {
    problems.push(`REDIS_KEY_PREFIX must be 1-100 printable characters without spaces (got "${redisKeyPrefix.slice(0, 100)}")`);
  }

  const duration = (name: string, def: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) {
      return def;
    }
    const v = parseDurationMs(raw);
    if (v === null || v < min || v > max) {
      problems.push(`${name} must be a duration like 250ms, 30s, 5m or 2h between ${min} ms and ${max} ms (got "${raw}")`);
      return def;
    }
    return v;
  };

  // like duration(), and `0` switches the feature off
  const durationOrOff = (name: string, def: number, min: number, max: number): number =>
    get(name) !== undefined && parseDurationMs(get(name) as string) === 0 ? 0 : duration(name, def, min, max);
  const ratioRaw = get('ALERT_RESOLVE_RATIO');
  let resolveRatio = 0.8;
  if (ratioRaw !== undefined) {
    const v = Number(ratioRaw);
    if (!/^\d*\.?\d+$/.test(ratioRaw) || !(v > 0 && v < 0.9)) {
      problems.push(`ALERT_RESOLVE_RATIO must be a number above 0 and below 0.9, the DANGER threshold (got "${ratioRaw}")`);
    } else {
      resolveRatio = v;
    }
  }

  const scheduleRaw = get('WEBHOOK_RETRY_SCHEDULE') ?? '5s,5m,30m,2h,5h,10h,10h';
  const retryScheduleMs = scheduleRaw.split(',').map((p) => parseDurationMs(p));
  if (retryScheduleMs.some((v) => v === null || v > 86400000) || retryScheduleMs.length > 20) {
    problems.push(`WEBHOOK_RETRY_SCHEDULE must be up to 20 comma-separated delays of at most 1d, like 5s,5m,30m (got "${scheduleRaw}")`);
  }
  const whatsappProvider = get('WHATSAPP_PROVIDER') === undefined ? null : oneOf('WHATSAPP_PROVIDER', 'waha', ['waha', 'gowa'] as const);
  const whatsappBase = url('WHATSAPP_BASE_URL', ['http:', 'https:']);
  if (whatsappProvider && get('WHATSAPP_BASE_URL') === undefined) {
    problems.push('WHATSAPP_BASE_URL is required when WHATSAPP_PROVIDER is set (the gateway\'s address, e.g. http://waha:3000)');
  }
  const waScheduleRaw = get('WHATSAPP_RETRY_SCHEDULE') ?? '1m,5m';
  const waSchedule = waScheduleRaw.split(',').map((p) => parseDurationMs(p));
  if (waSchedule.length > 2 || waSchedule.some((v) => v === null) || waSchedule.reduce<number>((a, v) => a + (v ?? 0), 0) > 15 * 60000) {
    problems.push(`WHATSAPP_RETRY_SCHEDULE must be at most 2 comma-separated delays adding up to at most 15m, like 1m,5m (got "${waScheduleRaw}")`);
  }
  const basicAuth = get('WHATSAPP_BASIC_AUTH') ?? null;
  if (basicAuth !== null && !/^[^:]+:.*$/.test(basicAuth)) {
    problems.push('WHATSAPP_BASIC_AUTH must be user:password');
  }

  const cfg: AppConfig = Object.assign(new AppConfig(), {
    port: int('PORT', 8080, 0, 65535, 'an integer 1-65535'),
    processes,
    nodeEnv,
    isProduction,
    db,
    auth: {
      jwtSecret,
      jwtSecretGenerated,
      accessTokenTtlSec: ttl('ACCESS_TOKEN_TTL', 1800),
      refreshTokenTtlSec: ttl('REFRESH_TOKEN_TTL', 7 * 86400),
      refreshReuseIntervalSec,
      loginMaxFailuresPerIp: int('LOGIN_MAX_FAILURES_PER_IP', 100, 1, 1000000),
    },
    trustProxy,
    limits: {
      maxDecodeBytes: int('MAX_DECODE_BYTES', 128 * 1024 * 1024, 1024 * 1024, 4 * 1024 * 1024 * 1024),
      imageDecodeConcurrency: int('IMAGE_DECODE_CONCURRENCY', Math.max(1, Math.floor(availableParallelism() / processes)), 1, 64),
      maxInflightUploadBytes: int('MAX_INFLIGHT_UPLOAD_BYTES', Math.floor((256 * 1024 * 1024) / processes), 1024 * 1024, 16 * 1024 * 1024 * 1024),
      requestBodyTimeoutMs: int('REQUEST_BODY_TIMEOUT_MS', 60000, 100, 3600000),
      headersTimeoutMs: int('HEADERS_TIMEOUT_MS', 20000, 100, 600000),
      keepAliveTimeoutMs: int('KEEP_ALIVE_TIMEOUT_MS', 65000, 100, 3600000),
      imagePrepTimeoutMs: int('IMAGE_PREP_TIMEOUT_MS', 10000, 100, 600000),
    },
    crowd: {
      predictUrl: crowdUrl,
      timeoutMs: int('CROWD_TIMEOUT_MS', 20000, 1, 600000),
      breaker: { failureThreshold: int('CROWD_BREAKER_FAILURES', 5, 1, 1000), halfOpenAfterMs: int('CROWD_BREAKER_HALF_OPEN_MS', 5000, 1, 3600000) },
    },
    gemini: {
      apiKey: get('GEMINI_API_KEY') ?? null,
      model: geminiModel,
      timeoutMs: int('GEMINI_TIMEOUT_MS', 15000, 1, 600000),
      maxAttempts: int('GEMINI_MAX_ATTEMPTS', 2, 1, 5),
      baseUrl: geminiBase.replace(/\/+$/, ''),
      breaker: { failureThreshold: int('GEMINI_BREAKER_FAILURES', 5, 1, 1000), halfOpenAfterMs: int('GEMINI_BREAKER_HALF_OPEN_MS', 30000, 1, 3600000) },
    },
    redisUrl,
    redisKeyPrefix,
    sensor: {
      throttleMs: int('SENSOR_THROTTLE_MS', 2000, 0, 86400000),
      auth: oneOf('SENSOR_AUTH', 'required', ['required', 'off'] as const),
      maxUploadBytes: int('MAX_UPLOAD_BYTES', 10485760, 1, 1073741824),
    },
    corsOrigins,
    logLevel: oneOf('LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const),
    metricsToken: get('METRICS_TOKEN') ?? null,
    events: {
      retentionDays: int('EVENT_RETENTION_DAYS', 30, 1, 3650),
      deliveryPollMs: duration('DELIVERY_POLL_INTERVAL', 1000, 50, 60000),
      lagAlertSec: int('OUTBOX_LAG_ALERT_SECONDS', 60, 1, 86400),
    },
    webhooks: {
      timeoutMs: int('WEBHOOK_TIMEOUT_MS', 10000, 100, 120000),
      retryScheduleMs: retryScheduleMs.map((v) => v ?? 0),
      disableAfterSec: ttl('WEBHOOK_DISABLE_AFTER', 5 * 86400),
      allowHttp: bool('WEBHOOK_ALLOW_HTTP', !isProduction),
      allowPrivate: bool('WEBHOOK_ALLOW_PRIVATE', !isProduction),
      concurrency: int('WEBHOOK_CONCURRENCY', 10, 1, 1000),
    },
    whatsapp: {
      provider: whatsappProvider,
      baseUrl: whatsappBase ? whatsappBase.replace(/\/+$/, '') : null,
      apiKey: get('WHATSAPP_API_KEY') ?? null,
      basicAuth,
      session: get('WHATSAPP_SESSION') ?? 'default',
      timeoutMs: int('WHATSAPP_TIMEOUT_MS', 10000, 100, 120000),
      retryScheduleMs: waSchedule.map((v) => v ?? 0),
    },
    stream: {
      maxDurationMs: duration('SSE_MAX_DURATION', 55 * 60000, 1000, 24 * 3600000),
      keepAliveMs: duration('SSE_KEEPALIVE_INTERVAL', 15000, 100, 600000),
      ticketTtlSec: 60,
    },
    lifecycle: {
      resolveRatio,
      autoResolveAfterMs: durationOrOff('ALERT_AUTO_RESOLVE_AFTER', 5 * 60000, 1000, 7 * 86400000),
      remindEveryMs: durationOrOff('ALERT_REMIND_EVERY', 10 * 60000, 1000, 7 * 86400000),
      remindMax: int('ALERT_REMIND_MAX', 3, 0, 100),
      snapshotRetentionDays: int('SNAPSHOT_RETENTION_DAYS', 30, 0, 3650),
      sweepIntervalMs: duration('LIFECYCLE_SWEEP_INTERVAL', 2000, 100, 60000),
    },
    occupancy: {
      recordReadings: bool('RECORD_READINGS', true),
      staleAfterMs: duration('OCCUPANCY_STALE_AFTER', 5 * 60000, 1000, 7 * 86400000),
      readingRetentionDays: int('READING_RETENTION_DAYS', 7, 1, 3650),
      rollupRetentionDays: int('ROLLUP_RETENTION_DAYS', 400, 1, 36500),
      cameraOfflineAfterMs: duration('CAMERA_OFFLINE_AFTER', 5 * 60000, 1000, 7 * 86400000),
    },
  });

  if (problems.length) {
    throw new ConfigError(problems);
  }
  return cfg;
}

/**
 * CPUs this container may use: the cgroup's CPU quota rounded up (Cloud Run's `--cpu`, Docker's
 * `--cpus`), else the CPUs the process may run on. A container sees every core of its host in
 * os.availableParallelism(), so the quota decides.
 */
export function cpuBudget(readFile: (path: string) => string = (f) => readFileSync(f, 'utf8')): number {
  const cores = availableParallelism();
  let quota = Infinity;
  try {
    // cgroup v2: "max 100000" (no limit) or "<quota> <period>"
    const [q, period] = readFile('/sys/fs/cgroup/cpu.max').trim().split(/\s+/);
    if (q !== 'max' && Number(q) > 0 && Number(period) > 0) {
      quota = Math.ceil(Number(q) / Number(period));
    }
  } catch {
    try {
      // cgroup v1
      const q = Number(readFile('/sys/fs/cgroup/cpu/cpu.cfs_quota_us').trim());
      const period = Number(readFile('/sys/fs/cgroup/cpu/cpu.cfs_period_us').trim());
      if (q > 0 && period > 0) {
        quota = Math.ceil(q / period);
      }
    } catch {
      /* no cgroup CPU controller visible: the cores decide */
    }
  }
  return Math.max(1, Math.min(cores, quota));
}

/** `a.b.c.d/n` or an IPv6 prefix `x:…/n` (the forms Express's proxy-addr accepts). */
function isCidr(v: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(v);
  if (!m) {
    return false;
  }
  const bits = Number(m[2]);
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(m[1])) {
    return bits <= 32 && m[1].split('.').every((o) => Number(o) <= 255);
  }
  return /^[0-9a-fA-F:]+$/.test(m[1]) && m[1].includes(':') && bits <= 128;
}
