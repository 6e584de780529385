import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../common/decorators';
import { parseId, parseOptionalIdQuery, parsePage } from '../common/validation';
import { ApiAuth, ApiIdRoute, ApiInput, ApiList } from '../common/api-docs';
import { collectErrors } from '../common/body-validation';
import { ZoneDto, ZoneInputDto } from './dto/site.dto';
import { parseCreateZone, parseUpdateZone } from './dto/site.input';
import { presentZone } from './sites.presenter';
import { ZonesService } from './zones.service';

@ApiTags('zones')
@ApiBearerAuth()
@Controller('zones')
export class ZonesController {
  constructor(private readonly zones: ZonesService) {}

  @Get()
  @ApiOperation({ summary: 'List zones (id ascending), optionally of one organization' })
  @ApiList(ZoneDto, [{ name: 'org_id', description: 'only zones of this organization; unknown ids give []' }])
  @ApiAuth(false)
  async list(@Query() query: Record<string, unknown>, @Res({ passthrough: true }) res: Response): Promise<ZoneDto[]> {
    const [page, orgId] = collectErrors(
      () => parsePage(query),
      () => parseOptionalIdQuery(query, 'org_id'),
    );
    const result = await this.zones.list(page, { orgId });
    res.setHeader('X-Total-Count', String(result.total));
    return result.items.map(presentZone);
  }

  @Post()
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Create a zone in an organization' })
  @ApiInput(ZoneInputDto)
  @ApiCreatedResponse({ type: ZoneDto })
  @ApiAuth(true)
  async create(@Body() body: unknown): Promise<ZoneDto> {
    const input = await parseCreateZone(body, (id) => this.zones.organizationExists(id));
    return presentZone(await this.zones.create(input));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One zone with its organization and cameras' })
  @ApiIdRoute('Zone')
  @ApiOkResponse({ type: ZoneDto })
  @ApiAuth(false)
  async get(@Param('id') id: string): Promise<ZoneDto> {
    return presentZone(await this.zones.get(parseId(id)));
  }

  @Put(':id')
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Partial update (same as PATCH); organization_id moves the zone' })
  @ApiIdRoute('Zone')
  @ApiInput(ZoneInputDto, 'every field optional')
  @ApiOkResponse({ type: ZoneDto })
  @ApiAuth(true)
  put(@Param('id') id: string, @Body() body: unknown): Promise<ZoneDto> {
    return this.update(parseId(id), body);
  }

  @Patch(':id')
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Partial update; organization_id moves the zone' })
  @ApiIdRoute('Zone')
  @ApiInput(ZoneInputDto, 'every field optional')
  @ApiOkResponse({ type: ZoneDto })
  @ApiAuth(true)
  patch(@Param('id') id: string, @Body() body: unknown): Promise<ZoneDto> {
    return this.update(parseId(id), body);
  }

  @Delete(':id')
  @Roles('ADMIN')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete, with its cameras, alerts and carbon logs' })
  @ApiIdRoute('Zone')
  @ApiNoContentResponse()
  @ApiAuth(true)
  async remove(@Param('id') id: string): Promise<void> {
    await this.zones.remove(parseId(id));
  }

  /** 404 before the body's 400 (spec §2). */
  private async update(id: number, body: unknown): Promise<ZoneDto> {
    await this.zones.assertExists(id);
    const input = await parseUpdateZone(body, (oid) => this.zones.organizationExists(oid));
    return presentZone(await this.zones.update(id, input));
  }
}
