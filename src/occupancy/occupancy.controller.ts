import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiAuth, ApiIdRoute, ApiList } from '../common/api-docs';
import { collectErrors } from '../common/body-validation';
import { parseId, parseOptionalIdQuery, parsePage } from '../common/validation';
import { BUCKETS, MAX_POINTS, parseHistoryQuery } from './dto/history-query';
import { OccupancyHistoryDto, ZoneOccupancyDto } from './dto/occupancy.dto';
import { OccupancyService } from './occupancy.service';

@ApiTags('occupancy')
@ApiBearerAuth()
@Controller()
export class OccupancyController {
  constructor(private readonly occupancy: OccupancyService) {}

  @Get('occupancy')
  @ApiOperation({ summary: 'Live board: every zone (id ascending) with its latest reading and newest open alert (ALERTING.md §6)' })
  @ApiList(ZoneOccupancyDto, [{ name: 'org_id', description: 'only zones of this organization; unknown ids give []' }])
  @ApiAuth(false)
  async board(@Query() query: Record<string, unknown>, @Res({ passthrough: true }) res: Response): Promise<ZoneOccupancyDto[]> {
    const [page, orgId] = collectErrors(
      () => parsePage(query),
      () => parseOptionalIdQuery(query, 'org_id'),
    );
    const result = await this.occupancy.board(page, { orgId });
    res.setHeader('X-Total-Count', String(result.total));
    return result.items;
  }

  @Get('zones/:id/occupancy')
  @ApiOperation({
    summary: 'Occupancy history of one zone in UTC-aligned buckets (ALERTING.md §6)',
    description:
      `1m/5m/15m buckets come from raw readings with from ≤ measured_at < to; 1h/1d from hourly roll-ups (kept after raw readings are purged), ` +
      `whole hours from the bucket holding \`from\` to the hour holding \`to\`. Empty buckets are omitted; more than ${MAX_POINTS} buckets in the range is a 400.`,
  })
  @ApiIdRoute('Zone')
  @ApiQuery({ name: 'from', required: false, type: String, description: 'ISO-8601 timestamp (no offset = UTC); default to − 24 h' })
  @ApiQuery({ name: 'to', required: false, type: String, description: 'ISO-8601 timestamp, exclusive; default now' })
  @ApiQuery({ name: 'bucket', required: false, enum: [...BUCKETS], description: 'default 5m' })
  @ApiOkResponse({ type: OccupancyHistoryDto })
  @ApiBadRequestResponse({ description: 'bad id, bucket, from or to; from not before to; {"bucket":["Too many points; use a larger bucket."]}' })
  @ApiAuth(false)
  history(@Param('id') id: string, @Query() query: Record<string, unknown>): Promise<OccupancyHistoryDto> {
    // 400 (path and query) before 404 (API.md §2)
    const [zoneId, q] = collectErrors(
      () => parseId(id),
      () => parseHistoryQuery(query, new Date()),
    );
    return this.occupancy.history(zoneId, q);
  }
}
