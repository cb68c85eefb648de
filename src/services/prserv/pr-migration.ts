/**
 * Copying PR rows into a store (`prserv migrate`): page by page, so memory stays bounded by
 * the page size whatever the table size. Each page is one `importRows` call; conflicts are
 * counted and the page's rows are read back from the destination right after it. Works on
 * any PrStore.
 */
import type { AuditedPrRow, PositionedPrRow, PrKey, PrRow, PrStore } from './pr-store.js'

/** Rows per `importRows` call (one transaction each) by default. */
export const DEFAULT_MIGRATION_BATCH_ROWS = 1_000

/** What `copyPrRows` writes to: the destination store's bulk import and read-back. */
export type CopyDestination = Pick<PrStore, 'importRows' | 'findRows' | 'rowStats'>

/** How `copyPrRows` runs. */
export interface CopyOptions {
  /** Called after each committed page with the number of source rows handled so far. */
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
  /** Source rows not found in the destination right after their page (0 when all arrived). */
  readonly missing: number
  /** True when nothing is missing and the destination grew by at least `written` rows. */
  readonly isVerified: boolean
}

function rowIdentity(row: PrRow): string {
  return JSON.stringify([row.version, row.pkgarch, row.checksum, row.value])
}

function keyIdentity(row: PrKey): string {
  return JSON.stringify([row.version, row.pkgarch, row.checksum])
}

/**
 * Stores the rows of `pages` (in order, verbatim, audit fields included) into `destination`,
 * each page one transaction; rows already there are skipped, so running it again writes
 * nothing. Before each page, the destination's rows of the page's keys are read to count
 * conflicts (judged against the rows stored before the run: those at or below the largest
 * position it had); after it, they are read again and the page's rows looked up in them.
 */
export async function copyPrRows(
  pages: AsyncIterable<readonly AuditedPrRow[]>,
  destination: CopyDestination,
  options: CopyOptions = {},
): Promise<CopySummary> {
  const before = await destination.rowStats()
  let [read, written, skipped, conflicts, missing] = [0, 0, 0, 0, 0]
  for await (const page of pages) {
    if (page.length === 0) continue
    const keys = distinctKeys(page)
    const stored = await destination.findRows(keys)
    conflicts += countConflicts(page, stored, before.lastPosition)
    const result = await destination.importRows(page)
    written += result.written
    skipped += result.skipped
    missing += countMissing(page, await destination.findRows(keys))
    read += page.length
    options.onProgress?.(read)
  }
  const after = await destination.rowStats()
  return {
    read,
    written,
    skipped,
    conflicts,
    destinationRowsBefore: before.rows,
    destinationRowsAfter: after.rows,
    missing,
    isVerified: missing === 0 && after.rows >= before.rows + written,
  }
}

function distinctKeys(rows: readonly PrRow[]): PrKey[] {
  const keys = new Map<string, PrKey>()
  for (const { version, pkgarch, checksum } of rows) {
    const key = { version, pkgarch, checksum }
    keys.set(keyIdentity(key), key)
  }
  return [...keys.values()]
}

/**
 * Distinct rows of `page` not stored yet (by the run either: a row counts once, when first
 * written) whose key held another value before the run (a row at or below `lastPositionBefore`).
 */
function countConflicts(
  page: readonly PrRow[],
  stored: readonly PositionedPrRow[],
  lastPositionBefore: number,
): number {
  const storedRows = new Set(stored.map(rowIdentity))
  const keysBefore = new Set(
    stored.filter((row) => row.position <= lastPositionBefore).map(keyIdentity),
  )
  const counted = new Set<string>()
  for (const row of page) {
    const identity = rowIdentity(row)
    if (storedRows.has(identity) || counted.has(identity)) continue
    if (keysBefore.has(keyIdentity(row))) counted.add(identity)
  }
  return counted.size
}

/** Distinct rows of `page` absent from `stored`. */
function countMissing(page: readonly PrRow[], stored: readonly PrRow[]): number {
  const present = new Set(stored.map(rowIdentity))
  return new Set(page.map(rowIdentity).filter((identity) => !present.has(identity))).size
}
