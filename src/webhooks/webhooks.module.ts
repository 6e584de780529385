import { Module } from '@nestjs/common';

/** Webhooks (ALERTING.md §2): admin API and the signed delivery channel. */
@Module({})
export class WebhooksModule {}
