import type { Type } from '@nestjs/common';
import { AlertsModule } from './alerts/alerts.module';
import { DetectionModule } from './detection/detection.module';
import { NotificationsModule } from './notifications/notifications.module';
import { SitesModule } from './sites/sites.module';

/**
 * Feature modules mounted by AppModule. Each feature adds its module here (one line) so
 * the composition root does not need to change as features land.
 */
export const FEATURE_MODULES: Type[] = [DetectionModule, SitesModule, AlertsModule, NotificationsModule];
