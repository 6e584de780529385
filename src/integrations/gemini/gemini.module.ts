import { Module } from '@nestjs/common';
import { ImagesModule } from '../images/images.module';
import { GeminiClient } from './gemini.client';

@Module({ imports: [ImagesModule], providers: [GeminiClient], exports: [GeminiClient] })
export class GeminiModule {}
