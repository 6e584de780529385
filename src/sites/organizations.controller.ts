import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { answeredNotModified, listEtag, sendList } from '../common/conditional-get';
import { Roles } from '../common/decorators';
import { ChangeVersionsRepository } from '../database/change-versions.repository';
import { parseId, parsePage } from '../common/validation';
import { ApiAuth, ApiIdRoute, ApiInput, ApiList } from '../common/api-docs';
import { OrganizationDto, OrganizationInputDto } from './dto/site.dto';
import { parseCreateOrganization, parseUpdateOrganization } from './dto/site.input';
import { OrganizationsService } from './organizations.service';
import { presentOrganization } from './sites.presenter';

@ApiTags('organizations')
@ApiBearerAuth()
@Controller('organizations')
export class OrganizationsController {
  constructor(
    private readonly organizations: OrganizationsService,
    private readonly versions: ChangeVersionsRepository,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List organizations with their zones and cameras (newest first)' })
  @ApiList(OrganizationDto, [], { conditional: true })
  @ApiAuth(false)
  async list(@Query() query: Record<string, unknown>, @Headers('if-none-match') ifNoneMatch: string | undefined, @Res() res: Response): Promise<void> {
    const page = parsePage(query); // 400 before 304
    // organizations, zones and cameras; not the cameras' liveness columns (no trigger on them)
    const etag = listEtag('/organizations/', { limit: page.limit, offset: page.offset }, await this.versions.read(['sites']));
    if (answeredNotModified(res, etag, ifNoneMatch)) {
      return;
    }
    await sendList(res, etag, async () => {
      const result = await this.organizations.list(page);
      return { items: result.items.map(presentOrganization), total: result.total };
    });
  }

  @Post()
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Create an organization' })
  @ApiInput(OrganizationInputDto)
  @ApiCreatedResponse({ type: OrganizationDto })
  @ApiAuth(true)
  async create(@Body() body: unknown): Promise<OrganizationDto> {
    return presentOrganization(await this.organizations.create(await parseCreateOrganization(body)));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One organization with its zones and cameras' })
  @ApiIdRoute('Organization')
  @ApiOkResponse({ type: OrganizationDto })
  @ApiAuth(false)
  async get(@Param('id') id: string): Promise<OrganizationDto> {
    return presentOrganization(await this.organizations.get(parseId(id)));
  }

  @Put(':id')
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Partial update (same as PATCH)' })
  @ApiIdRoute('Organization')
  @ApiInput(OrganizationInputDto, 'every field optional')
  @ApiOkResponse({ type: OrganizationDto })
  @ApiAuth(true)
  put(@Param('id') id: string, @Body() body: unknown): Promise<OrganizationDto> {
    return this.update(parseId(id), body);
  }

  @Patch(':id')
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Partial update' })
  @ApiIdRoute('Organization')
  @ApiInput(OrganizationInputDto, 'every field optional')
  @ApiOkResponse({ type: OrganizationDto })
  @ApiAuth(true)
  patch(@Param('id') id: string, @Body() body: unknown): Promise<OrganizationDto> {
    return this.update(parseId(id), body);
  }

  @Delete(':id')
  @Roles('ADMIN')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete, with its zones, cameras, alerts and carbon logs' })
  @ApiIdRoute('Organization')
  @ApiNoContentResponse()
  @ApiAuth(true)
  async remove(@Param('id') id: string): Promise<void> {
    await this.organizations.remove(parseId(id));
  }

  /** 404 before the body's 400 (spec §2). */
  private async update(id: number, body: unknown): Promise<OrganizationDto> {
    await this.organizations.assertExists(id);
    return presentOrganization(await this.organizations.update(id, await parseUpdateOrganization(body)));
  }
}
