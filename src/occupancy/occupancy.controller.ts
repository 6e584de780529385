import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiAuth, ApiIdRoute, ApiList } from '../common/api-docs';
import { collectErrors } from '../common/body-validation';
import { answeredNotModified, listEtag, sendList } from '../common/conditional-get';
import { AppConfig } from '../config/config';
import { ChangeVersionsRepository } from '../database/change-versions.repository';
import { parseId, parseOptionalIdQuery, parsePage } from '../common/validation';
import { BUCKETS, MAX_POINTS, parseHistoryQuery } from './dto/history-query';
import { OccupancyHistoryDto, ZoneOccupancyDto } from './dto/occupancy.dto';
import { OccupancyService } from './occupancy.service';

/** Zones on one board answer without `limit` (a 10 000-zone board is ~2 MB of JSON). */
export const BOARD_MAX = 10000;

@ApiTags('occupancy')
@ApiBearerAuth()
@Controller()
export class OccupancyController {
  constructor(
    private readonly occupancy: OccupancyService,
    private readonly versions: ChangeVersionsRepository,
    private readonly config: AppConfig,
  ) {}

  @Get('occupancy')
  @ApiOperation({
    summary: 'Live board: every zone (id ascending) with its latest reading and newest open alert (ALERTING.md §6)',
    description: `Without \`limit\`, every zone (up to ${BOARD_MAX}); \`limit\`/\`offset\` page it like other lists, \`limit\` up to ${BOARD_MAX}.`,
  })
  @ApiList(ZoneOccupancyDto, [{ name: 'org_id', description: 'only zones of this organization; unknown ids give []' }], { conditional: true })
  @ApiAuth(false)
  async board(@Query() query: Record<string, unknown>, @Headers('if-none-match') ifNoneMatch: string | undefined, @Res() res: Response): Promise<void> {
    // 400 before 304: a bad query is never answered from a tag
    const [page, orgId] = collectErrors(
      // "every zone" (ALERTING.md §6): one answer up to BOARD_MAX zones, paged beyond
      () => parsePage(query, { defaultLimit: BOARD_MAX, maxLimit: BOARD_MAX }),
      () => parseOptionalIdQuery(query, 'org_id'),
    );
    // The board also changes with time alone: a zone turns STALE OCCUPANCY_STALE_AFTER after its
    // latest reading, without any write. Rather than a time bucket in the tag (which would turn
    // every poll of an idle board into a full read, and show STALE up to a bucket late), the tag
    // carries the newest latest-reading time that is already stale at `now` (read with the
    // versions, same statement): with no write it names the set of STALE zones exactly, so the
    // tag changes exactly when one more zone turns STALE. The board is then built with the same
    // `now`, so a 200's body and its tag agree on which zones are STALE.
    const now = new Date();
    const versions = await this.versions.read(['occupancy', 'alerts', 'sites'], new Date(now.getTime() - this.config.occupancy.staleAfterMs));
    const etag = listEtag('/occupancy/', { limit: page.limit, offset: page.offset, org_id: orgId }, versions);
    if (answeredNotModified(res, etag, ifNoneMatch)) {
      return;
    }
    // a cached board is as of its tag: the staleness marker in the tag fixes which zones are STALE
    await sendList(res, etag, () => this.occupancy.board(page, { orgId }, now));
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
