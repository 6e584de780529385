import { Injectable } from '@nestjs/common';
import type { Page } from '../common/validation';
import type { ListResult } from '../common/wire';
import { DeliveriesRepository, type Delivery } from '../delivery/deliveries.repository';
import type { CreateRecipientInput, UpdateRecipientInput } from './dto/recipient.input';
import type { Recipient } from './recipient';
import { RecipientNotFoundError } from './recipients.errors';
import { RecipientsRepository } from './recipients.repository';

@Injectable()
export class RecipientsService {
  constructor(
    private readonly recipients: RecipientsRepository,
    private readonly deliveries: DeliveriesRepository,
  ) {}

  list(page: Page, filter: { orgId?: number }): Promise<ListResult<Recipient>> {
    return this.recipients.findPage(page, filter);
  }

  async get(id: number): Promise<Recipient> {
    const r = await this.recipients.findById(id);
    if (!r) {
      throw new RecipientNotFoundError();
    }
    return r;
  }

  /** 404 unless it exists: PUT and PATCH answer that before validating the body. */
  async assertExists(id: number): Promise<void> {
    if (!(await this.recipients.exists(id))) {
      throw new RecipientNotFoundError();
    }
  }

  /** The `organization_id` check of the body validation. */
  organizationExists(id: number): Promise<boolean> {
    return this.recipients.organizationExists(id);
  }

  create(input: CreateRecipientInput): Promise<Recipient> {
    return this.recipients.insert(input, new Date());
  }

  /** PUT and PATCH alike; a recipient deleted meanwhile answers 404. */
  async update(id: number, input: UpdateRecipientInput): Promise<Recipient> {
    const r = await this.recipients.update(id, input, new Date());
    if (!r) {
      throw new RecipientNotFoundError();
    }
    return r;
  }

  /** Its deliveries, pending ones included, go with it. */
  async remove(id: number): Promise<void> {
    if (!(await this.recipients.delete(id))) {
      throw new RecipientNotFoundError();
    }
  }

  /** The recipient's WhatsApp deliveries, newest first. */
  async deliveriesOf(id: number, page: Page): Promise<ListResult<Delivery>> {
    await this.assertExists(id);
    return this.deliveries.findPage('whatsapp', id, page);
  }
}
