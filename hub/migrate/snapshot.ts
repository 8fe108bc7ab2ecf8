/**
 * What an export needs of the hub's database, read once into plain data
 * (the mappings in this folder are pure functions of it and the config):
 * users and their admin flags, groups with members and properties, role
 * assignments, who holds API tokens, how many shares exist, and the
 * announcement an admin set on the admin page. Reads only: the database
 * is opened read-only by the caller and nothing here writes.
 *
 * @module
 */
import type { Db } from "../db/mod.ts";
import { getHubState } from "../db/hub_state.ts";
import { listGroups, membersByGroup } from "../db/groups.ts";
import { listRoleAssignments, type RoleAssignmentView } from "../db/roles.ts";
import { countShares } from "../db/shares.ts";
import { userTokenCounts } from "../db/tokens.ts";
import { listUsers } from "../db/users.ts";

/** A group as the database holds it. */
export interface SnapshotGroup {
  name: string;
  /** Member names, sorted. */
  users: string[];
  properties: Record<string, unknown>;
}

/** The database's state an export carries or reports. */
export interface HubSnapshot {
  /** Every user, by id. */
  users: { name: string; admin: boolean }[];
  groups: SnapshotGroup[];
  /** Role assignments (from the config file and from the API). */
  roleAssignments: RoleAssignmentView[];
  /** Users holding API tokens they asked for, with how many. */
  tokens: { user: string; tokens: number }[];
  /** How many shares of servers exist. */
  shares: number;
  /** The banner an admin set on the admin page ("" = none). */
  announcement: string;
}

/** The snapshot of a hub that has no database yet (never started). */
export const EMPTY_SNAPSHOT: HubSnapshot = {
  users: [],
  groups: [],
  roleAssignments: [],
  tokens: [],
  shares: 0,
  announcement: "",
};

/** Pages far larger than any hub this program is for: one read each. */
const ALL = { offset: 0, limit: 1_000_000_000 };

/** Reads the snapshot (`now` decides which tokens are still valid). */
export async function readSnapshot(db: Db, now: Date): Promise<HubSnapshot> {
  const { rows: users } = await listUsers(db, ALL);
  const { rows: groups } = await listGroups(db, ALL);
  const members = await membersByGroup(db, groups.map((g) => g.id));
  return {
    users: users.map((u) => ({ name: u.name, admin: u.admin === 1 })),
    groups: groups.map((g) => ({
      name: g.name,
      users: members.get(g.id) ?? [],
      properties: JSON.parse(g.properties) as Record<string, unknown>,
    })),
    roleAssignments: await listRoleAssignments(db),
    tokens: await userTokenCounts(db, now.toISOString()),
    shares: await countShares(db),
    announcement: await getHubState(db, "announcement") ?? "",
  };
}
