import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { WebhookClientModule } from '../integrations/webhooks/webhook-client.module';
import { SitesModule } from '../sites/sites.module';
import { WebhookChannel } from './webhook.channel';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/** Webhooks (ALERTING.md §2): admin API and the signed delivery channel, registered with the outbox worker. */
@Module({
  imports: [SitesModule, EventsModule, WebhookClientModule],
  controllers: [WebhooksController],
  providers: [WebhooksRepository, WebhooksService, WebhookChannel],
})
export class WebhooksModule {}
