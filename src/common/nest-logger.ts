import type { LoggerService } from '@nestjs/common';
import type { AppLogger } from './logger';

/**
 * Routes Nest's own log lines (bootstrap, TypeORM retries) into the JSON logger. The logger it is
 * given is already bound to `context: "Nest"` (app.factory.ts), so Nest's own context
 * ("InstanceLoader", "ExceptionHandler", …) goes into `nest_context`: a second `context` key would
 * make the JSON line carry the key twice.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: AppLogger) {}

  log(message: unknown, context?: string): void {
    // Nest's per-route/per-module boot chatter is debug-level noise in production logs
    this.logger.debug({ nest_context: context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ nest_context: context, stack: trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ nest_context: context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ nest_context: context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ nest_context: context }, String(message));
  }
}
