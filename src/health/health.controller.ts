import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Public } from '../common/decorators';
import { HealthReport, HealthService } from './health.service';

@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Public()
  @Get('api/status')
  status(): { status: string; message: string } {
    return { status: 'OK', message: 'Ecoflow system is operational.' };
  }

  @Public()
  @Get('api/health')
  async report(@Res({ passthrough: true }) res: Response): Promise<HealthReport> {
    const report = await this.health.report();
    res.status(report.overall_status === 'OK' ? 200 : 503);
    return report;
  }

  /** Cloud Run liveness: the event loop answers; no dependency is consulted. */
  @Public()
  @Get('health/live')
  @HttpCode(200)
  live(): { status: string } {
    return { status: 'alive' };
  }

  /** Cloud Run startup/readiness: database answers within 2 s, schema current, not draining. */
  @Public()
  @Get('health/ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<{ status: string }> {
    const ok = await this.health.ready();
    res.status(ok ? 200 : 503);
    return { status: ok ? 'ready' : 'not_ready' };
  }
}
