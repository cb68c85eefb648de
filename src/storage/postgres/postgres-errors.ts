/**
 * Turning driver failures into StorageErrors with a message an operator (and a BitBake user)
 * can act on: "database unavailable" for anything that means the server cannot be reached or
 * is restarting, and "database error" for the rest. The driver error is always the `cause`.
 */
import { StorageError } from '../../protocol/errors.js'
import { ISOLATION_REFUSED_SQLSTATE } from './postgres-migrations.js'

/** Connection-level error codes of the `postgres` driver (not SQLSTATEs). */
const DRIVER_CONNECTION_CODES: ReadonlySet<string> = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
])

/** SQLSTATEs that mean the server is shutting down, starting up or out of connections. */
const UNAVAILABLE_SQLSTATES: ReadonlySet<string> = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, recovery)
  '53300', // too_many_connections
])

/** SQLSTATE of lock_timeout expiring while waiting for a package lock. */
const LOCK_NOT_AVAILABLE = '55P03'

/** The message prefix of every StorageError meaning "cannot reach PostgreSQL now". */
export const DATABASE_UNAVAILABLE = 'database unavailable'

/** Whether `error` came from the PostgreSQL server (it has a five-character SQLSTATE). */
function sqlStateOf(error: unknown): string | null {
  if (!(error instanceof Error) || error.name !== 'PostgresError') return null
  const code = codeOf(error)
  return code !== null && code.length === 5 ? code : null
}

function codeOf(error: Error): string | null {
  const code: unknown = Reflect.get(error, 'code')
  return typeof code === 'string' ? code : null
}

/**
 * Whether `error` means that the database cannot be reached or is restarting: driver
 * connection errors, socket errors (ECONNREFUSED, ECONNRESET, …), SQLSTATE class 08 and the
 * shutdown/startup states. Such failures are transient: the pool reconnects by itself.
 */
export function isUnavailableError(error: unknown): boolean {
  if (error instanceof StorageError) return error.message.startsWith(DATABASE_UNAVAILABLE)
  if (!(error instanceof Error)) return false
  const state = sqlStateOf(error)
  if (state !== null) return state.startsWith('08') || UNAVAILABLE_SQLSTATES.has(state)
  const code = codeOf(error)
  if (code === null) return false
  return DRIVER_CONNECTION_CODES.has(code) || /^E[A-Z]+$/.test(code)
}

/** A short, secret-free reason for a log line or a client: a code, never SQL or a URL. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown failure'
  const state = sqlStateOf(error)
  if (state !== null) return `SQLSTATE ${state}`
  return codeOf(error) ?? error.name
}

/**
 * The StorageError for a failed database call (`action` says what was being done, e.g.
 * "get-pr"). StorageErrors pass through unchanged.
 */
export function toStorageError(error: unknown, action: string): StorageError {
  if (error instanceof StorageError) return error
  const reason = reasonOf(error)
  if (isUnavailableError(error)) {
    return new StorageError(`${DATABASE_UNAVAILABLE} (${reason}) during ${action}`, {
      cause: error,
    })
  }
  if (sqlStateOf(error) === LOCK_NOT_AVAILABLE) {
    return new StorageError(`database busy: package lock wait timed out during ${action}`, {
      cause: error,
    })
  }
  return new StorageError(`database error (${reason}) during ${action}`, { cause: error })
}

/** The StorageError for a call that got no answer in time. */
export function timeoutError(action: string, timeoutMs: number): StorageError {
  return new StorageError(
    `${DATABASE_UNAVAILABLE} (no answer within ${timeoutMs} ms) during ${action}`,
  )
}

/** Whether `error` is the allocation functions' refusal to run outside READ COMMITTED. */
export function isIsolationRefusal(error: unknown): boolean {
  const cause = error instanceof StorageError ? error.cause : error
  return sqlStateOf(cause) === ISOLATION_REFUSED_SQLSTATE
}

/** Whether `error` is a package lock wait that reached `lock_timeout` (nothing was written). */
export function isLockTimeout(error: unknown): boolean {
  const cause = error instanceof StorageError ? error.cause : error
  return sqlStateOf(cause) === LOCK_NOT_AVAILABLE
}

/** `error` itself when it is an Error, else a StorageError saying `message` with it as cause. */
export function asError(error: unknown, message: string): Error {
  return error instanceof Error ? error : new StorageError(message, { cause: error })
}
