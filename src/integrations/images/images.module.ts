import { Module } from '@nestjs/common';
import { ImageDecodes, SnapshotDecodes } from './image-decodes';

@Module({ providers: [ImageDecodes, SnapshotDecodes], exports: [ImageDecodes, SnapshotDecodes] })
export class ImagesModule {}
