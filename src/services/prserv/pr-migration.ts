/**
 * Copying PR rows into a store (`prserv migrate`): batched `importRows`, conflict counting
 * and a final check that every source row arrived. Works on any PrStore.
 */
import type { AuditedPrRow, PrRow, PrStore } from './pr-store.js'

/** Rows per `importRows` call (one transaction each) by default. */
export const DEFAULT_MIGRATION_BATCH_ROWS = 1_000

/** How `copyPrRows` runs. */
export interface CopyOptions {
  /** Rows per transaction. */
  readonly batchRows: number
  /** Called after each committed batch with the number of source rows handled so far. */
  readonly onProgress?: (done: number) => void
}

/** What `copyPrRows` did, and what the destination holds afterwards. */
export interface CopySummary {
  /** Source rows handed in. */
  readonly read: number
  /** Rows stored by this run. */
  readonly written: number
  /** Rows left out because the identical row was already there (or repeated in the source). */
  readonly skipped: number
  /**
   * Written rows whose (version, pkgarch, checksum) already held another value in the
   * destination before the run. They are written all the same: BitBake's table keeps several
   * values per checksum, and the numeric maximum decides future answers.
   */
  readonly conflicts: number
  /** Destination rows before and after the run (exported rows: an empty version is not). */
  readonly destinationRowsBefore: number
  readonly destinationRowsAfter: number
  /** Distinct source rows not found in the destination afterwards (0 when all arrived). */
  readonly missing: number
  /** True when nothing is missing and the destination grew by at least `written` rows. */
  readonly isVerified: boolean
}

function rowIdentity(row: PrRow): string {
  return JSON.stringify([row.version, row.pkgarch, row.checksum, row.value])
}

function keyIdentity(row: PrRow): string {
  return JSON.stringify([row.version, row.pkgarch, row.checksum])
}

/** Every row of a store, history included. */
function exportEverything(store: PrStore): Promise<readonly AuditedPrRow[]> {
  return store.exportRows({ version: null, pkgarch: null, checksum: null, history: true })
}

/**
 * Stores `rows` (in order, verbatim, audit fields included) into `destination` in batches of
 * `batchRows`, each one transaction; rows already there are skipped, so running it again
 * writes nothing. Then reads the destination back and counts missing rows. Conflicts are
 * judged against the destination as it was before the first batch.
 */
export async function copyPrRows(
  rows: readonly AuditedPrRow[],
  destination: PrStore,
  options: CopyOptions,
): Promise<CopySummary> {
  if (!Number.isSafeInteger(options.batchRows) || options.batchRows < 1) {
    throw new RangeError(`batchRows must be a positive integer, got ${options.batchRows}`)
  }
  const before = await exportEverything(destination)
  const conflicts = countConflicts(rows, before)
  let written = 0
  let skipped = 0
  for (let start = 0; start < rows.length; start += options.batchRows) {
    const batch = rows.slice(start, start + options.batchRows)
    const result = await destination.importRows(batch)
    written += result.written
    skipped += result.skipped
    options.onProgress?.(start + batch.length)
  }
  const after = await exportEverything(destination)
  const present = new Set(after.map(rowIdentity))
  const missing = new Set(rows.map(rowIdentity).filter((identity) => !present.has(identity)))
  return {
    read: rows.length,
    written,
    skipped,
    conflicts,
    destinationRowsBefore: before.length,
    destinationRowsAfter: after.length,
    missing: missing.size,
    isVerified: missing.size === 0 && after.length >= before.length + written,
  }
}

/** Distinct rows new to `before` whose key `before` already holds with another value. */
function countConflicts(rows: readonly AuditedPrRow[], before: readonly AuditedPrRow[]): number {
  const storedRows = new Set(before.map(rowIdentity))
  const storedKeys = new Set(before.map(keyIdentity))
  const counted = new Set<string>()
  for (const row of rows) {
    const identity = rowIdentity(row)
    if (storedRows.has(identity) || counted.has(identity)) continue
    if (storedKeys.has(keyIdentity(row))) counted.add(identity)
  }
  return counted.size
}
