import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../common/decorators';
import { parseId, parsePage } from '../common/validation';
import { ApiAuth, ApiIdRoute, ApiInput, ApiList } from '../common/api-docs';
import { parseCreateNotification } from './dto/create-notification.input';
import { NotificationDto, NotificationInputDto } from './dto/notification.dto';
import { presentNotification } from './notifications.presenter';
import { NotificationsService } from './notifications.service';

// No PUT/PATCH handlers on purpose: the global filter answers them with 405 and Allow.
@ApiTags('notifications')
@ApiBearerAuth()
@Controller('notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  @ApiOperation({ summary: 'List notifications, newest first' })
  @ApiList(NotificationDto)
  @ApiAuth(false)
  async list(@Query() query: Record<string, unknown>, @Res({ passthrough: true }) res: Response): Promise<NotificationDto[]> {
    const result = await this.notifications.list(parsePage(query));
    res.setHeader('X-Total-Count', String(result.total));
    return result.items.map(presentNotification);
  }

  @Post()
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Broadcast a notification' })
  @ApiInput(NotificationInputDto)
  @ApiCreatedResponse({ type: NotificationDto })
  @ApiAuth(true)
  async create(@Body() body: unknown): Promise<NotificationDto> {
    return presentNotification(await this.notifications.create(parseCreateNotification(body)));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One notification' })
  @ApiIdRoute('Notification')
  @ApiOkResponse({ type: NotificationDto })
  @ApiAuth(false)
  async get(@Param('id') id: string): Promise<NotificationDto> {
    return presentNotification(await this.notifications.get(parseId(id)));
  }

  @Delete(':id')
  @Roles('ADMIN')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a notification' })
  @ApiIdRoute('Notification')
  @ApiNoContentResponse()
  @ApiAuth(true)
  async remove(@Param('id') id: string): Promise<void> {
    await this.notifications.remove(parseId(id));
  }
}
