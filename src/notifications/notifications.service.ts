import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../common/errors';
import type { Page } from '../common/validation';
import type { ListResult } from '../common/wire';
import type { CreateNotificationInput } from './dto/create-notification.input';
import { Notification } from './notification.entity';
import { NotificationsRepository } from './notifications.repository';

/** Global broadcasts: created and deleted by admins, read by everyone, never edited. */
@Injectable()
export class NotificationsService {
  constructor(private readonly notifications: NotificationsRepository) {}

  list(page: Page): Promise<ListResult<Notification>> {
    return this.notifications.list(page);
  }

  async get(id: number): Promise<Notification> {
    const n = await this.notifications.findById(id);
    if (!n) {
      throw new NotFoundError('Notification');
    }
    return n;
  }

  create(input: CreateNotificationInput): Promise<Notification> {
    return this.notifications.insert({ title: input.title, message: input.message, createdAt: new Date() });
  }

  async remove(id: number): Promise<void> {
    if (!(await this.notifications.deleteById(id))) {
      throw new NotFoundError('Notification');
    }
  }
}
