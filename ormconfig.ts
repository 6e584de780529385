import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/config';
import { buildDataSourceOptions } from './src/database/data-source-options';

/**
 * The DataSource the TypeORM CLI uses (`npm run migration:generate`), built from the same
 * environment variables and options as the service. Migrations are applied with
 * `npm run migration:run`, which holds the advisory lock (src/database/migrator.ts).
 */
export default new DataSource(buildDataSourceOptions(loadConfig(process.env)));
