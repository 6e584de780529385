import cluster from 'node:cluster';
import { exitOnSignalUntilReady, report } from './common/process-signals';

// First statement: SIGTERM/SIGINT end the process (code 1, one log line) while it starts, waits
// for the database or migrates. Everything heavy (Nest, TypeORM, the app) is loaded below with
// import(), after this handler exists: node is PID 1 in the container, where a signal without a
// handler is dropped, even one that arrives while modules are still loading.
// A worker process (WEB_CONCURRENCY > 1) is stopped by its primary's SIGTERM only.
const signals = exitOnSignalUntilReady({ phase: 'startup', code: 1, signals: cluster.isWorker ? ['SIGTERM'] : undefined });

async function bootstrap(): Promise<void> {
  await import('reflect-metadata');
  const { ConfigError, loadConfig } = await import('./config/config');
  const { createLogger } = await import('./common/logger');
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      // one line listing every bad variable, no stack trace: JSON (severity ERROR) in production
      report('error', err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  signals.useLogger(logger);
  // the primary has said these once for the instance
  const warn = cluster.isWorker ? () => undefined : (msg: string) => logger.warn(msg);
  if (config.auth.jwtSecretGenerated) {
    warn('JWT_SECRET is not set: using a random secret; tokens die on restart and are not shared between instances');
  }
  if (config.sensor.auth === 'off') {
    warn('SENSOR_AUTH=off is insecure: anyone who reaches the service can spend detector and Gemini quota and open alerts');
  }
  if (config.db.kind === 'embedded') {
    logger.info({ dataDir: config.db.dataDir ?? 'memory' }, 'using the embedded database (PGlite); set DATABASE_URL for PostgreSQL');
  }
  if (config.processes > 1 && cluster.isPrimary) {
    // this process only supervises: each worker runs everything below (docs/decisions/0010)
    const { runPrimary } = await import('./cluster/primary');
    // a generated secret must be the same in every worker, or a token works on half the requests
    const workerEnv: Record<string, string> = config.auth.jwtSecretGenerated ? { JWT_SECRET: config.auth.jwtSecret } : {};
    const primary = runPrimary({ processes: config.processes, workerEnv, logger });
    signals.handOver((signal) => primary.stop(signal));
    return;
  }
  const { createApp } = await import('./app.factory');
  const { MigrationService } = await import('./database/migration.service');
  const { createShutdownHandler, DEFAULT_SHUTDOWN } = await import('./graceful-shutdown');
  const app = await createApp(config, logger);
  await app.get(MigrationService).migrateOnStartup();
  await app.listen(config.port);
  // from here on a signal drains in-flight requests, closes pool and Redis, and exits 0
  signals.handOver(createShutdownHandler(app, logger, DEFAULT_SHUTDOWN));
  const port = (app.getHttpServer().address() as { port: number }).port;
  if (cluster.isWorker) {
    // the primary says "listening" once every worker is
    logger.info({ port }, 'worker process listening');
    process.send?.({ ecoflow: 'listening', port });
  } else {
    logger.info({ port }, 'ecoflow-backend listening');
  }
}

bootstrap().catch((err: unknown) => {
  report('error', `Startup failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
