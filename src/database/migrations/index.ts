import { AdoptOrCreateSchema1732300000000 } from './1732300000000-adopt-or-create-schema';
import { EventsAndDelivery1764547200000 } from './1764547200000-events-and-delivery';
import { CarbonZoneTotals1764633602000 } from './1764633602000-carbon-zone-totals';
import { LifecycleAndOccupancy1764720000000 } from './1764720000000-lifecycle-and-occupancy';
import { ChangeVersions1764806400000 } from './1764806400000-change-versions';

/** Every migration, oldest first. `npm run migration:generate` output is added here. */
export const MIGRATIONS = [AdoptOrCreateSchema1732300000000, EventsAndDelivery1764547200000, CarbonZoneTotals1764633602000, LifecycleAndOccupancy1764720000000, ChangeVersions1764806400000];
