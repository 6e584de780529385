import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-zone running totals of `lims_carbonlog` (ALERTING.md C14): `/carbon/stats/` reads one row
 * per zone instead of scanning every log. A row trigger keeps them exact for every write path
 * (inserts, deletes by zone cascade, corrections by hand); existing logs of an adopted or
 * earlier database are summed once here.
 */
export class CarbonZoneTotals1764633602000 implements MigrationInterface {
  name = 'CarbonZoneTotals1764633602000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS ecoflow_carbon_zone_total (
      zone_id bigint PRIMARY KEY,
      log_count bigint NOT NULL,
      amount_sum double precision NOT NULL)`);
    await q.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'ecoflow_carbon_zone_total_zone_id_fk') THEN
        ALTER TABLE ecoflow_carbon_zone_total ADD CONSTRAINT ecoflow_carbon_zone_total_zone_id_fk
          FOREIGN KEY (zone_id) REFERENCES lims_zone (id) ON DELETE CASCADE;
      END IF; END $$`);
    await q.query(`CREATE OR REPLACE FUNCTION ecoflow_carbon_total_apply() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
          -- no row when the zone itself is being deleted (its total goes by the cascade)
          UPDATE ecoflow_carbon_zone_total SET log_count = log_count - 1, amount_sum = amount_sum - OLD.saved_amount
           WHERE zone_id = OLD.zone_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
          INSERT INTO ecoflow_carbon_zone_total AS t (zone_id, log_count, amount_sum) VALUES (NEW.zone_id, 1, NEW.saved_amount)
          ON CONFLICT (zone_id) DO UPDATE SET log_count = t.log_count + 1, amount_sum = t.amount_sum + EXCLUDED.amount_sum;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`DROP TRIGGER IF EXISTS ecoflow_carbon_total_trg ON lims_carbonlog`);
    await q.query(`CREATE TRIGGER ecoflow_carbon_total_trg AFTER INSERT OR DELETE OR UPDATE OF saved_amount, zone_id ON lims_carbonlog
      FOR EACH ROW EXECUTE FUNCTION ecoflow_carbon_total_apply()`);
    // the logs written before this migration (the trigger, created in the same transaction, sees none of them)
    await q.query(`INSERT INTO ecoflow_carbon_zone_total (zone_id, log_count, amount_sum)
      SELECT zone_id, count(*), sum(saved_amount) FROM lims_carbonlog GROUP BY zone_id
      ON CONFLICT (zone_id) DO UPDATE SET log_count = EXCLUDED.log_count, amount_sum = EXCLUDED.amount_sum`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS ecoflow_carbon_total_trg ON lims_carbonlog`);
    await q.query(`DROP FUNCTION IF EXISTS ecoflow_carbon_total_apply()`);
    await q.query(`DROP TABLE IF EXISTS ecoflow_carbon_zone_total`);
  }
}
