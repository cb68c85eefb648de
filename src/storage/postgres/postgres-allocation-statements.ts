/**
 * The SQL of batched allocation: the unlocked state read of read-only stores, the
 * one-statement guarded write (prserv_apply_guarded), and the two-round-trip write transaction
 * (BEGIN + lock-and-read pipelined; INSERT + COMMIT pipelined) on a reserved connection.
 * Lookups and rows travel as array arguments (postgres-lookup-arrays.ts).
 *
 * Driver discipline (postgres 3.4: a statement sent on a reserved connection after the
 * server closed it crashes the process from a timer, porsager/postgres#1208): statements are
 * only sent right after a successful answer (no event-loop turn in between), never after a
 * connection-level failure, and such a connection is never released: the driver already
 * took it back when it closed.
 */
import type { ReservedSql, Sql } from 'postgres'
import type { AllocationStatements, NewRow } from './postgres-batch-executor.js'
import type { StateRow } from './postgres-batch-plan.js'
import { asError } from './postgres-errors.js'
import { LookupArrays } from './postgres-lookup-arrays.js'
import type { ReadArguments } from './postgres-lookup-arrays.js'
import type { PostgresPool } from './postgres-pool.js'

/** Server-side limits of an allocation transaction, in milliseconds. */
export interface AllocationTimeouts {
  /** Wait for a package lock another replica holds. */
  readonly lockTimeoutMs: number
  /** The server ends a transaction left idle this long (a stalled or vanished replica). */
  readonly idleInTransactionTimeoutMs: number
}

/** The allocation statements of a store on `pool`. Safe for concurrent batches. */
export function createAllocationStatements(
  pool: PostgresPool,
  timeouts: AllocationTimeouts,
): AllocationStatements {
  const lockTimeoutMs = Math.trunc(timeouts.lockTimeoutMs)
  // Integers of ours, not client input: safe to put in the statement text.
  const begin =
    'BEGIN ISOLATION LEVEL READ COMMITTED; ' +
    `SET LOCAL lock_timeout = ${lockTimeoutMs}; ` +
    `SET LOCAL idle_in_transaction_session_timeout = ${Math.trunc(timeouts.idleInTransactionTimeoutMs)}`
  // Rows come back as `StateRow` because the functions declare exactly those columns; the
  // driver trusts the type argument (the boundary between SQL and TypeScript).
  return {
    readState: async (groups) => {
      const arrays = new LookupArrays(groups)
      const { v, a, cp, c, bp, low, high } = arrays.readArguments()
      const rows = await pool.run(
        'allocation read',
        (sql) => sql<StateRow[]>`SELECT k, i, p, lo, hi FROM prserv_unlocked_state(
          ${v}::text[], ${a}::text[], ${cp}::integer[], ${c}::text[],
          ${bp}::integer[], ${low}::text[], ${high}::text[])`,
      )
      return rows.map((row) => arrays.toBatchRow(row))
    },
    applyGuarded: async (groups, expected, newRows) => {
      const arrays = new LookupArrays(groups)
      const { v, a, cp, c, bp, low, high } = arrays.readArguments()
      const state = arrays.expected(expected)
      const row = arrays.rowArguments(newRows)
      const rows = await pool.run(
        'allocation',
        (sql) => sql<StateRow[]>`SELECT k, i, p, lo, hi FROM prserv_apply_guarded(
          ${v}::text[], ${a}::text[], ${state.pkgMax}::text[], ${state.pkgFloor}::text[],
          ${cp}::integer[], ${c}::text[], ${state.chkLo}::text[], ${state.chkHi}::text[],
          ${bp}::integer[], ${low}::text[], ${high}::text[], ${state.baseMax}::text[],
          ${row.p}::integer[], ${row.c}::text[], ${row.value}::text[], ${row.peer}::text[],
          ${row.mayExist}::boolean[], ${lockTimeoutMs}::integer)`,
      )
      return rows.map((stateRow) => arrays.toBatchRow(stateRow))
    },
    writeLocked: (groups, decide) =>
      pool.run('allocation', (sql) =>
        writeInTransaction(sql, begin, new LookupArrays(groups), decide),
      ),
  }
}

async function writeInTransaction(
  sql: Sql,
  begin: string,
  arrays: LookupArrays,
  decide: (state: readonly StateRow[]) => readonly NewRow[],
): Promise<void> {
  const reserved = await sql.reserve()
  const read = arrays.readArguments()
  const { v, a, cp, c, bp, low, high } = read
  const opened = await Promise.allSettled([
    reserved.unsafe(begin),
    reserved<StateRow[]>`SELECT k, i, p, lo, hi FROM prserv_lock_and_state(
      ${v}::text[], ${a}::text[], ${cp}::integer[], ${c}::text[],
      ${bp}::integer[], ${low}::text[], ${high}::text[])`,
  ])
  const [beginOutcome, readOutcome] = opened
  if (beginOutcome.status === 'rejected' || readOutcome.status !== 'fulfilled') {
    const failures = failuresOf(opened)
    await abandon(reserved, failures, failures.every(isServerError))
    return
  }
  let rows: readonly NewRow[]
  try {
    rows = decide(readOutcome.value.map((row) => arrays.toBatchRow(row)))
  } catch (error: unknown) {
    // Nothing was sent since the last answer: the session is alive and must be rolled back.
    await abandon(reserved, [error], true)
    return
  }
  const written = await Promise.allSettled([
    rows.length === 0 ? Promise.resolve(null) : insertRows(reserved, arrays, read, rows),
    reserved.unsafe('COMMIT'),
  ])
  const failures = failuresOf(written)
  // After a failed INSERT the server answers COMMIT with a rollback: the first failure counts.
  if (failures.length === 0 || failures.every(isServerError)) reserved.release()
  if (failures.length > 0) throw asError(failures[0], 'allocation transaction failed')
}

/** Inserts `rows`; `read` holds the package arrays already sent for the locked read. */
function insertRows(
  reserved: ReservedSql,
  arrays: LookupArrays,
  read: ReadArguments,
  rows: readonly NewRow[],
): Promise<unknown> {
  const { v, a } = read
  const row = arrays.rowArguments(rows)
  // As prserv_apply_guarded inserts (migration 6, the rule of migration 5's prserv_apply): a
  // row flagged may_exist only if it is not stored.
  return reserved`INSERT INTO prmain (version, pkgarch, checksum, value, created_at, peer)
    SELECT n.v, n.a, n.c, n.value, now(), n.peer
    FROM (
      SELECT (${v}::text[])[r.p + 1] AS v, (${a}::text[])[r.p + 1] AS a, r.c, r.value, r.peer,
        r.may_exist, r.o
      FROM unnest(${row.p}::integer[], ${row.c}::text[], ${row.value}::text[],
        ${row.peer}::text[], ${row.mayExist}::boolean[])
        WITH ORDINALITY AS r(p, c, value, peer, may_exist, o)
    ) AS n
    WHERE NOT (n.may_exist AND EXISTS (SELECT 1 FROM prmain x
      WHERE x.version = n.v AND x.pkgarch = n.a AND x.checksum = n.c AND x.value = n.value))
    ORDER BY n.o`
}

/**
 * Ends a transaction that failed before its commit and rethrows the first failure. The
 * connection is rolled back and released only if its session is known to be alive;
 * otherwise it is left alone (see the file comment).
 */
async function abandon(
  reserved: ReservedSql,
  failures: readonly unknown[],
  isSessionLive: boolean,
): Promise<never> {
  if (isSessionLive) {
    const rollback = await Promise.allSettled([reserved.unsafe('ROLLBACK')])
    if (rollback.every((outcome) => outcome.status === 'fulfilled')) reserved.release()
  }
  throw asError(failures[0], 'allocation transaction failed')
}

function failuresOf(outcomes: readonly PromiseSettledResult<unknown>[]): unknown[] {
  const failures: unknown[] = []
  for (const outcome of outcomes) if (outcome.status === 'rejected') failures.push(outcome.reason)
  return failures
}

/**
 * Whether `error` is an ordinary statement error on a session that stays open (an ERROR from
 * the server, not FATAL/PANIC and not a connection failure of the driver).
 */
function isServerError(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'PostgresError') return false
  const severity: unknown = Reflect.get(error, 'severity')
  return severity === 'ERROR'
}
