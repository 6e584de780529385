import { isoTimestamp } from '../common/wire';
import type { NotificationDto } from './dto/notification.dto';
import type { Notification } from './notification.entity';

export function presentNotification(n: Notification): NotificationDto {
  return { id: n.id, title: n.title, message: n.message, created_at: isoTimestamp(n.createdAt) };
}
