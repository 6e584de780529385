import { Module } from '@nestjs/common';
import { CrowdPredictionClient } from './crowd-prediction.client';

@Module({ providers: [CrowdPredictionClient], exports: [CrowdPredictionClient] })
export class CrowdPredictionModule {}
