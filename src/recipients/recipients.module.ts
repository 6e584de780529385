import { Module } from '@nestjs/common';

/** WhatsApp recipients (ALERTING.md §3): admin API and the gateway delivery channel. */
@Module({})
export class RecipientsModule {}
