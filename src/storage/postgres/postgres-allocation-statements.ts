/**
 * The SQL of batched allocation: the unlocked state read of read-only stores, and the
 * two-round-trip write transaction (BEGIN + lock-and-read pipelined; INSERT + COMMIT
 * pipelined) on a reserved connection.
 *
 * Driver discipline (postgres 3.4: a statement sent on a reserved connection after the
 * server closed it crashes the process from a timer, porsager/postgres#1208): statements are
 * only sent right after a successful answer (no event-loop turn in between), never after a
 * connection-level failure, and such a connection is never released: the driver already
 * took it back when it closed.
 */
import type { ReservedSql, Sql } from 'postgres'
import type { AllocationStatements, NewRow } from './postgres-batch-executor.js'
import type { StateLookup, StateRow } from './postgres-batch-plan.js'
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
  // Integers of ours, not client input: safe to put in the statement text.
  const begin =
    'BEGIN ISOLATION LEVEL READ COMMITTED; ' +
    `SET LOCAL lock_timeout = ${Math.trunc(timeouts.lockTimeoutMs)}; ` +
    `SET LOCAL idle_in_transaction_session_timeout = ${Math.trunc(timeouts.idleInTransactionTimeoutMs)}`
  // Rows come back as `StateRow` because prserv_read_state declares exactly those columns;
  // the driver trusts the type argument (the boundary between SQL and TypeScript).
  return {
    readState: (lookups) => {
      const payload = JSON.stringify(lookups)
      return pool.run(
        'allocation read',
        (sql) =>
          sql<StateRow[]>`SELECT k, i, p, lo, hi FROM prserv_read_state(${payload}::text::jsonb)`,
      )
    },
    writeLocked: (lookups, decide) =>
      pool.run('allocation', (sql) => writeInTransaction(sql, begin, lookups, decide)),
  }
}

async function writeInTransaction(
  sql: Sql,
  begin: string,
  lookups: readonly StateLookup[],
  decide: (state: readonly StateRow[]) => readonly NewRow[],
): Promise<void> {
  const reserved = await sql.reserve()
  const payload = JSON.stringify(lookups)
  const opened = await Promise.allSettled([
    reserved.unsafe(begin),
    reserved<StateRow[]>`SELECT k, i, p, lo, hi FROM prserv_lock_and_read(${payload}::text::jsonb)`,
  ])
  const [beginOutcome, readOutcome] = opened
  if (beginOutcome.status === 'rejected' || readOutcome.status !== 'fulfilled') {
    const failures = failuresOf(opened)
    await abandon(reserved, failures, failures.every(isServerError))
    return
  }
  let rows: readonly NewRow[]
  try {
    rows = decide(readOutcome.value)
  } catch (error: unknown) {
    // Nothing was sent since the last answer: the session is alive and must be rolled back.
    await abandon(reserved, [error], true)
    return
  }
  const written = await Promise.allSettled([
    rows.length === 0 ? Promise.resolve(null) : insertRows(reserved, rows),
    reserved.unsafe('COMMIT'),
  ])
  const failures = failuresOf(written)
  // After a failed INSERT the server answers COMMIT with a rollback: the first failure counts.
  if (failures.length === 0 || failures.every(isServerError)) reserved.release()
  if (failures.length > 0) throw asError(failures[0])
}

function insertRows(reserved: ReservedSql, rows: readonly NewRow[]): Promise<unknown> {
  const payload = JSON.stringify(rows)
  return reserved`INSERT INTO prmain (version, pkgarch, checksum, value, created_at, peer)
    SELECT n.v, n.a, n.c, n.value, now(), n.peer
    FROM jsonb_to_recordset(${payload}::text::jsonb)
      AS n(o integer, v text, a text, c text, value text, peer text)
    ORDER BY n.o
    ON CONFLICT ON CONSTRAINT prmain_bitbake_key DO NOTHING`
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
  throw asError(failures[0])
}

function failuresOf(outcomes: readonly PromiseSettledResult<unknown>[]): unknown[] {
  const failures: unknown[] = []
  for (const outcome of outcomes) if (outcome.status === 'rejected') failures.push(outcome.reason)
  return failures
}

/** The driver rejects with Error objects; anything else is wrapped so that it keeps a stack. */
function asError(failure: unknown): Error {
  return failure instanceof Error ? failure : new Error('allocation transaction failed')
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
