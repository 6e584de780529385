import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../config/config';
import { buildDataSourceOptions } from './data-source-options';
import { pendingMigrations, revertLastMigration, runMigrations } from './migrator';

/**
 * `node dist/src/database/cli.js run|revert|status`: the migration step of a deploy
 * (and `npm run migration:run`). Holds the same advisory lock as startup migrations.
 */
async function main(): Promise<number> {
  const cmd = process.argv[2] ?? 'run';
  const config = loadConfig(process.env);
  const ds = await new DataSource(buildDataSourceOptions(config)).initialize();
  try {
    switch (cmd) {
      case 'run': {
        const applied = await runMigrations(ds);
        console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Schema is current; nothing to apply.');
        return 0;
      }
      case 'revert': {
        const v = await revertLastMigration(ds);
        console.log(v ? `Reverted: ${v}` : 'No migration to revert.');
        return 0;
      }
      case 'status': {
        const pending = await pendingMigrations(ds);
        console.log(pending.length ? `Pending: ${pending.join(', ')}` : 'Schema is current.');
        return pending.length ? 3 : 0;
      }
      default:
        console.error(`Unknown command "${cmd}". Use run, revert or status.`);
        return 2;
    }
  } finally {
    await ds.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : `Migration failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
