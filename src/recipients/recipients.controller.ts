import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiAuth, ApiIdRoute, ApiInput, ApiList } from '../common/api-docs';
import { collectErrors } from '../common/body-validation';
import { Roles } from '../common/decorators';
import { parseId, parseOptionalIdQuery, parsePage } from '../common/validation';
import { DeliveryDto, presentDelivery } from '../delivery/delivery.presenter';
import { RecipientDto, RecipientInputDto } from './dto/recipient.dto';
import { parseCreateRecipient, parseUpdateRecipient } from './dto/recipient.input';
import { presentRecipient } from './recipients.presenter';
import { RecipientsService } from './recipients.service';

/** WhatsApp alert recipients (ALERTING.md §3), admin only. */
@ApiTags('alert-recipients')
@ApiBearerAuth()
@Controller('alert-recipients')
export class RecipientsController {
  constructor(private readonly recipients: RecipientsService) {}

  @Get()
  @Roles('ADMIN')
  @ApiOperation({ summary: 'List WhatsApp alert recipients (id ascending), optionally of one organization' })
  @ApiList(RecipientDto, [{ name: 'org_id', description: 'only recipients of this organization' }])
  @ApiAuth(true)
  async list(@Query() query: Record<string, unknown>, @Res({ passthrough: true }) res: Response): Promise<RecipientDto[]> {
    const [page, orgId] = collectErrors(
      () => parsePage(query),
      () => parseOptionalIdQuery(query, 'org_id'),
    );
    const result = await this.recipients.list(page, { orgId });
    res.setHeader('X-Total-Count', String(result.total));
    return result.items.map(presentRecipient);
  }

  @Post()
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Add a WhatsApp alert recipient' })
  @ApiInput(RecipientInputDto)
  @ApiCreatedResponse({ type: RecipientDto })
  @ApiAuth(true)
  async create(@Body() body: unknown): Promise<RecipientDto> {
    const input = await parseCreateRecipient(body, (id) => this.recipients.organizationExists(id));
    return presentRecipient(await this.recipients.create(input));
  }

  @Get(':id')
  @Roles('ADMIN')
  @ApiOperation({ summary: 'One WhatsApp alert recipient' })
  @ApiIdRoute('AlertRecipient')
  @ApiOkResponse({ type: RecipientDto })
  @ApiAuth(true)
  async get(@Param('id') id: string): Promise<RecipientDto> {
    return presentRecipient(await this.recipients.get(parseId(id)));
  }

  @Put(':id')
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Partial update (same as PATCH)' })
  @ApiIdRoute('AlertRecipient')
  @ApiInput(RecipientInputDto, 'every field optional')
  @ApiOkResponse({ type: RecipientDto })
  @ApiAuth(true)
  put(@Param('id') id: string, @Body() body: unknown): Promise<RecipientDto> {
    return this.update(parseId(id), body);
  }

  @Patch(':id')
  @Roles('ADMIN')
  @ApiOperation({ summary: 'Partial update' })
  @ApiIdRoute('AlertRecipient')
  @ApiInput(RecipientInputDto, 'every field optional')
  @ApiOkResponse({ type: RecipientDto })
  @ApiAuth(true)
  patch(@Param('id') id: string, @Body() body: unknown): Promise<RecipientDto> {
    return this.update(parseId(id), body);
  }

  @Delete(':id')
  @Roles('ADMIN')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete, with its delivery log; pending messages to it are dropped' })
  @ApiIdRoute('AlertRecipient')
  @ApiNoContentResponse()
  @ApiAuth(true)
  async remove(@Param('id') id: string): Promise<void> {
    await this.recipients.remove(parseId(id));
  }

  @Get(':id/deliveries')
  @Roles('ADMIN')
  @ApiOperation({ summary: "The recipient's WhatsApp deliveries, newest first" })
  @ApiIdRoute('AlertRecipient')
  @ApiList(DeliveryDto)
  @ApiAuth(true)
  async deliveries(@Param('id') id: string, @Query() query: Record<string, unknown>, @Res({ passthrough: true }) res: Response): Promise<DeliveryDto[]> {
    const recipientId = parseId(id);
    const page = parsePage(query);
    const result = await this.recipients.deliveriesOf(recipientId, page);
    res.setHeader('X-Total-Count', String(result.total));
    return result.items.map(presentDelivery);
  }

  /** 404 before the body's 400. */
  private async update(id: number, body: unknown): Promise<RecipientDto> {
    await this.recipients.assertExists(id);
    const input = await parseUpdateRecipient(body, (oid) => this.recipients.organizationExists(oid));
    return presentRecipient(await this.recipients.update(id, input));
  }
}
