import { Module } from '@nestjs/common';
import { WebhookClient } from './webhook.client';

@Module({ providers: [WebhookClient], exports: [WebhookClient] })
export class WebhookClientModule {}
