import { exitOnSignalUntilReady, report } from '../common/process-signals';

// First statement, as in main.ts: this is the Cloud Run job's command (node is PID 1), and a
// SIGTERM (job cancelled, task timeout) while it waits for the database or migrates must end it
// within 10 s. Exit code 1: the job did not finish; the database rolls back the migration that was
// running and releases the advisory lock when the connection drops.
const signals = exitOnSignalUntilReady({ phase: 'the migration command', code: 1 });

/**
 * `node dist/database/cli.js run|revert|status`: the migration step of a deploy
 * (and `npm run migration:run`). Holds the same advisory lock as startup migrations.
 * In production its lines are JSON like the service's (Cloud Logging), in development plain text.
 */
async function main(): Promise<number> {
  await import('reflect-metadata');
  const cmd = process.argv[2] ?? 'run';
  const { loadConfig } = await import('../config/config');
  const { createLogger } = await import('../common/logger');
  const config = loadConfig(process.env);
  signals.useLogger(createLogger(config.logLevel));
  const { DataSource } = await import('typeorm');
  const { buildDataSourceOptions } = await import('./data-source-options');
  const { pendingMigrations, revertLastMigration, runMigrations } = await import('./migrator');
  const ds = await new DataSource(buildDataSourceOptions(config)).initialize();
  try {
    switch (cmd) {
      case 'run': {
        const applied = await runMigrations(ds);
        report('info', applied.length ? `Applied: ${applied.join(', ')}` : 'Schema is current; nothing to apply.');
        return 0;
      }
      case 'revert': {
        const v = await revertLastMigration(ds);
        report('info', v ? `Reverted: ${v}` : 'No migration to revert.');
        return 0;
      }
      case 'status': {
        const pending = await pendingMigrations(ds);
        report('info', pending.length ? `Pending: ${pending.join(', ')}` : 'Schema is current.');
        return pending.length ? 3 : 0;
      }
      default:
        report('error', `Unknown command "${cmd}". Use run, revert or status.`);
        return 2;
    }
  } finally {
    await ds.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    report('error', err instanceof Error && err.name === 'ConfigError' ? err.message : `Migration failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
