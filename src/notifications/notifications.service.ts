import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { NotFoundError } from '../common/errors';
import { validateBody, type Page, type Schema } from '../common/validation';
import { isoTimestamp, type ListResult } from '../common/wire';
import type { NotificationDto } from './dto/notification.dto';
import { Notification } from './notification.entity';

const NOTIFICATION_FIELDS = {
  title: { kind: 'string', max: 255, required: true },
  message: { kind: 'string', max: Number.MAX_SAFE_INTEGER, required: true },
} satisfies Schema;

function present(n: Notification): NotificationDto {
  return { id: n.id, title: n.title, message: n.message, created_at: isoTimestamp(n.createdAt) };
}

/** Global broadcasts: created and deleted by admins, read by everyone, never edited. */
@Injectable()
export class NotificationsService {
  constructor(@InjectRepository(Notification) private readonly notifications: Repository<Notification>) {}

  async list(page: Page): Promise<ListResult<NotificationDto>> {
    const [rows, total] = await this.notifications.findAndCount({ order: { createdAt: 'DESC', id: 'DESC' }, skip: page.offset, take: page.limit });
    return { items: rows.map(present), total };
  }

  async get(id: number): Promise<NotificationDto> {
    const n = await this.notifications.findOneBy({ id });
    if (!n) {
      throw new NotFoundError('Notification');
    }
    return present(n);
  }

  async create(body: unknown): Promise<NotificationDto> {
    const v = validateBody(body, NOTIFICATION_FIELDS, { partial: false });
    const saved = await this.notifications.save(this.notifications.create({ title: v.title, message: v.message, createdAt: new Date() }));
    return present(saved);
  }

  async remove(id: number): Promise<void> {
    const res = await this.notifications.createQueryBuilder().delete().from(Notification).where('id = :id', { id }).returning('id').execute();
    if (!(res.raw as unknown[]).length) {
      throw new NotFoundError('Notification');
    }
  }
}
