import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CarbonModule } from '../carbon/carbon.module';
import { Camera } from './camera.entity';
import { CamerasController } from './cameras.controller';
import { CamerasService } from './cameras.service';
import { Organization } from './organization.entity';
import { OrganizationsController } from './organizations.controller';
import { OrganizationsService } from './organizations.service';
import { SiteGraph } from './site-graph';
import { Zone } from './zone.entity';
import { ZonesController } from './zones.controller';
import { ZonesService } from './zones.service';

/** Organizations, zones and cameras (spec §4.1, §4.3), device keys included. */
@Module({
  imports: [TypeOrmModule.forFeature([Organization, Zone, Camera]), CarbonModule],
  controllers: [OrganizationsController, ZonesController, CamerasController],
  providers: [SiteGraph, OrganizationsService, ZonesService, CamerasService],
  exports: [SiteGraph],
})
export class SitesModule {}
