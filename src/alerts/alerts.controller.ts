import { applyDecorators, Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentUser, Roles } from '../common/decorators';
import { PermissionDeniedError } from '../common/errors';
import { parseChoiceQuery, parseId, parseOptionalIdQuery, parsePage } from '../common/validation';
import { ApiAuth, ApiIdRoute, ApiInput, ApiList, ErrorDetailDto } from '../common/api-docs';
import { collectErrors } from '../common/body-validation';
import { answeredNotModified, listEtag, sendList } from '../common/conditional-get';
import { ChangeVersionsRepository } from '../database/change-versions.repository';
import type { User } from '../users/user.entity';
import { ALERT_STATUSES } from './alert.entity';
import { presentAlert } from './alerts.presenter';
import { AlertsService } from './alerts.service';
import { AlertCreateDto, AlertDto, AlertUpdateDto } from './dto/alert.dto';
import { changesText, parseCreateAlert, parseUpdateAlert } from './dto/alert.input';

/** PUT and PATCH are the same partial update; Nest needs a handler per method, so they share the docs. */
const ApiAlertUpdate = (): MethodDecorator =>
  applyDecorators(
    ApiIdRoute('Alert'),
    ApiInput(AlertUpdateDto),
    ApiOkResponse({ type: AlertDto }),
    ApiForbiddenResponse({ type: ErrorDetailDto, description: 'a non-admin changing heading or sub_heading' }),
    ApiConflictResponse({ type: ErrorDetailDto, description: 'reopening while another open alert exists for this zone and camera' }),
    ApiAuth(false),
  );

@ApiTags('alerts')
@ApiBearerAuth()
@Controller('alerts')
export class AlertsController {
  constructor(
    private readonly alerts: AlertsService,
    private readonly versions: ChangeVersionsRepository,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List alerts, newest first; filters are AND-combined' })
  @ApiList(
    AlertDto,
    [
      { name: 'status', description: 'OPEN or CLOSED (case-sensitive)', enum: [...ALERT_STATUSES] },
      { name: 'org_id', description: "alerts whose zone belongs to this organization" },
      { name: 'zone_id', description: 'alerts of this zone' },
    ],
    { conditional: true },
  )
  @ApiAuth(false)
  async list(@Query() query: Record<string, unknown>, @Headers('if-none-match') ifNoneMatch: string | undefined, @Res() res: Response): Promise<void> {
    // 400 before 304: a bad query is never answered from a tag
    const [page, status, orgId, zoneId] = collectErrors(
      () => parsePage(query),
      () => parseChoiceQuery(query, 'status', ALERT_STATUSES),
      () => parseOptionalIdQuery(query, 'org_id'),
      () => parseOptionalIdQuery(query, 'zone_id'),
    );
    // 'sites' too: org_id and zone_id select through lims_zone and lims_camera, and an adopted
    // Django alert without a zone shows its camera's zone, which moves with the camera
    const versions = await this.versions.read(['alerts', 'sites']);
    const etag = listEtag('/alerts/', { limit: page.limit, offset: page.offset, status, org_id: orgId, zone_id: zoneId }, versions);
    if (answeredNotModified(res, etag, ifNoneMatch)) {
      return;
    }
    await sendList(res, etag, async () => {
      const result = await this.alerts.list(page, { status, orgId, zoneId });
      return { items: result.items.map(presentAlert), total: result.total };
    });
  }

  @Post()
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Create an alert' })
  @ApiInput(AlertCreateDto)
  @ApiCreatedResponse({ type: AlertDto })
  @ApiConflictResponse({ type: ErrorDetailDto, description: 'an open alert already exists for this zone and camera' })
  @ApiAuth(true)
  async create(@Body() body: unknown): Promise<AlertDto> {
    const input = await parseCreateAlert(body, this.alerts.refChecks());
    return presentAlert(await this.alerts.create(input));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One alert' })
  @ApiIdRoute('Alert')
  @ApiOkResponse({ type: AlertDto })
  @ApiAuth(false)
  async get(@Param('id') id: string): Promise<AlertDto> {
    return presentAlert(await this.alerts.get(parseId(id)));
  }

  @Put(':id')
  @ApiOperation({ summary: 'Partial update (same as PATCH): any user may change status, ADMIN also heading/sub_heading' })
  @ApiAlertUpdate()
  put(@Param('id') id: string, @Body() body: unknown, @CurrentUser() user: User): Promise<AlertDto> {
    return this.update(parseId(id), body, user);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Partial update: any user may change status, ADMIN also heading/sub_heading' })
  @ApiAlertUpdate()
  patch(@Param('id') id: string, @Body() body: unknown, @CurrentUser() user: User): Promise<AlertDto> {
    return this.update(parseId(id), body, user);
  }

  @Post(':id/acknowledge')
  @HttpCode(200)
  @ApiOperation({ summary: 'Acknowledge an open alert: stops its reminders; repeating it changes nothing (ALERTING.md §5)' })
  @ApiIdRoute('Alert')
  @ApiOkResponse({ type: AlertDto })
  @ApiConflictResponse({ type: ErrorDetailDto, description: '{"detail":"Alert is closed."}' })
  @ApiAuth(false)
  async acknowledge(@Param('id') id: string, @CurrentUser() user: User): Promise<AlertDto> {
    return presentAlert(await this.alerts.acknowledge(parseId(id), user.id));
  }

  @Get(':id/snapshot')
  @ApiOperation({ summary: 'The image that opened the alert: JPEG, longest side at most 1024 px, metadata stripped' })
  @ApiIdRoute('Alert')
  @ApiProduces('image/jpeg')
  @ApiOkResponse({ description: 'the snapshot', content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } } })
  @ApiNotFoundResponse({ type: ErrorDetailDto, description: '{"detail":"No snapshot."} when the alert keeps no image' })
  @ApiAuth(false)
  async snapshot(@Param('id') id: string, @Res() res: Response): Promise<void> {
    const jpeg = await this.alerts.snapshot(parseId(id));
    res.setHeader('Content-Type', 'image/jpeg');
    res.setHeader('Cache-Control', 'private, max-age=86400');
    res.setHeader('Content-Length', String(jpeg.length));
    res.end(jpeg);
  }

  @Delete(':id')
  @Roles('ADMIN')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an alert' })
  @ApiIdRoute('Alert')
  @ApiNoContentResponse()
  @ApiAuth(true)
  async remove(@Param('id') id: string): Promise<void> {
    await this.alerts.remove(parseId(id));
  }

  /**
   * 404, then 403, then 400 (spec §2, §4.3): any user may change `status`, only ADMIN `heading`
   * and `sub_heading`, a field-level @Roles checked before the body is validated.
   */
  private async update(id: number, body: unknown, user: User): Promise<AlertDto> {
    const current = await this.alerts.get(id);
    if (user.role !== 'ADMIN' && changesText(body, current)) {
      throw new PermissionDeniedError();
    }
    return presentAlert(await this.alerts.update(id, parseUpdateAlert(body), user.id));
  }
}
