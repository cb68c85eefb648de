/**
 * The storage contract of the PR service. SQLite (storage/sqlite) and PostgreSQL
 * (storage/postgres) implement it; test/contract/pr-store.contract.ts checks every backend.
 *
 * Every method is atomic (one transaction). Every method that stores a value has committed
 * it durably before its promise resolves, so the service may acknowledge it at once.
 * Revisions are compared numerically (revision.ts), never as strings.
 */

/** A (version, pkgarch) pair: one package's revision sequence. */
export interface PackageKey {
  readonly version: string
  readonly pkgarch: string
}

/** A (version, pkgarch, checksum) triple: one build of a package. */
export interface PrKey extends PackageKey {
  readonly checksum: string
}

/**
 * Most UTF-8 bytes of a key field (version, pkgarch, checksum) or value a store accepts from a
 * request: PostgreSQL refuses index entries over about 2.7 KB, and four such fields fit.
 */
export const MAX_FIELD_BYTES = 512

/** Why `text` cannot be a key field or value (NUL, or over MAX_FIELD_BYTES), or null. */
export function fieldTextProblem(text: string): string | null {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: short texts need no count.
  if (text.length * 3 > MAX_FIELD_BYTES && Buffer.byteLength(text, 'utf8') > MAX_FIELD_BYTES) {
    return `is over ${MAX_FIELD_BYTES} bytes`
  }
  if (text.includes('\0')) return 'contains a NUL character'
  return null
}

/**
 * Why a row cannot be stored by every backend (fieldTextProblem of its key fields and value,
 * a NUL character in its peer), or null: the rule of the server (docs/compat.md row 24).
 */
export function rowTextProblem(
  row: PrKey & { readonly value: string | null; readonly peer?: string | null },
): string | null {
  for (const field of ['version', 'pkgarch', 'checksum', 'value'] as const) {
    const text = row[field]
    const problem = text === null ? null : fieldTextProblem(text)
    if (problem !== null) return `${field} ${problem}`
  }
  if (row.peer?.includes('\0') === true) return 'peer contains a NUL character'
  return null
}

/** Who caused a write, recorded in the audit trail (`peer` is e.g. "127.0.0.1:40312"). */
export interface WriteOrigin {
  readonly peer: string
}

/** One stored row, as exported. `value` is as stored (a revision string in practice). */
export interface PrRow extends PrKey {
  readonly value: string | null
}

/** A row with its audit trail: when the value was first stored and for which peer. */
export interface AuditedPrRow extends PrRow {
  /** ISO-8601 UTC time of the first store, or null for rows written by other software. */
  readonly createdAt: string | null
  /** Peer that caused the first store, or null when unknown. */
  readonly peer: string | null
}

/** Outcome of `importRows`: rows stored, and rows left out because the identical row existed. */
export interface ImportRowsResult {
  readonly written: number
  readonly skipped: number
}

/** Export filters: a non-empty string restricts by equality; null means no restriction. */
export interface ExportFilter {
  readonly version: string | null
  readonly pkgarch: string | null
  readonly checksum: string | null
  /** true: every row; false: per package only the rows holding its maximum value. */
  readonly history: boolean
}

/**
 * A row's position: its place in insertion order (SQLite's rowid, PostgreSQL's id), greater
 * than every position before it. Rows are never deleted, so a position is never reused.
 */
export interface PositionedPrRow extends PrRow {
  readonly position: number
}

/** One page of `exportPage`: rows in insertion order, and where the next page starts. */
export interface ExportPage {
  readonly rows: readonly AuditedPrRow[]
  /** The position of the last row of the page (`after` when it is empty). */
  readonly last: number
}

/** Counts of `rowStats`. */
export interface RowStats {
  /** Rows `exportRows` would return with history (an empty version is left out). */
  readonly rows: number
  /** The largest position (0 for an empty table): rows stored later lie above it. */
  readonly lastPosition: number
}

/** Outcome of `reconcileKnownChecksum`. */
export type ReconcileResult =
  | { readonly kind: 'value'; readonly value: string }
  /** The checksum has no revision locally (the caller should take the new-checksum path). */
  | { readonly kind: 'unknown' }
  /** The answer depends on whether the upstream knows the checksum: ask it, then call again. */
  | { readonly kind: 'needs-upstream-checksum' }

/** What the upstream said, for `reconcileKnownChecksum`. */
export interface UpstreamView {
  /** The upstream's max-package-pr; null when it does not know the package. */
  readonly max: string | null
  /** Whether the upstream has a value for the checksum; undefined when not asked yet. */
  readonly hasChecksum?: boolean
}

/** A store's running counts, read when metrics are scraped. */
export interface StoreStats {
  /** Write operations waiting for a batch (not yet sent to the database). */
  readonly queuedWrites: number
  /** Write batches that ended since the store opened (committed or failed). */
  readonly writeBatches: number
  /** Write operations those batches carried. */
  readonly batchedWrites: number
  /** False while the database is believed unreachable or broken; true otherwise. */
  readonly isDatabaseAvailable: boolean
}

/** Static facts about a backend that tests and the service may rely on. */
export interface PrStoreCapabilities {
  /** Backend name for logs: 'sqlite' or 'postgres'. */
  readonly backend: string
  /** Whether several server processes may share the database. */
  readonly supportsSharedDatabase: boolean
}

/** PR storage. Implementations are safe for any number of concurrent calls. */
export interface PrStore {
  readonly capabilities: PrStoreCapabilities
  /** True when the store never writes; allocating methods then return would-be values. */
  readonly isReadOnly: boolean
  /** Running counts for metrics; cheap, never touches the database. */
  stats(): StoreStats

  /**
   * Local allocation (prserv.md §4.1, numeric comparison): "0" for a new package; a new
   * checksum gets max+1; a known checksum gets its smallest value (history) or its largest,
   * bumped to max+1 when below the package maximum (no history). New values are stored
   * (unless read-only) and committed before the promise resolves. Concurrent calls for one
   * key get one answer; calls for distinct new checksums get distinct consecutive values.
   */
  getPr(key: PrKey, history: boolean, origin: WriteOrigin): Promise<string>

  /** The checksum's smallest (history) or largest value, or null. Never writes. */
  testPr(key: PrKey, history: boolean): Promise<string | null>

  /** Whether any row exists for the package. */
  testPackage(pkg: PackageKey): Promise<boolean>

  /** The package's largest revision (numeric), or null. */
  maxPackagePr(pkg: PackageKey): Promise<string | null>

  /**
   * Stores `value` for `key` verbatim unless that exact row exists. Throws ReadOnlyError on
   * a read-only store. Committed before the promise resolves.
   */
  importOne(key: PrKey, value: string, origin: WriteOrigin): Promise<void>

  /**
   * Bulk import (migration, `prserv import`): stores each row verbatim (value, `createdAt` and
   * `peer` as given, null included) in the order given, unless the identical (version,
   * pkgarch, checksum, value) row already exists or came earlier in `rows` (then it counts as
   * skipped; a null value equals a null value here). Values are not validated. Atomic: all
   * rows are committed before the promise resolves, or none. Throws ReadOnlyError on a
   * read-only store. Meant for batches of up to a few thousand rows; split larger imports.
   */
  importRows(rows: readonly AuditedPrRow[]): Promise<ImportRowsResult>

  /** Rows matching the filter, in insertion order, with their audit trail. */
  exportRows(filter: ExportFilter): Promise<readonly AuditedPrRow[]>

  /**
   * Every row (history included; an empty version left out) at a position above `after`, in
   * insertion order, at most `limit` of them: an export in pages of bounded memory. An empty
   * page is the end. Each page is its own snapshot.
   */
  exportPage(after: number, limit: number): Promise<ExportPage>

  /**
   * exportPage for an unfiltered export without history: of the rows read (at positions
   * above `after`, at most `limit` of them, in insertion order), those holding their
   * package's numeric maximum, as `exportRows` keeps them; rows and maxima are read in one
   * snapshot. `last` is the position of the last row read, so a page may be empty before the
   * end; the end is a page whose `last` is `after`.
   */
  exportMaximaPage(after: number, limit: number): Promise<ExportPage>

  /**
   * Every row (history included) of the given versions, in insertion order, with its audit
   * trail; an empty version never matches. One snapshot. Meant for a few thousand rows at a
   * time: the prserv-tool export reads versions in groups of about half a page.
   */
  exportVersionRows(versions: readonly string[]): Promise<readonly AuditedPrRow[]>

  /** Every stored row of the given keys, with its position, in no particular order. */
  findRows(keys: readonly PrKey[]): Promise<readonly PositionedPrRow[]>

  /** How many rows there are, and the largest position. */
  rowStats(): Promise<RowStats>

  /**
   * Upstream path, checksum known locally, no history (prserv.md §5.1): take the checksum's
   * largest value; bump it to local max+1 if below the local maximum; if still below the
   * upstream maximum, take that maximum (upstream knows the checksum) or `max + ".0"`. Stores
   * the result when it changed (unless read-only). Atomic.
   */
  reconcileKnownChecksum(
    key: PrKey,
    upstream: UpstreamView,
    origin: WriteOrigin,
  ): Promise<ReconcileResult>

  /**
   * Upstream path: stores a value the upstream holds for this checksum, unless the checksum
   * already has a value locally, and returns the checksum's value (largest, or smallest with
   * history) afterwards. Read-only: returns what would be stored.
   */
  adoptValue(key: PrKey, value: string, history: boolean, origin: WriteOrigin): Promise<string>

  /**
   * Upstream path (`new_subvalue`): unless the checksum already has a value locally (then that
   * value is returned as by `testPr`), allocates max+1 among the package's values below
   * `base` (`base.N…`), or `base + ".0"` when there are none, and stores it. Atomic.
   */
  allocateSubValue(key: PrKey, base: string, history: boolean, origin: WriteOrigin): Promise<string>

  /** Releases the database. Idempotent. */
  close(): Promise<void>
}

/** Whether `filter` restricts no column (an empty string, like null, means all). */
export function isUnfilteredExport(filter: ExportFilter): boolean {
  return [filter.version, filter.pkgarch, filter.checksum].every(
    (wanted) => wanted === null || wanted === '',
  )
}

/**
 * Whether `filter` asks for every row (history, no filter): the export that `exportPage`
 * reads in pages.
 */
export function isFullHistoryExport(filter: ExportFilter): boolean {
  return filter.history && isUnfilteredExport(filter)
}

/** Throws a RangeError unless `exportPage`'s arguments are a position and a positive count. */
export function requirePageArguments(after: number, limit: number): void {
  if (!Number.isSafeInteger(after) || after < 0) {
    throw new RangeError(`after must be a position (an integer >= 0), got ${after}`)
  }
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`limit must be a positive integer, got ${limit}`)
  }
}

/**
 * Every row of `store`, `batchRows` at a time (`PrStore.exportPage`, which rejects a
 * `batchRows` that is not a positive integer).
 */
export function pageStore(
  store: Pick<PrStore, 'exportPage'>,
  batchRows: number,
): AsyncGenerator<readonly AuditedPrRow[]> {
  return readPages((after) => store.exportPage(after, batchRows))
}

/**
 * The rows of an unfiltered export (`history`: every row, else those holding their package's
 * maximum), read `batchRows` at a time; pages with no such rows are left out.
 */
export function pageUnfilteredExport(
  store: Pick<PrStore, 'exportPage' | 'exportMaximaPage'>,
  history: boolean,
  batchRows: number,
): AsyncGenerator<readonly AuditedPrRow[]> {
  if (history) return pageStore(store, batchRows)
  return readPages((after) => store.exportMaximaPage(after, batchRows))
}

async function* readPages(
  read: (after: number) => Promise<ExportPage>,
): AsyncGenerator<readonly AuditedPrRow[]> {
  for (let after = 0; ;) {
    const page = await read(after)
    if (page.last === after) return
    if (page.rows.length > 0) yield page.rows
    after = page.last
  }
}
