/**
 * The connection pool of a PostgreSQL store: the `postgres` driver configured for fail-fast
 * behaviour, every call bounded by a deadline, failures mapped to StorageErrors, and the whole
 * driver instance replaced when a call hangs (so no stuck connection outlives an outage).
 */
import { setTimeout as delay } from 'node:timers/promises'
import postgres from 'postgres'
import type { Sql } from 'postgres'
import type { Logger } from '../../observability/logger.js'
import { StorageError } from '../../protocol/errors.js'
import { isUnavailableError, timeoutError, toStorageError } from './postgres-errors.js'

/** How the pool connects. All durations are in milliseconds. */
export interface PostgresPoolOptions {
  /** Connection URL (postgres://user:password@host:port/database); never logged. */
  readonly url: string
  /** Upper bound on open connections. */
  readonly maxConnections: number
  /** A connection attempt fails after this long. */
  readonly connectTimeoutMs: number
  /** A call (one or a few pipelined statements) fails after this long. */
  readonly callTimeoutMs: number
  /**
   * Named prepared statements (one round trip per statement). false for connection poolers
   * without prepared-statement support; each parameterised statement then costs two.
   */
  readonly prepareStatements: boolean
  /** `application_name` shown in pg_stat_activity. */
  readonly applicationName: string
  readonly logger: Logger
}

/** Longest wait before reconnecting after a failed connection, in seconds (driver unit). */
const MAX_RECONNECT_DELAY_S = 0.5
/** Connections idle this long are closed, in seconds (driver unit). */
const IDLE_TIMEOUT_S = 60
/** How long a closing or replaced pool lets running statements finish, in seconds (driver unit). */
const CLOSE_GRACE_S = 1

/**
 * A pool whose calls never hang. Safe for any number of concurrent calls. A call may reserve a
 * connection for a transaction, following the discipline of postgres-allocation-statements.ts
 * (docs/integration.md §6 lists the driver defects it avoids).
 */
export class PostgresPool {
  readonly #options: PostgresPoolOptions
  readonly #retired = new Set<Promise<void>>()
  #sql: Sql
  #isHealthy = true
  #isClosed = false

  constructor(options: PostgresPoolOptions) {
    this.#options = options
    this.#sql = this.#connect()
  }

  /** False from a call that found the database unavailable until one reaches it again. */
  get isAvailable(): boolean {
    return this.#isHealthy
  }

  /** The driver instance for calls that are not bounded here (migrations at start-up). */
  get sql(): Sql {
    return this.#sql
  }

  /**
   * Runs `call` against the current driver instance, failing with a StorageError after
   * `callTimeoutMs`; a timed-out call's instance is replaced, which aborts its connections.
   * While the database is believed unavailable, a probe (SELECT 1) runs first, so calls fail
   * fast; the first successful probe replaces the instance, shedding whatever state the
   * driver kept from the outage. `action` names the operation in errors and logs.
   */
  async run<T>(action: string, call: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.#isClosed) throw new StorageError(`store closed during ${action}`)
    let sql = this.#sql
    let timer: NodeJS.Timeout | undefined
    const progress = { hasTimedOut: false }
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        progress.hasTimedOut = true
        reject(timeoutError(action, this.#options.callTimeoutMs))
      }, this.#options.callTimeoutMs)
    })
    try {
      if (!this.#isHealthy) {
        await Promise.race([sql`SELECT 1`, deadline])
        sql = this.#recover(sql)
      }
      const result = await Promise.race([call(sql), deadline])
      return result
    } catch (error: unknown) {
      // A call without an answer may be stuck on a broken connection: start afresh.
      if (progress.hasTimedOut) this.#replace(sql)
      const storageError = toStorageError(error, action)
      if (isUnavailableError(storageError)) this.#markUnavailable(storageError)
      throw storageError
    } finally {
      clearTimeout(timer)
    }
  }

  /** Ends every connection, letting running statements finish briefly. Idempotent. */
  async close(): Promise<void> {
    if (this.#isClosed) return
    this.#isClosed = true
    this.#retire(this.#sql, CLOSE_GRACE_S)
    await Promise.all(this.#retired)
  }

  #connect(): Sql {
    const { logger } = this.#options
    return postgres(this.#options.url, {
      max: this.#options.maxConnections,
      connect_timeout: this.#options.connectTimeoutMs / 1000,
      idle_timeout: IDLE_TIMEOUT_S,
      prepare: this.#options.prepareStatements,
      // Parameters are plain text (JSON documents included), so the type catalogue is not
      // needed; but with fetch_types off, reserve() on a connection that has to connect first
      // never resolves (postgres 3.4.9), so it stays on (one extra query per connection).
      fetch_types: true,
      backoff: (attempt: number) => Math.min(0.05 * 2 ** attempt, MAX_RECONNECT_DELAY_S),
      connection: { application_name: this.#options.applicationName },
      onnotice: (notice) => {
        logger.debug({ notice: { message: notice.message } }, 'postgres notice')
      },
    })
  }

  /** Swaps in a fresh driver instance unless `stale` was already replaced. */
  #replace(stale: Sql): void {
    if (this.#sql !== stale || this.#isClosed) return
    this.#options.logger.warn('database call timed out: reconnecting all connections')
    this.#sql = this.#connect()
    this.#retire(stale, 0)
  }

  #retire(sql: Sql, graceS: number): void {
    const ended = sql.end({ timeout: graceS }).then(
      () => undefined,
      (error: unknown) => {
        this.#options.logger.debug({ err: error }, 'postgres pool ended with an error')
      },
    )
    // The driver's end() can wait forever on a connection reset mid-statement: bound it.
    const bounded = Promise.race([ended, delay((graceS + 1) * 1000, undefined, { ref: false })])
    const tracked = bounded.finally(() => this.#retired.delete(tracked))
    this.#retired.add(tracked)
  }

  #markUnavailable(error: StorageError): void {
    if (!this.#isHealthy) return
    this.#isHealthy = false
    this.#options.logger.error({ err: error }, 'database unavailable')
  }

  /**
   * The database answered again: continue on a fresh driver instance. Reservations that
   * failed during the outage can leave the old one with connections nobody will release
   * (postgres 3.4.9 keeps a rejected reserve() request queued).
   */
  #recover(probed: Sql): Sql {
    if (!this.#isHealthy) {
      this.#isHealthy = true
      this.#options.logger.warn('database available again')
      if (this.#sql === probed) {
        this.#sql = this.#connect()
        this.#retire(probed, CLOSE_GRACE_S)
      }
    }
    return this.#sql
  }
}
