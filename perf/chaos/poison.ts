import type { AnySql } from "../../db/client.ts";

// The chaos suite's poison: a trigger that makes every user_feed insert for the listed authors
// fail, as a bug in a projection would. Their PostCreated events fail on each delivery until they
// are dead-lettered; dropping the trigger is "the fix", after which the dead letters are
// replayed. Only the chaos run's own database ever gets it.

export async function installPoison(sql: AnySql, authorId: string): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS chaos_poison (author_id bigint PRIMARY KEY)`;
  await sql`INSERT INTO chaos_poison VALUES (${authorId}) ON CONFLICT DO NOTHING`;
  await sql`
    CREATE OR REPLACE FUNCTION chaos_poison_check() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM chaos_poison p WHERE p.author_id = NEW.author_id) THEN
        RAISE EXCEPTION 'chaos poison: feed rows of author % refused', NEW.author_id;
      END IF;
      RETURN NEW;
    END $$`;
  await sql`DROP TRIGGER IF EXISTS chaos_poison ON user_feed`;
  await sql`CREATE TRIGGER chaos_poison BEFORE INSERT ON user_feed FOR EACH ROW EXECUTE FUNCTION chaos_poison_check()`;
}

export async function removePoison(sql: AnySql): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS chaos_poison ON user_feed`;
  await sql`DROP FUNCTION IF EXISTS chaos_poison_check()`;
  await sql`DROP TABLE IF EXISTS chaos_poison`;
}
