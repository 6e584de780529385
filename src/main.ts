import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.factory';
import { createLogger } from './common/logger';
import { ConfigError, loadConfig } from './config/config';
import { MigrationService } from './database/migration.service';
import { installGracefulShutdown } from './graceful-shutdown';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      // one readable line listing every bad variable; no stack trace for an operator to wade through
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  if (config.auth.jwtSecretGenerated) {
    logger.warn('JWT_SECRET is not set: using a random per-process secret; tokens die on restart and are not shared between instances');
  }
  if (config.sensor.auth === 'off') {
    logger.warn('SENSOR_AUTH=off is insecure: anyone who reaches the service can spend detector and Gemini quota and open alerts');
  }
  if (config.db.kind === 'embedded') {
    logger.info({ dataDir: config.db.dataDir ?? 'memory' }, 'using the embedded database (PGlite); set DATABASE_URL for PostgreSQL');
  }
  const app = await createApp(config, logger);
  await app.get(MigrationService).migrateOnStartup();
  await app.listen(config.port);
  installGracefulShutdown(app, logger);
  const port = (app.getHttpServer().address() as AddressInfo).port;
  logger.info({ port }, 'ecoflow-backend listening');
}

bootstrap().catch((err: unknown) => {
  console.error(`Startup failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
