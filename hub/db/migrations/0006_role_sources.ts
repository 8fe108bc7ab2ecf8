/**
 * `role_assignments.source`: "config" for the assignments `roles` in the
 * config file makes (replaced at every start and reload), "api" for those
 * made through the REST API (kept). Indexes for the group and service
 * lookups the identity query makes.
 *
 * @module
 */
import type { Kysely } from "kysely";

/** Adds the column and the indexes. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("role_assignments")
    .addColumn("source", "text", (c) => c.notNull().defaultTo("api"))
    .execute();
  await db.schema.createIndex("role_assignments_group").on("role_assignments")
    .column("group_id").execute();
  await db.schema.createIndex("role_assignments_service")
    .on("role_assignments").column("service_id").execute();
}

/** Drops them. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("role_assignments_service").execute();
  await db.schema.dropIndex("role_assignments_group").execute();
  await db.schema.alterTable("role_assignments").dropColumn("source")
    .execute();
}
