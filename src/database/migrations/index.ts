import { AdoptOrCreateSchema1732300000000 } from './1732300000000-adopt-or-create-schema';

/** Every migration, oldest first. `npm run migration:generate` output is added here. */
export const MIGRATIONS = [AdoptOrCreateSchema1732300000000];
