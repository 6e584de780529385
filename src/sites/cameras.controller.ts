import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../common/decorators';
import { parseId, parseOptionalIdQuery, parsePage } from '../common/validation';
import { ApiAuth, ApiIdRoute, ApiInput, ApiList } from '../common/api-docs';
import { collectErrors } from '../common/body-validation';
import { AppConfig } from '../config/config';
import { CamerasService } from './cameras.service';
import { CameraDto, CameraInputDto, CameraWithKeyDto, DeviceKeyDto } from './dto/site.dto';
import { parseCreateCamera, parseUpdateCamera } from './dto/site.input';
import type { CameraDetail } from './site-graph';
import { presentCamera, presentCameraWithKey, presentDeviceKey } from './sites.presenter';

@ApiTags('cameras')
@ApiBearerAuth()
@Controller('cameras')
export class CamerasController {
  constructor(
    private readonly cameras: CamerasService,
    private readonly config: AppConfig,
  ) {}

  private present(detail: CameraDetail): CameraDto {
    return presentCamera(detail, this.config.occupancy.cameraOfflineAfterMs);
  }

  @Get()
  @ApiOperation({ summary: 'List cameras (id ascending), optionally of one zone' })
  @ApiList(CameraDto, [{ name: 'zone_id', description: 'only cameras of this zone; unknown ids give []' }])
  @ApiAuth(false)
  async list(@Query() query: Record<string, unknown>, @Res({ passthrough: true }) res: Response): Promise<CameraDto[]> {
    const [page, zoneId] = collectErrors(
      () => parsePage(query),
      () => parseOptionalIdQuery(query, 'zone_id'),
    );
    const result = await this.cameras.list(page, { zoneId });
    res.setHeader('X-Total-Count', String(result.total));
    return result.items.map((d) => this.present(d));
  }

  @Post()
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Create a camera; the response carries its device key, shown only this once' })
  @ApiInput(CameraInputDto)
  @ApiCreatedResponse({ type: CameraWithKeyDto })
  @ApiAuth(true)
  async create(@Body() body: unknown): Promise<CameraWithKeyDto> {
    const input = await parseCreateCamera(body, (id) => this.cameras.zoneExists(id));
    const { detail, key } = await this.cameras.create(input);
    return presentCameraWithKey(detail, key, this.config.occupancy.cameraOfflineAfterMs);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One camera with its zone and organization' })
  @ApiIdRoute('Camera')
  @ApiOkResponse({ type: CameraDto })
  @ApiAuth(false)
  async get(@Param('id') id: string): Promise<CameraDto> {
    return this.present(await this.cameras.get(parseId(id)));
  }

  @Put(':id')
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Partial update (same as PATCH); zone_id moves the camera' })
  @ApiIdRoute('Camera')
  @ApiInput(CameraInputDto, 'every field optional')
  @ApiOkResponse({ type: CameraDto })
  @ApiAuth(true)
  put(@Param('id') id: string, @Body() body: unknown): Promise<CameraDto> {
    return this.update(parseId(id), body);
  }

  @Patch(':id')
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Partial update; zone_id moves the camera' })
  @ApiIdRoute('Camera')
  @ApiInput(CameraInputDto, 'every field optional')
  @ApiOkResponse({ type: CameraDto })
  @ApiAuth(true)
  patch(@Param('id') id: string, @Body() body: unknown): Promise<CameraDto> {
    return this.update(parseId(id), body);
  }

  @Delete(':id')
  @Roles('ADMIN')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete, with its alerts' })
  @ApiIdRoute('Camera')
  @ApiNoContentResponse()
  @ApiAuth(true)
  async remove(@Param('id') id: string): Promise<void> {
    await this.cameras.remove(parseId(id));
  }

  @Post(':id/rotate-key')
  @Roles('ADMIN')
  @HttpCode(200)
  @ApiOperation({ summary: 'Issue a new device key; the old one stops working at once' })
  @ApiIdRoute('Camera')
  @ApiOkResponse({ type: DeviceKeyDto })
  @ApiAuth(true)
  async rotateKey(@Param('id') id: string): Promise<DeviceKeyDto> {
    return presentDeviceKey(await this.cameras.rotateKey(parseId(id)));
  }

  /** 404 before the body's 400 (spec §2). */
  private async update(id: number, body: unknown): Promise<CameraDto> {
    await this.cameras.assertExists(id);
    const input = await parseUpdateCamera(body, (zid) => this.cameras.zoneExists(zid));
    return this.present(await this.cameras.update(id, input));
  }
}
