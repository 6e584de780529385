import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiAuth, ApiIdRoute, ApiInput, ApiList, ErrorDetailDto } from '../common/api-docs';
import { Roles } from '../common/decorators';
import { parseId, parsePage } from '../common/validation';
import { AppConfig } from '../config/config';
import { DeliveryDto, presentDelivery } from '../delivery/delivery.presenter';
import { WebhookDto, WebhookInputDto, WebhookSecretDto, WebhookTestDto, WebhookWithSecretDto } from './dto/webhook.dto';
import { parseCreateWebhook, parseUpdateWebhook, type WebhookInputRules } from './dto/webhook.input';
import { presentCreatedWebhook, presentWebhook } from './webhooks.presenter';
import { WebhooksService } from './webhooks.service';

/** Webhook subscriptions (ALERTING.md §2), ADMIN only. */
@ApiTags('webhooks')
@ApiBearerAuth()
@Roles('ADMIN')
@Controller('webhooks')
export class WebhooksController {
  private readonly rules: WebhookInputRules;

  constructor(
    private readonly webhooks: WebhooksService,
    config: AppConfig,
  ) {
    this.rules = { allowHttp: config.webhooks.allowHttp };
  }

  @Get()
  @ApiOperation({ summary: 'List webhooks (newest first); never their secrets' })
  @ApiList(WebhookDto)
  @ApiAuth(true)
  async list(@Query() query: Record<string, unknown>, @Res({ passthrough: true }) res: Response): Promise<WebhookDto[]> {
    const result = await this.webhooks.list(parsePage(query));
    res.setHeader('X-Total-Count', String(result.total));
    return result.items.map(presentWebhook);
  }

  @Post()
  @ApiOperation({ summary: 'Create a webhook; the answer carries its signing secret, shown only this once' })
  @ApiInput(WebhookInputDto)
  @ApiCreatedResponse({ type: WebhookWithSecretDto })
  @ApiAuth(true)
  async create(@Body() body: unknown): Promise<WebhookWithSecretDto> {
    const input = await parseCreateWebhook(body, (id) => this.webhooks.organizationExists(id), this.rules);
    return presentCreatedWebhook(await this.webhooks.create(input));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One webhook (never its secret)' })
  @ApiIdRoute('Webhook')
  @ApiOkResponse({ type: WebhookDto })
  @ApiAuth(true)
  async get(@Param('id') id: string): Promise<WebhookDto> {
    return presentWebhook(await this.webhooks.get(parseId(id)));
  }

  @Put(':id')
  @ApiOperation({ summary: 'Partial update (same as PATCH); is_active: true also clears disabled_reason' })
  @ApiIdRoute('Webhook')
  @ApiInput(WebhookInputDto, 'every field optional')
  @ApiOkResponse({ type: WebhookDto })
  @ApiAuth(true)
  put(@Param('id') id: string, @Body() body: unknown): Promise<WebhookDto> {
    return this.update(parseId(id), body);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Partial update; is_active: true also clears disabled_reason' })
  @ApiIdRoute('Webhook')
  @ApiInput(WebhookInputDto, 'every field optional')
  @ApiOkResponse({ type: WebhookDto })
  @ApiAuth(true)
  patch(@Param('id') id: string, @Body() body: unknown): Promise<WebhookDto> {
    return this.update(parseId(id), body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete; its pending deliveries are dropped' })
  @ApiIdRoute('Webhook')
  @ApiNoContentResponse()
  @ApiAuth(true)
  async remove(@Param('id') id: string): Promise<void> {
    await this.webhooks.remove(parseId(id));
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'New signing secret; the previous one keeps signing alongside it for 24 h' })
  @ApiIdRoute('Webhook')
  @ApiOkResponse({ type: WebhookSecretDto })
  @ApiAuth(true)
  rotateSecret(@Param('id') id: string): Promise<WebhookSecretDto> {
    return this.webhooks.rotateSecret(parseId(id));
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a webhook.test event to this endpoint only (not listed by GET /events/, never streamed)' })
  @ApiIdRoute('Webhook')
  @ApiAcceptedResponse({ type: WebhookTestDto })
  @ApiConflictResponse({ type: ErrorDetailDto, description: 'the webhook is not active' })
  @ApiAuth(true)
  async test(@Param('id') id: string): Promise<WebhookTestDto> {
    return { event_id: await this.webhooks.sendTest(parseId(id)) };
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: 'Delivery log of this webhook, newest first' })
  @ApiIdRoute('Webhook')
  @ApiList(DeliveryDto)
  @ApiAuth(true)
  async deliveries(@Param('id') id: string, @Query() query: Record<string, unknown>, @Res({ passthrough: true }) res: Response): Promise<DeliveryDto[]> {
    const webhookId = parseId(id);
    const result = await this.webhooks.deliveriesOf(webhookId, parsePage(query));
    res.setHeader('X-Total-Count', String(result.total));
    return result.items.map(presentDelivery);
  }

  @Post(':id/deliveries/:delivery_id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Attempt a failed or exhausted delivery again now; answers the delivery as rescheduled' })
  @ApiIdRoute('Webhook')
  @ApiParam({ name: 'delivery_id', type: Number, description: 'Delivery id (one of this webhook)' })
  @ApiAcceptedResponse({ type: DeliveryDto })
  @ApiConflictResponse({ type: ErrorDetailDto, description: 'the delivery is pending or succeeded, or the webhook is not active' })
  @ApiAuth(true)
  async retry(@Param('id') id: string, @Param('delivery_id') deliveryId: string): Promise<DeliveryDto> {
    const webhookId = parseId(id);
    const delivery = parseId(deliveryId, 'delivery_id');
    return presentDelivery(await this.webhooks.retry(webhookId, delivery));
  }

  /** 404 before the body's 400. */
  private async update(id: number, body: unknown): Promise<WebhookDto> {
    await this.webhooks.assertExists(id);
    const input = await parseUpdateWebhook(body, (oid) => this.webhooks.organizationExists(oid), this.rules);
    return presentWebhook(await this.webhooks.update(id, input));
  }
}
