import { Module } from '@nestjs/common';
import { ImageDecodes } from './image-decodes';

@Module({ providers: [ImageDecodes], exports: [ImageDecodes] })
export class ImagesModule {}
