import { Controller, Get, Headers, Res } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { Response } from 'express';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { Public, Roles } from '../common/decorators';
import { PermissionDeniedError } from '../common/errors';
import { AppConfig } from '../config/config';
import { ClusterMetrics } from './cluster-metrics';

export interface MemoryReport {
  rss: number;
  heap_used: number;
  heap_total: number;
  external: number;
}

const MB = 2 ** 20;
const mb = (bytes: number): number => Math.round((bytes / MB) * 100) / 100;

/** Operations endpoints of spec §7: process memory and the Prometheus scrape. */
@Controller()
export class OpsController {
  constructor(
    private readonly metrics: ClusterMetrics,
    private readonly config: AppConfig,
    private readonly auth: JwtAuthGuard,
  ) {}

  /** This process's memory (with WEB_CONCURRENCY > 1: the worker that answered; /metrics sums them). */
  @Roles('ADMIN')
  @Get('api/memory')
  memory(): MemoryReport {
    const m = process.memoryUsage();
    return { rss: mb(m.rss), heap_used: mb(m.heapUsed), heap_total: mb(m.heapTotal), external: mb(m.external) };
  }

  /**
   * Public to the global guard because a scraper may hold METRICS_TOKEN instead of a user
   * token; the check is done here: that token, or an ADMIN access token, else 401/403.
   */
  @Public()
  @Get('metrics')
  async scrape(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) res: Response): Promise<string> {
    if (!this.isMetricsToken(authorization)) {
      const user = await this.auth.authenticate(authorization);
      if (user.role !== 'ADMIN') {
        throw new PermissionDeniedError();
      }
    }
    res.setHeader('Content-Type', this.metrics.contentType);
    res.setHeader('Cache-Control', 'no-store');
    return this.metrics.scrape();
  }

  private isMetricsToken(header: string | undefined): boolean {
    const token = this.config.metricsToken;
    if (!token || !header) {
      return false;
    }
    const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!m) {
      return false;
    }
    const a = Buffer.from(m[1]);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
