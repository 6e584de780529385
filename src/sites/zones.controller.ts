import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../common/decorators';
import { parseId, parseOptionalIdQuery, parsePage } from '../common/validation';
import { ApiAuth, ApiIdRoute, ApiInput, ApiList } from '../common/api-docs';
import { collectErrors } from '../common/body-validation';
import { ZoneDto, ZoneInputDto } from './dto/site.dto';
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
    return result.items;
  }

  @Post()
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Create a zone in an organization' })
  @ApiInput(ZoneInputDto)
  @ApiCreatedResponse({ type: ZoneDto })
  @ApiAuth(true)
  create(@Body() body: unknown): Promise<ZoneDto> {
    return this.zones.create(body);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One zone with its organization and cameras' })
  @ApiIdRoute('Zone')
  @ApiOkResponse({ type: ZoneDto })
  @ApiAuth(false)
  get(@Param('id') id: string): Promise<ZoneDto> {
    return this.zones.get(parseId(id));
  }

  @Put(':id')
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Partial update (same as PATCH); organization_id moves the zone' })
  @ApiIdRoute('Zone')
  @ApiInput(ZoneInputDto, 'every field optional')
  @ApiOkResponse({ type: ZoneDto })
  @ApiAuth(true)
  put(@Param('id') id: string, @Body() body: unknown): Promise<ZoneDto> {
    return this.zones.update(parseId(id), body);
  }

  @Patch(':id')
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Partial update; organization_id moves the zone' })
  @ApiIdRoute('Zone')
  @ApiInput(ZoneInputDto, 'every field optional')
  @ApiOkResponse({ type: ZoneDto })
  @ApiAuth(true)
  patch(@Param('id') id: string, @Body() body: unknown): Promise<ZoneDto> {
    return this.zones.update(parseId(id), body);
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
}
