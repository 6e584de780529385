import { Module } from '@nestjs/common';
import { CarbonModule } from '../carbon/carbon.module';
import { CamerasController } from './cameras.controller';
import { CamerasRepository } from './cameras.repository';
import { CamerasService } from './cameras.service';
import { OrganizationsController } from './organizations.controller';
import { OrganizationsRepository } from './organizations.repository';
import { OrganizationsService } from './organizations.service';
import { SiteGraph } from './site-graph';
import { ZonesController } from './zones.controller';
import { ZonesRepository } from './zones.repository';
import { ZonesService } from './zones.service';

/**
 * Organizations, zones and cameras (spec §4.1, §4.3), device keys included. Other features read
 * sites through SiteGraph (existence checks) and the zone and camera repositories (the sensor).
 */
@Module({
  imports: [CarbonModule],
  controllers: [OrganizationsController, ZonesController, CamerasController],
  providers: [OrganizationsRepository, ZonesRepository, CamerasRepository, SiteGraph, OrganizationsService, ZonesService, CamerasService],
  exports: [SiteGraph, OrganizationsRepository, ZonesRepository, CamerasRepository],
})
export class SitesModule {}
