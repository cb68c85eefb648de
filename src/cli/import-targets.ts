/**
 * Where `prserv import` stores rows: a database directly (`importRows` in batches), or a
 * running server over the wire (`import-one` per row, as `bitbake-prserv-tool import` does).
 */
import { DEFAULT_CLIENT_TIMEOUT_MS } from '../config/config.js'
import { PrClient } from '../client/pr-client.js'
import type { StorageConfig } from '../config/config.js'
import { ConnectionError } from '../protocol/errors.js'
import type { ImportedPrRow } from '../services/prserv/pr-file-format.js'
import type { AuditedPrRow } from '../services/prserv/pr-store.js'
import { openToolStore } from './data-target.js'

/**
 * Rows per `importRows` transaction when importing into a database: a JSON export (rows in
 * insertion order, so spread over the whole index) imported 32% faster than with 1,000, as each
 * commit writes fewer index pages (bench/RESULTS.md, 2026-11-24).
 */
export const IMPORT_BATCH_ROWS = 5_000
/** Rows read from the file at a time when importing over the wire. */
export const IMPORT_WIRE_BATCH_ROWS = 5_000
/**
 * Connections used to import over the wire. Rows of one package always use the same one, so
 * they arrive in file order; several connections let the server commit rows together
 * (bench/RESULTS.md: 16 imported 88,000 rows in 25 s, 4 took 41 s, 32 and 64 were no faster).
 */
export const IMPORT_CONNECTIONS = 16

/** A row the target refused, and why. */
export interface FailedRow {
  readonly row: ImportedPrRow
  readonly message: string
}

/** What storing the rows did. `written`/`skipped` are known for databases only. */
export interface StoreOutcome {
  readonly accepted: number
  readonly written: number | null
  readonly skipped: number | null
  readonly failed: readonly FailedRow[]
}

/**
 * A file row as a stored row: its audit fields when the file has them (JSON exports), else
 * stored now by an unknown peer.
 */
function toAuditedRow(row: ImportedPrRow, importedAt: string): AuditedPrRow {
  const { version, pkgarch, checksum, value } = row
  return { version, pkgarch, checksum, value, createdAt: importedAt, peer: null, ...audit(row) }
}

function audit(row: ImportedPrRow): Partial<Pick<AuditedPrRow, 'createdAt' | 'peer'>> {
  return {
    ...(row.createdAt === undefined ? {} : { createdAt: row.createdAt }),
    ...(row.peer === undefined ? {} : { peer: row.peer }),
  }
}

/**
 * Stores each batch in one transaction; a failing batch stops the import (earlier ones are
 * kept).
 */
export async function importIntoDatabase(
  storage: StorageConfig,
  batches: AsyncIterable<readonly ImportedPrRow[]>,
): Promise<StoreOutcome> {
  const importedAt = new Date().toISOString()
  const store = await openToolStore(storage, false)
  let accepted = 0
  let written = 0
  let skipped = 0
  try {
    for await (const batch of batches) {
      const result = await store.importRows(batch.map((row) => toAuditedRow(row, importedAt)))
      accepted += batch.length
      written += result.written
      skipped += result.skipped
    }
  } finally {
    await store.close()
  }
  return { accepted, written, skipped, failed: [] }
}

function packageSlot(row: ImportedPrRow, slots: number): number {
  let hash = 0
  for (const char of `${row.version}\u0000${row.pkgarch}`) {
    hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0
  }
  return hash % slots
}

/**
 * Sends `import-one` for every row. As the tool does, a row succeeds when the reply echoes the
 * value sent; a read-only server's `null` and error replies are failures, and the import goes
 * on with the next row. A lost connection (after the client's retries) stops the import.
 */
export async function importOverWire(
  address: string,
  batches: AsyncIterable<readonly ImportedPrRow[]>,
): Promise<StoreOutcome> {
  const clients: PrClient[] = []
  const failed: FailedRow[] = []
  let accepted = 0
  const sendQueue = async (queue: readonly ImportedPrRow[], slot: number): Promise<void> => {
    if (queue.length === 0) return
    let client = clients[slot]
    if (client === undefined) {
      client = new PrClient({ address, timeoutMs: DEFAULT_CLIENT_TIMEOUT_MS })
      clients[slot] = client
    }
    for (const row of queue) {
      const message = await importOne(client, row)
      if (message === null) accepted += 1
      else failed.push({ row, message })
    }
  }
  try {
    for await (const batch of batches) {
      const queues = Array.from({ length: IMPORT_CONNECTIONS }, (): ImportedPrRow[] => [])
      for (const row of batch) queues[packageSlot(row, IMPORT_CONNECTIONS)]?.push(row)
      await Promise.all(queues.map(sendQueue))
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()))
  }
  return { accepted, written: null, skipped: null, failed }
}

/** Null on success, else why the row failed. */
async function importOne(client: PrClient, row: ImportedPrRow): Promise<string | null> {
  try {
    const { version, pkgarch, checksum, value } = row
    const reply = await client.importOne({ version, pkgarch, checksum }, value)
    if (reply === value) return null
    if (reply === null) return 'the server is read-only'
    return `the server answered ${JSON.stringify(reply)}`
  } catch (error: unknown) {
    // Without a connection every further row would fail the same way: stop the import.
    if (error instanceof ConnectionError || !(error instanceof Error)) throw error
    return error.message
  }
}
