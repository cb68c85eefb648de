/**
 * The PostgreSQL PR store: any number of replicas (server processes) share one database.
 * Allocations are batched (postgres-batcher.ts) and written with a guarded, package-locked
 * statement (postgres-batch-executor.ts); docs/integration.md argues why no value is handed
 * out twice.
 */
import type { Logger } from '../../observability/logger.js'
import { createLogger } from '../../observability/logger.js'
import { ReadOnlyError, StorageError } from '../../protocol/errors.js'
import type {
  AuditedPrRow,
  ExportFilter,
  ExportPage,
  ImportRowsResult,
  PackageKey,
  PositionedPrRow,
  PrKey,
  PrStore,
  PrStoreCapabilities,
  ReconcileResult,
  RowStats,
  StoreStats,
  UpstreamView,
  WriteOrigin,
} from '../../services/prserv/pr-store.js'
import {
  fieldTextProblem,
  requirePageArguments,
  rowTextProblem,
} from '../../services/prserv/pr-store.js'
import { isRevision } from '../../services/prserv/revision.js'
import { createAllocationStatements } from './postgres-allocation-statements.js'
import { runAllocationBatch } from './postgres-batch-executor.js'
import type { AllocationOp, AllocationOutput } from './postgres-batch-plan.js'
import { AllocationBatcher } from './postgres-batcher.js'
import { toStorageError } from './postgres-errors.js'
import {
  exportPrMaximaPage,
  exportPrPage,
  exportPrRows,
  exportPrVersionRows,
  findPrRows,
  prRowStats,
} from './postgres-export.js'
import { importPrRows } from './postgres-import.js'
import { migratePostgresSchema, requireCurrentSchema } from './postgres-migrations.js'
import { OptimisticAllocation } from './postgres-optimistic.js'
import { PostgresPool } from './postgres-pool.js'
import { DEFAULT_MAX_PENDING_WRITES } from '../write-queue-limit.js'

/** Default connection attempt limit: a down database is reported well within 30 s. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000
/** Default answer deadline of every store call, queueing included. */
export const DEFAULT_OPERATION_TIMEOUT_MS = 5_000
/** Default wait for a package lock held by another replica's batch. */
export const DEFAULT_LOCK_TIMEOUT_MS = 3_000
/** Default most operations per batch. */
export const DEFAULT_MAX_BATCH_OPS = 512
/** Default most distinct packages, hence advisory locks, per batch. */
export const DEFAULT_MAX_BATCH_PACKAGES = 64
/** Default most batches running at once (further capped by the pool size). */
export const DEFAULT_MAX_IN_FLIGHT_BATCHES = 4
/**
 * Default operations that must wait before a batch starts beside running ones. Below it a
 * replica runs one batch at a time: at 64 and 128 clients that served 5–18% more allocations
 * per second than the earlier default of 32, with batches of the same size; at 16, 256 and
 * 512 clients the two were level (bench/RESULTS.md, 2026-11-24, "one batch at a time").
 */
export const DEFAULT_MIN_BATCH_OPS_WHILE_BUSY = 128
/**
 * Default time without a new batch after which waiting operations get one beside running
 * ones anyway: ten times a batch's usual life in the benchmark (2–8 ms), well below
 * DEFAULT_LOCK_TIMEOUT_MS.
 */
export const DEFAULT_STALLED_BATCH_MS = 50

/** Options of `openPostgresPrStore`. Durations in milliseconds. */
export interface PostgresPrStoreOptions {
  /** postgres://user:password@host:port/database (one database per dataset). Never logged. */
  readonly url: string
  /** Never write; the schema must already be current. */
  readonly readOnly: boolean
  /** Pool size cap (`--max-connections`). */
  readonly maxConnections: number
  /** Parent logger (a child `store: postgres` is used); silent when absent. */
  readonly logger?: Logger
  /** Connection attempt limit; default DEFAULT_CONNECT_TIMEOUT_MS. */
  readonly connectTimeoutMs?: number
  /** Answer deadline of every call, queueing included; default DEFAULT_OPERATION_TIMEOUT_MS. */
  readonly operationTimeoutMs?: number
  /** Wait for a package lock held elsewhere; default DEFAULT_LOCK_TIMEOUT_MS. */
  readonly lockTimeoutMs?: number
  /** Default DEFAULT_MAX_BATCH_OPS. */
  readonly maxBatchOps?: number
  /** Default DEFAULT_MAX_BATCH_PACKAGES. */
  readonly maxBatchPackages?: number
  /** Default DEFAULT_MAX_IN_FLIGHT_BATCHES, never more than `maxConnections`. */
  readonly maxInFlightBatches?: number
  /** Default DEFAULT_MIN_BATCH_OPS_WHILE_BUSY (see BatcherOptions). */
  readonly minBatchOpsWhileBusy?: number
  /** Default DEFAULT_STALLED_BATCH_MS (see BatcherOptions). */
  readonly stalledBatchMs?: number
  /** Default DEFAULT_MAX_PENDING_WRITES (`--max-pending-writes` is the natural source). */
  readonly maxQueuedOps?: number
  /**
   * Named prepared statements (default true). false behind poolers without prepared-statement
   * support: each parameterised statement then costs one more round trip.
   */
  readonly prepareStatements?: boolean
  /** `application_name` of the connections; default 'prserv'. */
  readonly applicationName?: string
}

/**
 * Opens the store: connects, and (read-write) applies pending migrations, or (read-only)
 * checks the schema is current. Throws a StorageError when the database is unusable.
 */
export async function openPostgresPrStore(
  options: PostgresPrStoreOptions,
): Promise<PostgresPrStore> {
  if (!Number.isInteger(options.maxConnections) || options.maxConnections < 1) {
    throw new RangeError(`maxConnections must be a positive integer, got ${options.maxConnections}`)
  }
  const logger = (options.logger ?? createLogger('silent')).child({ store: 'postgres' })
  const operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS
  const pool = new PostgresPool({
    url: options.url,
    maxConnections: options.maxConnections,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    callTimeoutMs: operationTimeoutMs,
    prepareStatements: options.prepareStatements ?? true,
    applicationName: options.applicationName ?? 'prserv',
    logger,
  })
  try {
    if (options.readOnly) {
      await requireCurrentSchema(pool.sql)
    } else {
      const outcome = await migratePostgresSchema(pool.sql)
      if (outcome.fromVersion !== outcome.toVersion) {
        logger.info(outcome, 'postgres schema migrated')
      }
    }
  } catch (error: unknown) {
    await pool.close()
    throw toStorageError(error, 'opening the database')
  }
  logger.info(
    { readOnly: options.readOnly, maxConnections: options.maxConnections },
    'postgres store open',
  )
  return new PostgresPrStore(pool, {
    isReadOnly: options.readOnly,
    logger,
    operationTimeoutMs,
    lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    maxBatchOps: options.maxBatchOps ?? DEFAULT_MAX_BATCH_OPS,
    maxBatchPackages: options.maxBatchPackages ?? DEFAULT_MAX_BATCH_PACKAGES,
    maxInFlightBatches: Math.min(
      options.maxInFlightBatches ?? DEFAULT_MAX_IN_FLIGHT_BATCHES,
      options.maxConnections,
    ),
    minBatchOpsWhileBusy: options.minBatchOpsWhileBusy ?? DEFAULT_MIN_BATCH_OPS_WHILE_BUSY,
    stalledBatchMs: options.stalledBatchMs ?? DEFAULT_STALLED_BATCH_MS,
    maxQueuedOps: options.maxQueuedOps ?? DEFAULT_MAX_PENDING_WRITES,
  })
}

interface StoreSettings {
  readonly isReadOnly: boolean
  readonly logger: Logger
  readonly operationTimeoutMs: number
  readonly lockTimeoutMs: number
  readonly maxBatchOps: number
  readonly maxBatchPackages: number
  readonly maxInFlightBatches: number
  readonly minBatchOpsWhileBusy: number
  readonly stalledBatchMs: number
  readonly maxQueuedOps: number
}

/**
 * PrStore on PostgreSQL. Safe for any number of concurrent calls and any number of replicas
 * on one database: a value is never allocated twice for a package, concurrent calls for one
 * key get one answer, and every stored value is committed before its promise resolves. Calls
 * fail with a StorageError ("database unavailable …") within `operationTimeoutMs` when the
 * database cannot answer; the pool reconnects by itself.
 */
export class PostgresPrStore implements PrStore {
  readonly capabilities: PrStoreCapabilities = { backend: 'postgres', supportsSharedDatabase: true }
  readonly isReadOnly: boolean
  readonly #pool: PostgresPool
  readonly #batcher: AllocationBatcher
  #closing: Promise<void> | null = null

  /** Use `openPostgresPrStore`, which prepares the schema first. */
  constructor(pool: PostgresPool, settings: StoreSettings) {
    this.#pool = pool
    this.isReadOnly = settings.isReadOnly
    const statements = createAllocationStatements(pool, {
      lockTimeoutMs: settings.lockTimeoutMs,
      idleInTransactionTimeoutMs: settings.operationTimeoutMs,
    })
    const runOptions = {
      isReadOnly: settings.isReadOnly,
      optimistic: settings.isReadOnly ? null : new OptimisticAllocation(settings.logger),
    }
    this.#batcher = new AllocationBatcher({
      ...settings,
      runBatch: (entries) => runAllocationBatch(entries, statements, runOptions),
    })
  }

  stats(): StoreStats {
    const { batches, ops } = this.#batcher.batchCounts
    return {
      queuedWrites: this.#batcher.queuedOps,
      writeBatches: batches,
      batchedWrites: ops,
      isDatabaseAvailable: this.#pool.isAvailable,
    }
  }

  async getPr(key: PrKey, history: boolean, origin: WriteOrigin): Promise<string> {
    return expectRevision(await this.#allocate({ kind: 'get-pr', key, history }, origin))
  }

  async testPr(key: PrKey, history: boolean): Promise<string | null> {
    const { version, pkgarch, checksum } = key
    // Two texts rather than a dynamic aggregate name: both stay plain parameterised SQL.
    const rows = await this.#pool.run('test-pr', (sql) =>
      history
        ? sql<ValueRow[]>`SELECT value FROM prmain
            WHERE version = ${version} AND pkgarch = ${pkgarch} AND checksum = ${checksum}
              AND sort_key = (SELECT min(sort_key) FROM prmain WHERE version = ${version}
                AND pkgarch = ${pkgarch} AND checksum = ${checksum})
            ORDER BY id LIMIT 1`
        : sql<ValueRow[]>`SELECT value FROM prmain
            WHERE version = ${version} AND pkgarch = ${pkgarch} AND checksum = ${checksum}
              AND sort_key = (SELECT max(sort_key) FROM prmain WHERE version = ${version}
                AND pkgarch = ${pkgarch} AND checksum = ${checksum})
            ORDER BY id LIMIT 1`,
    )
    return rows[0]?.value ?? null
  }

  async testPackage(pkg: PackageKey): Promise<boolean> {
    const rows = await this.#pool.run(
      'test-package',
      (sql) => sql<{ found: boolean }[]>`SELECT EXISTS (
        SELECT 1 FROM prmain WHERE version = ${pkg.version} AND pkgarch = ${pkg.pkgarch}
      ) AS found`,
    )
    return rows[0]?.found ?? false
  }

  async maxPackagePr(pkg: PackageKey): Promise<string | null> {
    const { version, pkgarch } = pkg
    const rows = await this.#pool.run(
      'max-package-pr',
      (sql) => sql<ValueRow[]>`SELECT value FROM prmain
        WHERE version = ${version} AND pkgarch = ${pkgarch} AND sort_key = (
          SELECT max(sort_key) FROM prmain WHERE version = ${version} AND pkgarch = ${pkgarch})
        ORDER BY id LIMIT 1`,
    )
    return rows[0]?.value ?? null
  }

  async importOne(key: PrKey, value: string, origin: WriteOrigin): Promise<void> {
    if (this.isReadOnly) throw new ReadOnlyError('import-one on a read-only store')
    await this.#allocate({ kind: 'import', key, value }, origin)
  }

  /** One statement, outside the allocation batches (postgres-import.ts says why). */
  async importRows(rows: readonly AuditedPrRow[]): Promise<ImportRowsResult> {
    if (this.isReadOnly) throw new ReadOnlyError('import on a read-only store')
    requireStorable(rows, 'store', rowTextProblem)
    return this.#pool.run('import', (sql) => importPrRows(sql, rows))
  }

  exportRows(filter: ExportFilter): Promise<readonly AuditedPrRow[]> {
    return this.#pool.run('export', (sql) => exportPrRows(sql, filter))
  }

  async exportPage(after: number, limit: number): Promise<ExportPage> {
    requirePageArguments(after, limit)
    return this.#pool.run('export', (sql) => exportPrPage(sql, after, limit))
  }

  async exportMaximaPage(after: number, limit: number): Promise<ExportPage> {
    requirePageArguments(after, limit)
    return this.#pool.run('export', (sql) => exportPrMaximaPage(sql, after, limit))
  }

  exportVersionRows(versions: readonly string[]): Promise<readonly AuditedPrRow[]> {
    if (versions.length === 0) return Promise.resolve([])
    return this.#pool.run('export', (sql) => exportPrVersionRows(sql, versions))
  }

  async findRows(keys: readonly PrKey[]): Promise<readonly PositionedPrRow[]> {
    if (keys.length === 0) return []
    // PostgreSQL refuses a NUL in a parameter; the row could not be stored anyway.
    requireStorable(keys, 'look up', (key) => rowTextProblem({ ...key, value: null }))
    return this.#pool.run('find rows', (sql) => findPrRows(sql, keys))
  }

  rowStats(): Promise<RowStats> {
    return this.#pool.run('row stats', (sql) => prRowStats(sql))
  }

  async reconcileKnownChecksum(
    key: PrKey,
    upstream: UpstreamView,
    origin: WriteOrigin,
  ): Promise<ReconcileResult> {
    if (upstream.max !== null) requireRevisionInput(upstream.max, 'upstream maximum')
    const output = await this.#allocate({ kind: 'reconcile', key, upstream }, origin)
    if (typeof output === 'object' && output !== null) return output
    throw new StorageError('reconcile produced no outcome')
  }

  async adoptValue(
    key: PrKey,
    value: string,
    history: boolean,
    origin: WriteOrigin,
  ): Promise<string> {
    requireRevisionInput(value, 'adopted value')
    return expectRevision(await this.#allocate({ kind: 'adopt', key, value, history }, origin))
  }

  async allocateSubValue(
    key: PrKey,
    base: string,
    history: boolean,
    origin: WriteOrigin,
  ): Promise<string> {
    requireRevisionInput(base, 'sub-value base')
    const op: AllocationOp = { kind: 'sub-value', key, base, history }
    return expectRevision(await this.#allocate(op, origin))
  }

  /** Finishes queued allocations, then closes the pool. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#batcher.close().then(() => this.#pool.close())
    return this.#closing
  }

  #allocate(op: AllocationOp, origin: WriteOrigin): Promise<AllocationOutput> {
    // A text PostgreSQL refuses would fail the statement, hence every request of its batch.
    const problem = opTextProblem(op)
    if (problem !== null) return Promise.reject(new RangeError(`${op.kind}: ${problem}`))
    return this.#batcher.submit(op, origin.peer)
  }
}

/** Row types of our own statements: the driver returns rows as the caller types them. */
type ValueRow = { value: string | null }

/** Upstream-supplied revisions are validated before they reach a batch (RangeError). */
function requireRevisionInput(value: string, what: string): void {
  if (!isRevision(value))
    throw new RangeError(`${what} is not a revision: ${JSON.stringify(value)}`)
}

/** Throws a RangeError naming the first of `rows` with a `problem`. */
function requireStorable<Row extends PrKey>(
  rows: readonly Row[],
  verb: string,
  problemOf: (row: Row) => string | null,
): void {
  rows.forEach((row, index) => {
    const problem = problemOf(row)
    if (problem === null) return
    const key = JSON.stringify([row.version, row.pkgarch, row.checksum].map(preview))
    throw new RangeError(`cannot ${verb} row ${index + 1} of the batch ${key}: ${problem}`)
  })
}

/** At most 40 characters of `text`, for a message. */
function preview(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}

/** Why a text of `op` cannot be stored (rowTextProblem of its key, then its revision), or null. */
function opTextProblem(op: AllocationOp): string | null {
  const keyProblem = rowTextProblem({ ...op.key, value: null })
  if (keyProblem !== null) return keyProblem
  const [name, text] = opRevision(op)
  const problem = text === null ? null : fieldTextProblem(text)
  return problem === null ? null : `${name} ${problem}`
}

/** The revision `op` carries in, and its name for a message. */
function opRevision(op: AllocationOp): [string, string | null] {
  switch (op.kind) {
    case 'import':
    case 'adopt':
      return ['value', op.value]
    case 'sub-value':
      return ['base', op.base]
    case 'reconcile':
      return ['upstream maximum', op.upstream.max]
    case 'get-pr':
      return ['value', null]
  }
}

function expectRevision(output: AllocationOutput): string {
  if (typeof output === 'string') return output
  throw new StorageError('allocation produced no value')
}
