/**
 * `PrStore` on a BitBake-compatible SQLite file (prserv.md §6.1). Reads run on a main-thread
 * read connection; writes go through a bounded queue to one writer thread (group commit,
 * synchronous=FULL). See docs of `openSqlitePrStore` for the guarantees.
 */
import type Database from 'better-sqlite3'
import { createLogger } from '../../observability/logger.js'
import type { Logger } from '../../observability/logger.js'
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
import { requirePageArguments } from '../../services/prserv/pr-store.js'
import { isRevision } from '../../services/prserv/revision.js'
import { GetPrAnswerCache } from './sqlite-answer-cache.js'
import { SqlitePrExporter } from './sqlite-export.js'
import { openReadDatabase } from './sqlite-open.js'
import { SqlitePrQueries } from './sqlite-queries.js'
import { SqliteTurnSnapshot } from './sqlite-turn-snapshot.js'
import { planWriteOp } from './sqlite-write-ops.js'
import type { KeyedWriteOp, WriteOpOutput, WritePlan } from './sqlite-write-ops.js'
import { DEFAULT_MAX_PENDING_WRITES } from '../write-queue-limit.js'
import { startSqliteWriter } from './sqlite-writer-client.js'
import type { WriterStartup } from './sqlite-writer-protocol.js'
import type { SqliteWriterClient } from './sqlite-writer-client.js'

/** Default time a connection waits for another process's lock before failing. */
export const DEFAULT_BUSY_TIMEOUT_MS = 10_000
/** Largest number of write operations committed in one transaction. */
export const MAX_BATCH_OPS = 1_000

/** Options of `openSqlitePrStore`. */
export interface SqlitePrStoreOptions {
  /** Database file; created with its parent directories unless read-only. */
  readonly path: string
  /** Open with SQLite's read-only mode: never writes, the file and PRMAIN must exist. */
  readonly readOnly: boolean
  /** Parent logger; the store logs lifecycle events and writer failures. Silent if absent. */
  readonly logger?: Logger | undefined
  /** Write operations allowed to wait; beyond it writes fail "server overloaded". */
  readonly maxPendingWrites?: number | undefined
  /** SQLite busy timeout for locks held by other processes, in ms. */
  readonly busyTimeoutMs?: number | undefined
}

/**
 * Opens the store. Read-write: creates the file (WAL, synchronous=FULL) and PRMAIN exactly as
 * BitBake does, plus our side tables `prserv_meta` and `prserv_order` (ordering index and
 * audit trail); an existing BitBake file is used in place and stays usable by BitBake.
 * Read-only: SQLite read-only mode; throws a StorageError if the file or PRMAIN is missing.
 */
export async function openSqlitePrStore(options: SqlitePrStoreOptions): Promise<SqlitePrStore> {
  const log = (options.logger ?? createLogger('silent')).child({ store: 'sqlite' })
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS
  if (options.readOnly) {
    const { db, isIndexed } = openReadDatabase(options.path, busyTimeoutMs, false)
    if (!isIndexed) log.warn({ path: options.path }, 'no usable prserv_order index: scanning')
    log.info({ path: options.path, readOnly: true, isIndexed }, 'sqlite pr store opened')
    return new SqlitePrStore(db, new SqlitePrQueries(db, isIndexed), null)
  }
  const { writer, startup } = await startSqliteWriter({
    path: options.path,
    busyTimeoutMs,
    maxPendingWrites: options.maxPendingWrites ?? DEFAULT_MAX_PENDING_WRITES,
    maxBatchOps: MAX_BATCH_OPS,
    onFailure: (err) => {
      log.error({ err }, 'sqlite writer failed: writes are refused')
    },
  })
  try {
    const { db } = openReadDatabase(options.path, busyTimeoutMs, true)
    logStartup(log, options.path, startup)
    log.info({ path: options.path, readOnly: false }, 'sqlite pr store opened')
    return new SqlitePrStore(db, new SqlitePrQueries(db, true), writer)
  } catch (error: unknown) {
    await writer.close()
    throw error
  }
}

function logStartup(log: Logger, path: string, startup: WriterStartup): void {
  const { schemaFromVersion, schemaToVersion, journalMode, caughtUpRows } = startup
  if (schemaFromVersion !== schemaToVersion) {
    log.info({ path, schemaFromVersion, schemaToVersion }, 'sqlite prserv schema migrated')
  }
  if (startup.rebuiltOrderIndex) log.warn({ path }, 'prserv_order did not match PRMAIN: rebuilt')
  if (caughtUpRows > 0) log.info({ path, caughtUpRows }, 'indexed PRMAIN rows written elsewhere')
  if (journalMode !== 'wal') log.warn({ path, journalMode }, 'sqlite WAL journal mode unavailable')
}

/** A copy of `op` holding only its own fields, so that it can be posted to the writer. */
function toPlainWriteOp(op: KeyedWriteOp): KeyedWriteOp {
  const key = { version: op.key.version, pkgarch: op.key.pkgarch, checksum: op.key.checksum }
  const origin = { peer: op.origin.peer }
  switch (op.kind) {
    case 'reconcile': {
      const { max, hasChecksum } = op.upstream
      const upstream = hasChecksum === undefined ? { max } : { max, hasChecksum }
      return { ...op, key, origin, upstream }
    }
    case 'get-pr':
    case 'import':
    case 'adopt':
    case 'sub-value':
      return { ...op, key, origin }
    default: {
      const unexpected: never = op
      throw new TypeError(`unknown write op ${JSON.stringify(unexpected)}`)
    }
  }
}

function requireRevisionInput(value: string, what: string): void {
  if (!isRevision(value)) {
    throw new RangeError(`${what} is not a revision: ${JSON.stringify(value)}`)
  }
}

function expectRevision(output: WriteOpOutput): string {
  if (typeof output !== 'string') throw new StorageError('sqlite store: expected a revision')
  return output
}

function expectReconcileResult(output: WriteOpOutput): ReconcileResult {
  if (output === null || typeof output === 'string' || !('kind' in output)) {
    throw new StorageError('sqlite store: expected a reconcile result')
  }
  return output
}

function expectImportRowsResult(output: WriteOpOutput): ImportRowsResult {
  if (output === null || typeof output === 'string' || !('written' in output)) {
    throw new StorageError('sqlite store: expected import counts')
  }
  return output
}

/** Copies of the rows holding only their own fields, so that they can be posted. */
function toPlainRows(rows: readonly AuditedPrRow[]): AuditedPrRow[] {
  return rows.map(({ version, pkgarch, checksum, value, createdAt, peer }) => {
    return { version, pkgarch, checksum, value, createdAt, peer }
  })
}

/**
 * The SQLite `PrStore`. Every method is atomic. Writes resolve only after their transaction
 * committed with synchronous=FULL; concurrent writes share transactions (group commit) and are
 * decided in arrival order inside them, and identical calls pending at once are answered once
 * (one value per key). Read-only stores answer what would be stored. Methods taking revisions from the upstream
 * (`base`, `upstream.max`, adopted `value`) throw a RangeError for a non-revision.
 */
export class SqlitePrStore implements PrStore {
  readonly capabilities: PrStoreCapabilities = { backend: 'sqlite', supportsSharedDatabase: true }
  readonly isReadOnly: boolean
  readonly #db: Database.Database
  readonly #queries: SqlitePrQueries
  readonly #exporter: SqlitePrExporter
  readonly #writer: SqliteWriterClient | null
  readonly #answers = new GetPrAnswerCache()
  readonly #snapshot: SqliteTurnSnapshot
  #closed: Promise<void> | null = null

  /** Use `openSqlitePrStore`. `writer` is null for a read-only store. */
  constructor(db: Database.Database, queries: SqlitePrQueries, writer: SqliteWriterClient | null) {
    this.#db = db
    this.#queries = queries
    this.#exporter = new SqlitePrExporter(db, queries)
    this.#writer = writer
    this.isReadOnly = writer === null
    // Another connection committed: cached answers may be out of date.
    this.#snapshot = new SqliteTurnSnapshot(db, () => {
      this.#answers.clear()
    })
    // Our own commit: forget cached answers and the current snapshot before any write of the
    // batch resolves, so that every later read sees the batch.
    writer?.setBatchSettledListener(() => {
      this.#answers.clear()
      this.#snapshot.end()
    })
  }

  /** The writer thread's fatal error, once it has failed (reads keep working). */
  get writerFailure(): StorageError | null {
    return this.#writer?.failure ?? null
  }

  stats(): StoreStats {
    const counts = this.#writer?.counts ?? { queued: 0, batches: 0, batchedWrites: 0 }
    return {
      queuedWrites: counts.queued,
      writeBatches: counts.batches,
      batchedWrites: counts.batchedWrites,
      isDatabaseAvailable: this.writerFailure === null,
    }
  }

  async getPr(key: PrKey, history: boolean, origin: WriteOrigin): Promise<string> {
    return expectRevision(await this.#execute({ kind: 'get-pr', key, history, origin }))
  }

  testPr(key: PrKey, history: boolean): Promise<string | null> {
    return this.#read(() => this.#queries.checksumValue(key, history))
  }

  testPackage(pkg: PackageKey): Promise<boolean> {
    return this.#read(() => this.#queries.hasPackage(pkg))
  }

  maxPackagePr(pkg: PackageKey): Promise<string | null> {
    return this.#read(() => this.#queries.packageMax(pkg))
  }

  async importOne(key: PrKey, value: string, origin: WriteOrigin): Promise<void> {
    if (this.isReadOnly) throw new ReadOnlyError('import-one on a read-only PR store')
    await this.#execute({ kind: 'import', key, value, origin })
  }

  /** One writer transaction for all rows, queued with (and ordered among) other writes. */
  async importRows(rows: readonly AuditedPrRow[]): Promise<ImportRowsResult> {
    if (this.#writer === null) throw new ReadOnlyError('import on a read-only PR store')
    if (this.#closed !== null) throw new StorageError('sqlite store is closed')
    if (rows.length === 0) return { written: 0, skipped: 0 }
    const op = { kind: 'import-rows', rows: toPlainRows(rows) } as const
    return expectImportRowsResult(await this.#writer.submit(op))
  }

  exportRows(filter: ExportFilter): Promise<readonly AuditedPrRow[]> {
    return this.#read(() => this.#exporter.exportRows(filter))
  }

  async exportPage(after: number, limit: number): Promise<ExportPage> {
    requirePageArguments(after, limit)
    return this.#read(() => this.#exporter.exportPage(after, limit))
  }

  async exportMaximaPage(after: number, limit: number): Promise<ExportPage> {
    requirePageArguments(after, limit)
    return this.#read(() => this.#exporter.exportMaximaPage(after, limit))
  }

  exportVersionRows(versions: readonly string[]): Promise<readonly AuditedPrRow[]> {
    if (versions.length === 0) return Promise.resolve([])
    return this.#read(() => this.#exporter.exportVersionRows(versions))
  }

  findRows(keys: readonly PrKey[]): Promise<readonly PositionedPrRow[]> {
    return this.#read(() => this.#exporter.findRows(keys))
  }

  rowStats(): Promise<RowStats> {
    return this.#read(() => this.#exporter.rowStats())
  }

  async reconcileKnownChecksum(
    key: PrKey,
    upstream: UpstreamView,
    origin: WriteOrigin,
  ): Promise<ReconcileResult> {
    if (upstream.max !== null) requireRevisionInput(upstream.max, 'upstream maximum')
    const output = await this.#execute({ kind: 'reconcile', key, upstream, origin })
    return expectReconcileResult(output)
  }

  async adoptValue(
    key: PrKey,
    value: string,
    history: boolean,
    origin: WriteOrigin,
  ): Promise<string> {
    requireRevisionInput(value, 'adopted value')
    return expectRevision(await this.#execute({ kind: 'adopt', key, value, history, origin }))
  }

  async allocateSubValue(
    key: PrKey,
    base: string,
    history: boolean,
    origin: WriteOrigin,
  ): Promise<string> {
    requireRevisionInput(base, 'sub-value base')
    return expectRevision(await this.#execute({ kind: 'sub-value', key, base, history, origin }))
  }

  close(): Promise<void> {
    this.#closed ??= this.#shutdown()
    return this.#closed
  }

  async #shutdown(): Promise<void> {
    // Queued writes finish first; the read connection closes before the writer so that the
    // writer's connection is the last one and checkpoints the WAL.
    await this.#writer?.whenIdle()
    this.#writer?.setBatchSettledListener(null)
    this.#snapshot.end()
    this.#db.close()
    await this.#writer?.close()
  }

  /**
   * Decides on a read snapshot; only when a row must be stored does the writer re-decide.
   * Synchronous up to `submit`, so a call made before `close` is queued before it drains.
   */
  #execute(callerOp: KeyedWriteOp): Promise<WriteOpOutput> {
    try {
      const cached = this.#cachedAnswer(callerOp)
      if (cached !== undefined) return Promise.resolve(cached)
      const op = toPlainWriteOp(callerOp)
      const plan = this.#readNow(() => this.#planOnSnapshot(op))
      if (this.#writer === null) return Promise.resolve(plan?.output ?? null)
      if (plan === null || plan.valueToStore !== null) return this.#writer.submit(op)
      return Promise.resolve(plan.output)
    } catch (error: unknown) {
      return Promise.reject(error instanceof Error ? error : new StorageError('sqlite failure'))
    }
  }

  /** A final `get-pr` answer from the cache (after this turn's check for other commits). */
  #cachedAnswer(op: KeyedWriteOp): string | undefined {
    if (op.kind !== 'get-pr') return undefined
    this.#enterSnapshot()
    return this.#answers.get(op.key, op.history)
  }

  /** The plan on the current snapshot; null when the writer must decide anyway. */
  #planOnSnapshot(op: KeyedWriteOp): WritePlan | null {
    if (op.kind !== 'get-pr') return planWriteOp(this.#queries, op)
    // A checksum without rows always gets a new row: skip the package reads.
    if (this.#writer !== null && !this.#queries.hasChecksum(op.key)) return null
    const plan = planWriteOp(this.#queries, op)
    if (plan.valueToStore === null && typeof plan.output === 'string') {
      this.#answers.set(op.key, op.history, plan.output)
    }
    return plan
  }

  #read<T>(read: () => T): Promise<T> {
    try {
      return Promise.resolve(this.#readNow(read))
    } catch (error: unknown) {
      return Promise.reject(error instanceof Error ? error : new StorageError('sqlite failure'))
    }
  }

  /** Runs `read` on this turn's snapshot; driver errors become StorageErrors. */
  #readNow<T>(read: () => T): T {
    this.#enterSnapshot()
    try {
      return this.#queries.read(read)
    } catch (error: unknown) {
      if (error instanceof RangeError || error instanceof StorageError) throw error
      throw new StorageError('sqlite read failed', { cause: error })
    }
  }

  #enterSnapshot(): void {
    if (this.#closed !== null) throw new StorageError('sqlite store is closed')
    try {
      this.#snapshot.enter()
    } catch (error: unknown) {
      throw new StorageError('sqlite read failed', { cause: error })
    }
  }
}
