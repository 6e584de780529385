import { Module } from '@nestjs/common';
import { WhatsAppModule } from '../integrations/whatsapp/whatsapp.module';
import { RecipientsController } from './recipients.controller';
import { RecipientsRepository } from './recipients.repository';
import { RecipientsService } from './recipients.service';
import { WhatsAppChannel } from './whatsapp.channel';

/** WhatsApp recipients (ALERTING.md §3): admin API and the gateway delivery channel. */
@Module({
  imports: [WhatsAppModule],
  controllers: [RecipientsController],
  providers: [RecipientsRepository, RecipientsService, WhatsAppChannel],
})
export class RecipientsModule {}
