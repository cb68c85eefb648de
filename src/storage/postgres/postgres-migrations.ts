/**
 * The PostgreSQL schema as numbered, forward-only migrations, applied on start by read-write
 * stores in one transaction under a transaction-scoped advisory lock, so that any number of
 * replicas may start at once. docs/integration.md explains the schema.
 */
import type { Sql } from 'postgres'
import { StorageError } from '../../protocol/errors.js'

/** One schema change. `statements` run in order inside the migration transaction. */
export interface PostgresMigration {
  readonly version: number
  readonly name: string
  readonly statements: readonly string[]
}

/** Component name in `schema_migrations`, so other services may share the table. */
export const MIGRATION_COMPONENT = 'pr'

/**
 * The key of the migration lock: the two-int advisory lock space, which never overlaps the
 * one-bigint space that package locks use.
 */
export const MIGRATION_LOCK_KEY = [0x70727376, 1] as const

/**
 * `revisionSortKey` (services/prserv/revision.ts) in SQL: for each decimal field without its
 * leading zeros, one character chr(33 + digit count) then the digits; NULL for a value that is
 * not a revision or has a field longer than 90 digits. Binary ("C") order of the key is the
 * numeric revision order. A test checks it against the TypeScript function.
 */
const SORT_KEY_FUNCTION = `
CREATE FUNCTION prserv_revision_sort_key(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
  SELECT CASE WHEN value ~ '^[0-9]+([.][0-9]+)*$' THEN (
    SELECT string_agg(chr(33 + length(s.digits)) || s.digits, '' ORDER BY s.n)
    FROM (
      SELECT f.n, coalesce(nullif(ltrim(f.field, '0'), ''), '0') AS digits
      FROM unnest(string_to_array(value, '.')) WITH ORDINALITY AS f(field, n)
    ) AS s
    HAVING max(length(s.digits)) <= 90)
  END
$fn$`

/**
 * BitBake's PRMAIN columns (value nullable, as BitBake allows) with BitBake's key as a unique
 * constraint, plus: `id` (insertion order, which BitBake's maxima and export follow), the
 * generated numeric ordering key and the audit trail (NULL for rows other software wrote).
 */
const PRMAIN_TABLE = `
CREATE TABLE prmain (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  version text COLLATE "C" NOT NULL,
  pkgarch text COLLATE "C" NOT NULL,
  checksum text COLLATE "C" NOT NULL,
  value text COLLATE "C",
  sort_key text COLLATE "C" GENERATED ALWAYS AS (prserv_revision_sort_key(value)) STORED,
  created_at timestamptz,
  peer text,
  CONSTRAINT prmain_bitbake_key UNIQUE (version, pkgarch, checksum, value)
)`

/** Package maxima (and ranges under a base) are the first entry of an index range. */
const PACKAGE_ORDER_INDEX = `
CREATE INDEX prmain_package_order ON prmain (version, pkgarch, sort_key DESC, id)
  WHERE sort_key IS NOT NULL`

/**
 * The reads allocation decisions need, for a batch of lookups (JSON array of objects):
 * `k` 'p' = package maximum, 'c' = checksum minimum and maximum, 's' = largest value with a
 * sort key strictly between `b` and `h` (the values under a base). Ties (equal numbers) resolve
 * to the first row stored. Returns one row per lookup: (k, i, p, lo, hi).
 */
const READ_STATE_FUNCTION = `
CREATE FUNCTION prserv_read_state(lookups jsonb)
RETURNS TABLE (k text, i integer, p integer, lo text, hi text)
LANGUAGE sql STABLE AS $fn$
  WITH l AS (
    SELECT * FROM jsonb_to_recordset(lookups)
      AS l(k text, i integer, p integer, v text, a text, c text, b text, h text)
  )
  SELECT l.k, l.i, l.p, NULL::text, m.value
  FROM l LEFT JOIN LATERAL (
    SELECT r.value FROM prmain r
    WHERE r.version = l.v AND r.pkgarch = l.a AND r.sort_key IS NOT NULL
    ORDER BY r.sort_key DESC, r.id LIMIT 1) m ON true
  WHERE l.k = 'p'
  UNION ALL
  SELECT l.k, l.i, l.p, lo.value, hi.value
  FROM l LEFT JOIN LATERAL (
    SELECT r.value FROM prmain r
    WHERE r.version = l.v AND r.pkgarch = l.a AND r.checksum = l.c AND r.sort_key IS NOT NULL
    ORDER BY r.sort_key, r.id LIMIT 1) lo ON true
  LEFT JOIN LATERAL (
    SELECT r.value FROM prmain r
    WHERE r.version = l.v AND r.pkgarch = l.a AND r.checksum = l.c AND r.sort_key IS NOT NULL
    ORDER BY r.sort_key DESC, r.id LIMIT 1) hi ON true
  WHERE l.k = 'c'
  UNION ALL
  SELECT l.k, l.i, l.p, NULL::text, m.value
  FROM l LEFT JOIN LATERAL (
    SELECT r.value FROM prmain r
    WHERE r.version = l.v AND r.pkgarch = l.a AND r.sort_key > l.b AND r.sort_key < l.h
    ORDER BY r.sort_key DESC, r.id LIMIT 1) m ON true
  WHERE l.k = 's'
$fn$`

/**
 * The guarded write of one allocation batch, a single statement (so one commit, no session
 * state, no lock held between round trips). Takes the package locks in one global order (no
 * deadlocks between replicas), re-reads the state after they are held (every statement of a
 * VOLATILE function gets a new snapshot under READ COMMITTED), inserts the rows of packages
 * whose state is still what the caller decided on, and returns the fresh state of the others
 * ("stale"), whose rows it did not insert.
 */
const APPLY_FUNCTION = `
CREATE FUNCTION prserv_apply(lookups jsonb, expected jsonb, new_rows jsonb, lock_timeout_ms integer)
RETURNS TABLE (k text, i integer, p integer, lo text, hi text)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  package_lock bigint;
  stale integer[];
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'prserv allocation needs READ COMMITTED isolation, not %',
      current_setting('transaction_isolation');
  END IF;
  PERFORM set_config('lock_timeout', lock_timeout_ms || 'ms', true);
  FOR package_lock IN
    SELECT DISTINCT hashtextextended(l.a, hashtextextended(l.v, 0))
    FROM jsonb_to_recordset(lookups) AS l(k text, v text, a text)
    WHERE l.k = 'p' ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(package_lock);
  END LOOP;
  SELECT coalesce(array_agg(DISTINCT f.p), '{}') INTO stale
  FROM prserv_read_state(lookups) f
  LEFT JOIN jsonb_to_recordset(expected) AS e(k text, i integer, lo text, hi text)
    ON e.k = f.k AND e.i = f.i
  WHERE e.k IS NULL OR f.lo IS DISTINCT FROM e.lo OR f.hi IS DISTINCT FROM e.hi;
  INSERT INTO prmain (version, pkgarch, checksum, value, created_at, peer)
  SELECT n.v, n.a, n.c, n.value, now(), n.peer
  FROM jsonb_to_recordset(new_rows) AS n(o integer, p integer, v text, a text, c text,
    value text, peer text)
  WHERE NOT (n.p = ANY (stale))
  ORDER BY n.o
  ON CONFLICT ON CONSTRAINT prmain_bitbake_key DO NOTHING;
  RETURN QUERY SELECT f.k, f.i, f.p, f.lo, f.hi
    FROM prserv_read_state(lookups) f WHERE f.p = ANY (stale);
END
$fn$`

/** Every migration, in order. Never edit an applied one: append a new one. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'prmain with numeric ordering key, audit trail and allocation functions',
    statements: [
      SORT_KEY_FUNCTION,
      PRMAIN_TABLE,
      PACKAGE_ORDER_INDEX,
      READ_STATE_FUNCTION,
      APPLY_FUNCTION,
    ],
  },
]

/** The schema version this code expects (the last migration). */
export const CURRENT_POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.length

const MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  component text NOT NULL,
  version integer NOT NULL,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (component, version)
)`

/** What `migratePostgresSchema` found and did. */
export interface MigrationOutcome {
  readonly fromVersion: number
  readonly toVersion: number
}

/**
 * Applies the pending migrations idempotently: one simple-protocol script, hence one
 * transaction, whose first statement takes the migration lock, so concurrent starts apply
 * each migration once and the others see it applied. Throws a StorageError when the database
 * is newer than this code.
 */
export async function migratePostgresSchema(sql: Sql): Promise<MigrationOutcome> {
  const fromVersion = await readSchemaVersion(sql)
  checkNotNewer(fromVersion)
  if (fromVersion < CURRENT_POSTGRES_SCHEMA_VERSION) await sql.unsafe(buildMigrationScript())
  const toVersion = await readSchemaVersion(sql)
  checkNotNewer(toVersion)
  return { fromVersion, toVersion }
}

/**
 * For read-only stores, which never change the schema: throws a StorageError unless the
 * database is at exactly this code's schema version.
 */
export async function requireCurrentSchema(sql: Sql): Promise<void> {
  const version = await readSchemaVersion(sql)
  checkNotNewer(version)
  if (version < CURRENT_POSTGRES_SCHEMA_VERSION) {
    throw new StorageError(
      `database schema is at version ${version}, this server needs ` +
        `${CURRENT_POSTGRES_SCHEMA_VERSION}: start a read-write server on it first`,
    )
  }
}

/** The last migration applied (0 when none, or when `schema_migrations` does not exist). */
export async function readSchemaVersion(sql: Sql): Promise<number> {
  const tables = await sql<{ exists: boolean }[]>`
    SELECT to_regclass('schema_migrations') IS NOT NULL AS exists`
  if (tables[0]?.exists !== true) return 0
  const applied = await sql<{ version: number | null }[]>`
    SELECT max(version) AS version FROM schema_migrations WHERE component = ${MIGRATION_COMPONENT}`
  return applied[0]?.version ?? 0
}

function checkNotNewer(version: number): void {
  if (version > CURRENT_POSTGRES_SCHEMA_VERSION) {
    throw new StorageError(
      `database schema version ${version} is newer than this server's ` +
        `${CURRENT_POSTGRES_SCHEMA_VERSION}: upgrade prserv`,
    )
  }
}

/** The whole migration as one script of statements (no parameters: all text is ours). */
export function buildMigrationScript(): string {
  const [classId, objectId] = MIGRATION_LOCK_KEY
  const parts = [
    `SELECT pg_advisory_xact_lock(${classId}, ${objectId})`,
    MIGRATIONS_TABLE,
    ...POSTGRES_MIGRATIONS.map(guardedMigration),
  ]
  return parts.join(';\n') + ';'
}

function guardedMigration(migration: PostgresMigration): string {
  const tag = `$migration_${migration.version}$`
  const name = migration.name.replaceAll("'", "''")
  return [
    `DO ${tag} BEGIN`,
    `IF NOT EXISTS (SELECT 1 FROM schema_migrations`,
    `  WHERE component = '${MIGRATION_COMPONENT}' AND version = ${migration.version}) THEN`,
    ...migration.statements.map((statement) => `${statement.trim()};`),
    `INSERT INTO schema_migrations (component, version, name)`,
    `  VALUES ('${MIGRATION_COMPONENT}', ${migration.version}, '${name}');`,
    `END IF;`,
    `END ${tag}`,
  ].join('\n')
}
