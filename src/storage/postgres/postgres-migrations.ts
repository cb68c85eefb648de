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

/** SQLSTATE raised by the allocation functions in a transaction that is not READ COMMITTED. */
export const ISOLATION_REFUSED_SQLSTATE = 'PRS01'

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

/**
 * Package maxima (and ranges under a base) and each checksum's extremes are index reads:
 * `max(sort_key)` is the last entry of an index range, and the first row holding it (ties are
 * equal numbers written differently) the first entry of another. Reads are written so that
 * these are the only sensible plans, whatever the statistics say.
 */
const PACKAGE_ORDER_INDEX = `
CREATE INDEX prmain_package_order ON prmain (version, pkgarch, sort_key, id)
  WHERE sort_key IS NOT NULL`
const CHECKSUM_ORDER_INDEX = `
CREATE INDEX prmain_checksum_order ON prmain (version, pkgarch, checksum, sort_key, id)
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
  SELECT l.k, l.i, l.p, NULL::text, (
    SELECT r.value FROM prmain r
    WHERE r.version = l.v AND r.pkgarch = l.a AND r.sort_key = (
      SELECT max(x.sort_key) FROM prmain x WHERE x.version = l.v AND x.pkgarch = l.a)
    ORDER BY r.id LIMIT 1)
  FROM l WHERE l.k = 'p'
  UNION ALL
  SELECT l.k, l.i, l.p, (
    SELECT r.value FROM prmain r
    WHERE r.version = l.v AND r.pkgarch = l.a AND r.checksum = l.c AND r.sort_key = (
      SELECT min(x.sort_key) FROM prmain x
      WHERE x.version = l.v AND x.pkgarch = l.a AND x.checksum = l.c)
    ORDER BY r.id LIMIT 1), (
    SELECT r.value FROM prmain r
    WHERE r.version = l.v AND r.pkgarch = l.a AND r.checksum = l.c AND r.sort_key = (
      SELECT max(x.sort_key) FROM prmain x
      WHERE x.version = l.v AND x.pkgarch = l.a AND x.checksum = l.c)
    ORDER BY r.id LIMIT 1)
  FROM l WHERE l.k = 'c'
  UNION ALL
  SELECT l.k, l.i, l.p, NULL::text, (
    SELECT r.value FROM prmain r
    WHERE r.version = l.v AND r.pkgarch = l.a AND r.sort_key = (
      SELECT max(x.sort_key) FROM prmain x
      WHERE x.version = l.v AND x.pkgarch = l.a AND x.sort_key > l.b AND x.sort_key < l.h)
    ORDER BY r.id LIMIT 1)
  FROM l WHERE l.k = 's'
$fn$`

/**
 * The locked read of an allocation batch, run as the first statement of its transaction:
 * takes the package locks (transaction-scoped, one global order, so replicas never deadlock),
 * then reads the state. Under READ COMMITTED every statement of a VOLATILE function takes a
 * new snapshot, so the read sees every commit of the previous holders of those locks.
 */
const LOCK_AND_READ_FUNCTION = `
CREATE FUNCTION prserv_lock_and_read(lookups jsonb)
RETURNS TABLE (k text, i integer, p integer, lo text, hi text)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  package_lock bigint;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'prserv allocation needs READ COMMITTED isolation, not %',
      current_setting('transaction_isolation');
  END IF;
  FOR package_lock IN
    SELECT DISTINCT hashtextextended(l.a, hashtextextended(l.v, 0))
    FROM jsonb_to_recordset(lookups) AS l(k text, v text, a text)
    WHERE l.k = 'p' ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(package_lock);
  END LOOP;
  RETURN QUERY SELECT * FROM prserv_read_state(lookups);
END
$fn$`

/**
 * prserv_revision_sort_key, version 2: the same function in PL/pgSQL. A SQL function with a
 * sub-select is not inlined, and running it costs about 20 µs per row written, several times
 * the PL/pgSQL loop; the stored keys do not change.
 */
const SORT_KEY_FUNCTION_V2 = `
CREATE OR REPLACE FUNCTION prserv_revision_sort_key(value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  field text;
  digits text;
  sort_key text := '';
BEGIN
  IF value !~ '^[0-9]+([.][0-9]+)*$' THEN
    RETURN NULL;
  END IF;
  FOREACH field IN ARRAY string_to_array(value, '.') LOOP
    digits := ltrim(field, '0');
    IF digits = '' THEN
      digits := '0';
    ELSIF length(digits) > 90 THEN
      RETURN NULL;
    END IF;
    sort_key := sort_key || chr(33 + length(digits)) || digits;
  END LOOP;
  RETURN sort_key;
END
$fn$`

/**
 * prserv_read_state, version 2: a checksum's extremes come from its own rows, read through
 * BitBake's key (a checksum has a handful of rows), behind an `OFFSET 0` fence. Version 1 asked
 * for min/max(sort_key) of the checksum, which prmain_package_order can also answer by walking
 * the whole package in sort_key order and filtering on the checksum; plans made before the table
 * has statistics (every plan of a new database until autovacuum analyses it, cached by the
 * sessions) chose that, so each lookup on a hot package read all its rows. The fence keeps the
 * `sort_key IS NOT NULL` test outside, so neither partial index qualifies for the inner scan.
 */
const READ_STATE_FUNCTION_V2 = `
CREATE OR REPLACE FUNCTION prserv_read_state(lookups jsonb)
RETURNS TABLE (k text, i integer, p integer, lo text, hi text)
LANGUAGE sql STABLE AS $fn$
  WITH l AS (
    SELECT * FROM jsonb_to_recordset(lookups)
      AS l(k text, i integer, p integer, v text, a text, c text, b text, h text)
  )
  SELECT l.k, l.i, l.p, NULL::text, (
    SELECT r.value FROM prmain r
    WHERE r.version = l.v AND r.pkgarch = l.a AND r.sort_key = (
      SELECT max(x.sort_key) FROM prmain x WHERE x.version = l.v AND x.pkgarch = l.a)
    ORDER BY r.id LIMIT 1)
  FROM l WHERE l.k = 'p'
  UNION ALL
  SELECT l.k, l.i, l.p, (
    SELECT r.value FROM (
      SELECT x.value, x.sort_key, x.id FROM prmain x
      WHERE x.version = l.v AND x.pkgarch = l.a AND x.checksum = l.c OFFSET 0) r
    WHERE r.sort_key IS NOT NULL ORDER BY r.sort_key, r.id LIMIT 1), (
    SELECT r.value FROM (
      SELECT x.value, x.sort_key, x.id FROM prmain x
      WHERE x.version = l.v AND x.pkgarch = l.a AND x.checksum = l.c OFFSET 0) r
    WHERE r.sort_key IS NOT NULL ORDER BY r.sort_key DESC, r.id LIMIT 1)
  FROM l WHERE l.k = 'c'
  UNION ALL
  SELECT l.k, l.i, l.p, NULL::text, (
    SELECT r.value FROM prmain r
    WHERE r.version = l.v AND r.pkgarch = l.a AND r.sort_key = (
      SELECT max(x.sort_key) FROM prmain x
      WHERE x.version = l.v AND x.pkgarch = l.a AND x.sort_key > l.b AND x.sort_key < l.h)
    ORDER BY r.id LIMIT 1)
  FROM l WHERE l.k = 's'
$fn$`

/**
 * Migration 3: one index probe per read instead of two. A package maximum (and the largest
 * value under a base) is the first entry of a `(version, pkgarch, sort_key DESC, id)` range, so
 * the row stored first among equal keys comes out of one descent. A checksum's smallest and
 * largest values come from one pass over its own rows, found through BitBake's key (the
 * `OFFSET 0` fence keeps the planner from getting the aggregates' order by walking the whole
 * package in the package index, as migration 2 explains). The checksum
 * index of migration 1 is no longer read by anything, so it goes: one index less per insert.
 */
const PACKAGE_LATEST_INDEX = `
CREATE INDEX prmain_package_latest ON prmain (version, pkgarch, sort_key DESC, id)
  WHERE sort_key IS NOT NULL`

const READ_STATE_FUNCTION_V3 = `
CREATE OR REPLACE FUNCTION prserv_read_state(lookups jsonb)
RETURNS TABLE (k text, i integer, p integer, lo text, hi text)
LANGUAGE sql STABLE AS $fn$
  WITH l AS (
    SELECT * FROM jsonb_to_recordset(lookups)
      AS l(k text, i integer, p integer, v text, a text, c text, b text, h text)
  )
  SELECT l.k, l.i, l.p, NULL::text, (
    SELECT r.value FROM prmain r
    WHERE r.version = l.v AND r.pkgarch = l.a AND r.sort_key IS NOT NULL
    ORDER BY r.sort_key DESC, r.id LIMIT 1)
  FROM l WHERE l.k = 'p'
  UNION ALL
  SELECT l.k, l.i, l.p, e.lo, e.hi
  FROM l CROSS JOIN LATERAL (
    SELECT (array_agg(x.value ORDER BY x.sort_key, x.id))[1] AS lo,
           (array_agg(x.value ORDER BY x.sort_key DESC, x.id))[1] AS hi
    FROM (
      SELECT r.value, r.sort_key, r.id FROM prmain r
      WHERE r.version = l.v AND r.pkgarch = l.a AND r.checksum = l.c OFFSET 0) AS x
    WHERE x.sort_key IS NOT NULL
  ) AS e
  WHERE l.k = 'c'
  UNION ALL
  SELECT l.k, l.i, l.p, NULL::text, (
    SELECT r.value FROM prmain r
    WHERE r.version = l.v AND r.pkgarch = l.a AND r.sort_key > l.b AND r.sort_key < l.h
    ORDER BY r.sort_key DESC, r.id LIMIT 1)
  FROM l WHERE l.k = 's'
$fn$`

/**
 * Migration 4: the allocation functions take their lookups as arrays (one per field) instead
 * of JSON, which PostgreSQL parses several times faster, and allocation can be one statement.
 *
 * - `prserv_state(pkg_v, pkg_a, chk_p, chk_c, base_p, base_low, base_high)`: the reads of
 *   `prserv_read_state` for packages (version, pkgarch), checksum lookups (package position,
 *   checksum) and base lookups (package position, sort-key range); `i` numbers the lookups of
 *   one kind from 0 in array order, `p` the packages.
 * - `prserv_lock_packages(pkg_v, pkg_a)`: the package locks, taken as `prserv_lock_and_read`
 *   takes them (same keys, same order), so replicas of the previous version still exclude
 *   these ones during a rolling upgrade; `prserv_lock_and_state` locks, then reads.
 * - `prserv_apply(…, expected state, new rows, lock_timeout_ms)`, one autocommit statement:
 *   locks, reads the state, and compares it with the state the server decided on. The rows of
 *   packages whose state matches are inserted (a row flagged `may_exist`, an import or a
 *   reconciled value, only if the identical row is not stored yet; the others hold values
 *   above every revision of their checksum, and a plain INSERT is cheaper than ON CONFLICT's
 *   speculative insertion); for each package whose state differs ("stale"),
 *   nothing is inserted and the state of all its lookups is returned, for the server to decide
 *   again. Every statement of a VOLATILE function takes a new snapshot under READ COMMITTED,
 *   so the read sees every commit of the previous holders of the locks (docs/integration.md).
 *
 * The JSON functions stay for servers of the previous version during a rolling upgrade.
 */
/**
 * The revisions of checksum lookup `l` in `prserv_state` (migrations 4 and 5): its rows read
 * through BitBake's key behind an `OFFSET 0` fence (migration 2 says why), as `x`.
 */
const CHECKSUM_ROWS = `    FROM (
      SELECT r.value, r.sort_key, r.id FROM prmain r
      WHERE r.version = pkg_v[l.p + 1] AND r.pkgarch = pkg_a[l.p + 1] AND r.checksum = l.c
      OFFSET 0) AS x
    WHERE x.sort_key IS NOT NULL`

/**
 * The arguments and result of the 7-argument `prserv_state`, which `prserv_lock_and_state`
 * (migration 4) and `prserv_unlocked_state` (migration 6) take and return as they are.
 */
const STATE_SIGNATURE = `(
  pkg_v text[], pkg_a text[], chk_p integer[], chk_c text[],
  base_p integer[], base_low text[], base_high text[])
RETURNS TABLE (k text, i integer, p integer, lo text, hi text)`

const STATE_FUNCTION = `
CREATE FUNCTION prserv_state${STATE_SIGNATURE}
LANGUAGE sql STABLE AS $fn$
  SELECT 'p', g.n::integer - 1, g.n::integer - 1, NULL::text, (
    SELECT r.value FROM prmain r
    WHERE r.version = g.v AND r.pkgarch = g.a AND r.sort_key IS NOT NULL
    ORDER BY r.sort_key DESC, r.id LIMIT 1)
  FROM unnest(pkg_v, pkg_a) WITH ORDINALITY AS g(v, a, n)
  UNION ALL
  SELECT 'c', l.n::integer - 1, l.p, e.lo, e.hi
  FROM unnest(chk_p, chk_c) WITH ORDINALITY AS l(p, c, n)
  CROSS JOIN LATERAL (
    SELECT (array_agg(x.value ORDER BY x.sort_key, x.id))[1] AS lo,
           (array_agg(x.value ORDER BY x.sort_key DESC, x.id))[1] AS hi
${CHECKSUM_ROWS}
  ) AS e
  UNION ALL
  SELECT 's', l.n::integer - 1, l.p, NULL::text, (
    SELECT r.value FROM prmain r
    WHERE r.version = pkg_v[l.p + 1] AND r.pkgarch = pkg_a[l.p + 1]
      AND r.sort_key > l.low AND r.sort_key < l.high
    ORDER BY r.sort_key DESC, r.id LIMIT 1)
  FROM unnest(base_p, base_low, base_high) WITH ORDINALITY AS l(p, low, high, n)
$fn$`

const LOCK_PACKAGES_FUNCTION = `
CREATE FUNCTION prserv_lock_packages(pkg_v text[], pkg_a text[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'prserv allocation needs READ COMMITTED isolation, not %',
      current_setting('transaction_isolation') USING ERRCODE = '${ISOLATION_REFUSED_SQLSTATE}';
  END IF;
  -- One statement: the locks are taken as the sorted keys come out of the sub-select.
  PERFORM pg_advisory_xact_lock(s.lock_key)
  FROM (
    SELECT DISTINCT hashtextextended(g.a, hashtextextended(g.v, 0)) AS lock_key
    FROM unnest(pkg_v, pkg_a) AS g(v, a) ORDER BY 1
  ) AS s;
END
$fn$`

const LOCK_AND_STATE_FUNCTION = `
CREATE FUNCTION prserv_lock_and_state${STATE_SIGNATURE}
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
  PERFORM prserv_lock_packages(pkg_v, pkg_a);
  RETURN QUERY SELECT * FROM prserv_state(pkg_v, pkg_a, chk_p, chk_c, base_p, base_low, base_high);
END
$fn$`

const APPLY_FUNCTION = `
CREATE FUNCTION prserv_apply(
  pkg_v text[], pkg_a text[], pkg_max text[],
  chk_p integer[], chk_c text[], chk_lo text[], chk_hi text[],
  base_p integer[], base_low text[], base_high text[], base_max text[],
  row_p integer[], row_c text[], row_value text[], row_peer text[], row_may_exist boolean[],
  lock_timeout_ms integer)
RETURNS TABLE (k text, i integer, p integer, lo text, hi text)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
BEGIN
  PERFORM set_config('lock_timeout', lock_timeout_ms::text, true);
  PERFORM prserv_lock_packages(pkg_v, pkg_a);
  RETURN QUERY
  WITH actual AS (
    SELECT s.k, s.i, s.p, s.lo, s.hi
    FROM prserv_state(pkg_v, pkg_a, chk_p, chk_c, base_p, base_low, base_high) AS s
  ), stale AS (
    SELECT DISTINCT a.p FROM actual a
    WHERE CASE a.k
      WHEN 'p' THEN a.hi IS DISTINCT FROM pkg_max[a.i + 1]
      WHEN 'c' THEN a.lo IS DISTINCT FROM chk_lo[a.i + 1] OR a.hi IS DISTINCT FROM chk_hi[a.i + 1]
      ELSE a.hi IS DISTINCT FROM base_max[a.i + 1]
    END
  ), inserted AS (
    INSERT INTO prmain (version, pkgarch, checksum, value, created_at, peer)
    SELECT pkg_v[n.p + 1], pkg_a[n.p + 1], n.c, n.value, now(), n.peer
    FROM unnest(row_p, row_c, row_value, row_peer, row_may_exist)
      WITH ORDINALITY AS n(p, c, value, peer, may_exist, o)
    WHERE NOT EXISTS (SELECT 1 FROM stale s WHERE s.p = n.p)
      AND NOT (n.may_exist AND EXISTS (SELECT 1 FROM prmain x
        WHERE x.version = pkg_v[n.p + 1] AND x.pkgarch = pkg_a[n.p + 1]
          AND x.checksum = n.c AND x.value = n.value))
    ORDER BY n.o
  )
  SELECT a.k, a.i, a.p, a.lo, a.hi FROM actual a
  WHERE EXISTS (SELECT 1 FROM stale s WHERE s.p = a.p);
END
$fn$`

/**
 * Migration 5: the package maximum is read from the top of the package's range, bounded below
 * by the maximum the server expects. A `LIMIT 1` scan of the whole range reads every entry of
 * the range on the first index leaf page, a few hundred once a package has history; bounded
 * by the expected maximum it reads one or two. When the bound lies above every row (the
 * expected maximum is gone, or the caller guessed wrong) the bounded read finds nothing and
 * the whole range is read as before, so the answer never depends on the bound.
 *
 * - `prserv_state(pkg_v, pkg_a, pkg_floor, …)`: `prserv_state` with `pkg_floor`, a sort key
 *   per package (`prserv_revision_sort_key` of the expected maximum, computed by the caller;
 *   NULL: unknown). A checksum's extremes come from plain `min`/`max` over
 *   (sort key, id, value) arrays, the id padded to 19 digits (and counted down for the
 *   maximum, where the row stored first wins a tie too): the same answer as two ordered
 *   `array_agg`s, without setting up two sorts per lookup (about 5 µs each).
 * - `prserv_apply(…, pkg_max, pkg_floor, …)`: `prserv_apply` reading through it, as three
 *   statements instead of one chain of CTEs: the positions of the stale packages into an
 *   array, a plain INSERT of the other packages' rows, and only when some package is stale,
 *   its state read again (under the same locks, so unchanged). About 5% less database CPU.
 *   Its INSERT follows the rule of the locked transaction's (`insertRows`,
 *   postgres-allocation-statements.ts): change both together.
 * - Both `prserv_apply` and the locked transaction's `prserv_lock_and_state` plan their
 *   statements with sequential scans disabled. On a small analysed table the planner prefers
 *   scanning it to every index read of these functions, and a session keeps that plan while
 *   the table grows until the next ANALYZE; every read of theirs is meant to be an index read.
 *   They also use generic plans only: with custom plans PostgreSQL planned the allocation
 *   statement on every call when a batch held a single allocation, about 3 ms of database
 *   CPU each, five times the rest of the call.
 *
 * The 7- and 17-argument functions of migration 4 stay for servers of that version during a
 * rolling upgrade; they take the same package locks.
 */
const BOUNDED_STATE_FUNCTION = `
CREATE FUNCTION prserv_state(
  pkg_v text[], pkg_a text[], pkg_floor text[], chk_p integer[], chk_c text[],
  base_p integer[], base_low text[], base_high text[])
RETURNS TABLE (k text, i integer, p integer, lo text, hi text)
LANGUAGE sql STABLE AS $fn$
  SELECT 'p', g.n::integer - 1, g.n::integer - 1, NULL::text, coalesce((
    SELECT r.value FROM prmain r
    WHERE r.version = g.v AND r.pkgarch = g.a AND r.sort_key >= g.f
    ORDER BY r.sort_key DESC, r.id LIMIT 1), (
    SELECT r.value FROM prmain r
    WHERE r.version = g.v AND r.pkgarch = g.a AND r.sort_key IS NOT NULL
    ORDER BY r.sort_key DESC, r.id LIMIT 1))
  FROM unnest(pkg_v, pkg_a, pkg_floor) WITH ORDINALITY AS g(v, a, f, n)
  UNION ALL
  SELECT 'c', l.n::integer - 1, l.p, e.lo[3], e.hi[3]
  FROM unnest(chk_p, chk_c) WITH ORDINALITY AS l(p, c, n)
  CROSS JOIN LATERAL (
    SELECT
      min(ARRAY[x.sort_key, lpad(x.id::text, 19, '0'), x.value] COLLATE "C") AS lo,
      max(ARRAY[x.sort_key, lpad((9223372036854775807 - x.id)::text, 19, '0'), x.value]
        COLLATE "C") AS hi
${CHECKSUM_ROWS}
  ) AS e
  UNION ALL
  SELECT s.k, s.i, s.p, s.lo, s.hi
  FROM prserv_state(pkg_v, pkg_a, '{}', '{}', base_p, base_low, base_high) AS s
  WHERE s.k = 's'
$fn$`

/**
 * What migration 5's `prserv_apply` and migration 6's `prserv_apply_guarded` share (the
 * released text of migration 5 is these pieces put together): the arguments and settings;
 * the read of the state under the locks, keeping the lookups that differ from the expected
 * state; the INSERT of the rows of the packages not in `stale`.
 */
const GUARDED_WRITE_HEAD = `(
  pkg_v text[], pkg_a text[], pkg_max text[], pkg_floor text[],
  chk_p integer[], chk_c text[], chk_lo text[], chk_hi text[],
  base_p integer[], base_low text[], base_high text[], base_max text[],
  row_p integer[], row_c text[], row_value text[], row_peer text[], row_may_exist boolean[],
  lock_timeout_ms integer)
RETURNS TABLE (k text, i integer, p integer, lo text, hi text)
LANGUAGE plpgsql VOLATILE
SET enable_seqscan = off SET plan_cache_mode = force_generic_plan AS $fn$
#variable_conflict use_column`
const STATE_DIFFERS = `  FROM prserv_state(pkg_v, pkg_a, pkg_floor, chk_p, chk_c, base_p, base_low, base_high) AS a
  WHERE CASE a.k
    WHEN 'p' THEN a.hi IS DISTINCT FROM pkg_max[a.i + 1]
    WHEN 'c' THEN a.lo IS DISTINCT FROM chk_lo[a.i + 1] OR a.hi IS DISTINCT FROM chk_hi[a.i + 1]
    ELSE a.hi IS DISTINCT FROM base_max[a.i + 1]
  END;`
const GUARDED_INSERT = `  INSERT INTO prmain (version, pkgarch, checksum, value, created_at, peer)
  SELECT pkg_v[n.p + 1], pkg_a[n.p + 1], n.c, n.value, now(), n.peer
  FROM unnest(row_p, row_c, row_value, row_peer, row_may_exist)
    WITH ORDINALITY AS n(p, c, value, peer, may_exist, o)
  WHERE (stale IS NULL OR n.p <> ALL (stale))
    AND NOT (n.may_exist AND EXISTS (SELECT 1 FROM prmain x
      WHERE x.version = pkg_v[n.p + 1] AND x.pkgarch = pkg_a[n.p + 1]
        AND x.checksum = n.c AND x.value = n.value))
  ORDER BY n.o;`

const BOUNDED_APPLY_FUNCTION = `
CREATE FUNCTION prserv_apply${GUARDED_WRITE_HEAD}
DECLARE
  stale integer[];
BEGIN
  PERFORM set_config('lock_timeout', lock_timeout_ms::text, true);
  PERFORM prserv_lock_packages(pkg_v, pkg_a);
  SELECT array_agg(DISTINCT a.p) INTO stale
${STATE_DIFFERS}
${GUARDED_INSERT}
  -- Read again under the same locks: nothing of these packages was written in between.
  IF stale IS NOT NULL THEN
    RETURN QUERY SELECT a.k, a.i, a.p, a.lo, a.hi
    FROM prserv_state(pkg_v, pkg_a, pkg_floor, chk_p, chk_c, base_p, base_low, base_high) AS a
    WHERE a.p = ANY (stale);
  END IF;
END
$fn$`

/**
 * Migration 6, in two parts.
 *
 * - `prserv_unlocked_state(…)`, the unlocked state read of read-only stores (the arguments of
 *   the 7-argument `prserv_state`), with the settings of migration 5's functions. Read-only
 *   stores called `prserv_state` from a prepared statement, which PostgreSQL kept planning
 *   afresh on every call: about 1.5 ms of database CPU for a one-lookup read, against 0.45 ms
 *   with the generic plan. The SQL function cannot carry the settings itself (a function with
 *   settings is not inlined into its caller, which cost the allocation statement 2%), so this
 *   PL/pgSQL wrapper does. It reads through migration 5's `prserv_state` without floors: a
 *   NULL floor makes the bounded package read find nothing at no cost, and the whole range is
 *   read as before.
 * - `prserv_apply_guarded(…)`: migration 5's `prserv_apply` (same arguments, locks, checks
 *   and INSERT, whose rule is the locked transaction's: `insertRows`,
 *   postgres-allocation-statements.ts), returning only the lookups whose state differs from
 *   the expected one. A package with any such lookup is stale, and its other lookups are as
 *   expected, which the caller knows. `prserv_apply` read a stale package's state a second time to return all of
 *   it; a lookup of a stored checksum, which the caller guesses absent, made every package of
 *   a batch of lookups stale, so lookups paid for two reads. When every package is stale,
 *   the INSERT is not even set up (a one-lookup call: about 520 → 450 µs of database CPU).
 */
const UNLOCKED_STATE_FUNCTION = `
CREATE FUNCTION prserv_unlocked_state${STATE_SIGNATURE}
LANGUAGE plpgsql STABLE
SET enable_seqscan = off SET plan_cache_mode = force_generic_plan AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY SELECT s.k, s.i, s.p, s.lo, s.hi
  FROM prserv_state(pkg_v, pkg_a, '{}', chk_p, chk_c, base_p, base_low, base_high) AS s;
END
$fn$`

const APPLY_GUARDED_FUNCTION = `
CREATE FUNCTION prserv_apply_guarded${GUARDED_WRITE_HEAD}
DECLARE
  d_k text[];
  d_i integer[];
  stale integer[];
  d_lo text[];
  d_hi text[];
  is_all_stale boolean := false;
BEGIN
  PERFORM set_config('lock_timeout', lock_timeout_ms::text, true);
  PERFORM prserv_lock_packages(pkg_v, pkg_a);
  -- The lookups that differ; their packages (stale, with repeats) are not written.
  SELECT array_agg(a.k), array_agg(a.i), array_agg(a.p), array_agg(a.lo), array_agg(a.hi)
  INTO d_k, d_i, stale, d_lo, d_hi
${STATE_DIFFERS}
  -- With every package stale (a batch of lookups of stored checksums), not even setting up
  -- the INSERT is cheaper.
  IF stale IS NOT NULL THEN
    is_all_stale := NOT EXISTS (SELECT 1 FROM generate_subscripts(pkg_v, 1) AS g(n)
      WHERE g.n - 1 <> ALL (stale));
  END IF;
  IF NOT is_all_stale THEN
${GUARDED_INSERT}
  END IF;
  IF stale IS NOT NULL THEN
    RETURN QUERY SELECT * FROM unnest(d_k, d_i, stale, d_lo, d_hi);
  END IF;
END
$fn$`

/**
 * Every migration, in order. Never edit an applied one: append a new one (a test pins the text
 * of each).
 */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'prmain with numeric ordering key, audit trail and allocation functions',
    statements: [
      SORT_KEY_FUNCTION,
      PRMAIN_TABLE,
      PACKAGE_ORDER_INDEX,
      CHECKSUM_ORDER_INDEX,
      READ_STATE_FUNCTION,
      LOCK_AND_READ_FUNCTION,
    ],
  },
  {
    version: 2,
    name: 'checksum reads through the key index whatever the statistics; cheaper sort key',
    statements: [READ_STATE_FUNCTION_V2, SORT_KEY_FUNCTION_V2],
  },
  {
    version: 3,
    name: 'one index probe per allocation read; checksum order index dropped',
    statements: [
      PACKAGE_LATEST_INDEX,
      READ_STATE_FUNCTION_V3,
      'DROP INDEX prmain_package_order',
      'DROP INDEX prmain_checksum_order',
    ],
  },
  {
    version: 4,
    name: 'array-argument allocation functions; one guarded statement per batch',
    statements: [STATE_FUNCTION, LOCK_PACKAGES_FUNCTION, LOCK_AND_STATE_FUNCTION, APPLY_FUNCTION],
  },
  {
    version: 5,
    name: 'package maximum read bounded by the expected maximum',
    statements: [
      BOUNDED_STATE_FUNCTION,
      BOUNDED_APPLY_FUNCTION,
      'ALTER FUNCTION prserv_lock_and_state(text[], text[], integer[], text[], integer[], ' +
        'text[], text[]) SET enable_seqscan = off',
      'ALTER FUNCTION prserv_lock_and_state(text[], text[], integer[], text[], integer[], ' +
        'text[], text[]) SET plan_cache_mode = force_generic_plan',
    ],
  },
  {
    version: 6,
    name: 'read-only state read with generic plans; guarded write returns only what differs',
    statements: [UNLOCKED_STATE_FUNCTION, APPLY_GUARDED_FUNCTION],
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
