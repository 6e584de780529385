import type { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import { AppModule } from './app.module';
import { unreadBodyLinger } from './common/body-parsing';
import { cors, securityHeaders } from './common/http-middleware';
import { applyServerLimits } from './common/http-server';
import type { AppLogger } from './common/logger';
import { NestPinoLogger } from './common/nest-logger';
import { RouteTable } from './common/route-table';
import type { AppConfig } from './config/config';
import { setupOpenApi } from './openapi';
import { Metrics } from './observability/metrics.service';
import { requestObservability } from './observability/request-logging';

/**
 * Builds the initialised application (routes registered, database connected) without
 * listening. main.ts and the tests both use it, so tests exercise the production wiring.
 */
export async function createApp(config: AppConfig, logger: AppLogger, opts: { extraModules?: Type[] } = {}): Promise<NestExpressApplication> {
  // spec §11: `/AUTH/LOGIN/` is not `/auth/login/`; Express's router takes the setting when it is
  // created, which Nest's adapter does in its constructor, so the instance is configured first
  const instance = express();
  instance.set('case sensitive routing', true);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logger, opts.extraModules ?? []), new ExpressAdapter(instance), {
    bodyParser: false,
    logger: new NestPinoLogger(logger.child({ context: 'Nest' })),
    abortOnError: false,
  });
  instance.disable('x-powered-by');
  // TRUST_PROXY (spec §11): production defaults to Cloud Run's single front-end hop; X-Forwarded-For beyond it is ignored
  instance.set('trust proxy', config.trustProxy);
  instance.set('etag', false);
  // first, so every response (errors included) carries X-Request-Id and is logged and counted
  app.use(requestObservability(logger, app.get(Metrics), { projectId: process.env.GOOGLE_CLOUD_PROJECT?.trim() || null }));
  app.use(unreadBodyLinger());
  app.use(securityHeaders(config));
  app.use(cors(config));
  applyServerLimits(app.getHttpServer(), config);
  // no enableShutdownHooks(): main.ts owns SIGTERM (drain, then close) and Nest's handler would race it
  setupOpenApi(app);
  await app.init();
  app.get(RouteTable).load(instance);
  return app;
}
