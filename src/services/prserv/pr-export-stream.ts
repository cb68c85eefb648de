/**
 * An unfiltered export (every row, or without history those holding their package's maximum)
 * in bounded memory: the file text goes to a sink piece by piece instead of being built
 * whole. The text is what the whole-file formatters make of `exportRows` (byte for byte when
 * nothing is stored meanwhile); rows stored while it runs may or may not be in it, as each
 * read is its own snapshot.
 */
import type { PrFileRow } from './pr-file-format.js'
import { formatPrRowJson } from './pr-json-format.js'
import { pageStore, pageUnfilteredExport } from './pr-store.js'
import type { PrStore } from './pr-store.js'
import { formatHeader, formatPrservToolBatch, PrservToolFileBuilder } from './prserv-tool-format.js'
import type { PrTableInfo } from './prserv-tool-format.js'

/** Takes the next piece of text; resolves once it may be given more. */
export type TextSink = (text: string) => Promise<void>

/** Rows per read (or per page asked of a server) of a streamed export; at most
 * MAX_EXPORT_PAGE_ROWS of pr-methods.ts. */
export const DEFAULT_EXPORT_PAGE_ROWS = 5_000

/** The store calls a streamed export makes. */
export type StreamedExportStore = Pick<PrStore, 'exportPage' | 'exportMaximaPage' | 'exportRows'>

/** The rows of `pages` as one JSON array, written a page at a time. Returns the row count. */
export async function streamJsonExport(
  pages: AsyncIterable<readonly PrFileRow[]>,
  sink: TextSink,
): Promise<number> {
  let count = 0
  for await (const rows of pages) {
    if (rows.length === 0) continue
    const lines = rows.map(formatPrRowJson)
    await sink(`${count === 0 ? '[\n' : ',\n'}${lines.join(',\n')}`)
    count += rows.length
  }
  await sink(count === 0 ? '[]\n' : '\n]\n')
  return count
}

/** Version reads a prserv-tool export keeps in flight (each one round trip on PostgreSQL). */
const VERSION_READS_IN_FLIGHT = 32

/**
 * The rows of an unfiltered export (`history`: every row) as a `bitbake-prserv-tool` file:
 * one batch per version, versions in order of their first row. With history, a first pass
 * over the pages finds that order (holding only the versions); then each version's rows are
 * read on their own (a few reads in flight) and written as its batch. Without history the
 * file has a row or two per package, so it is gathered in one pass (writeGatheredPrservTool):
 * per-version reads would cost a round trip a package. Returns the row count.
 */
export async function streamPrservToolExport(
  store: StreamedExportStore,
  table: PrTableInfo,
  history: boolean,
  sink: TextSink,
  pageRows = DEFAULT_EXPORT_PAGE_ROWS,
): Promise<number> {
  if (!history) {
    return writeGatheredPrservTool(pageUnfilteredExport(store, false, pageRows), () => table, sink)
  }
  const versions = new Set<string>()
  for await (const rows of pageStore(store, pageRows)) {
    for (const row of rows) versions.add(row.version)
  }
  let count = 0
  for await (const batch of readVersions(store, versions)) {
    if (batch.length === 0) continue
    await sink(formatPrservToolBatch(batch))
    count += batch.length
  }
  await sink(formatHeader(table))
  return count
}

/**
 * The rows of `pages` as a `bitbake-prserv-tool` file in one pass: their lines are gathered
 * (PrservToolFileBuilder holds the lines, not the rows), then written, then the header of
 * `table()`, asked once every page was read. Returns the row count.
 */
export async function writeGatheredPrservTool(
  pages: AsyncIterable<readonly PrFileRow[]>,
  table: () => PrTableInfo,
  sink: TextSink,
): Promise<number> {
  const builder = new PrservToolFileBuilder()
  let count = 0
  for await (const rows of pages) {
    for (const row of rows) builder.add(row)
    count += rows.length
  }
  for (const text of builder.batchTexts()) await sink(text)
  await sink(formatHeader(table()))
  return count
}

/** Each version's rows, in the order of `versions`, with a few reads in flight. */
async function* readVersions(
  store: StreamedExportStore,
  versions: Iterable<string>,
): AsyncGenerator<readonly PrFileRow[]> {
  const reads: Promise<readonly PrFileRow[]>[] = []
  const pending = versions[Symbol.iterator]()
  const startRead = (): void => {
    const next = pending.next()
    if (next.done === true) return
    const filter = { version: next.value, pkgarch: null, checksum: null, history: true }
    const read = store.exportRows(filter)
    // Awaited in turn below; a failure is reported there, not as an unhandled rejection.
    read.catch(() => undefined)
    reads.push(read)
  }
  for (let n = 0; n < VERSION_READS_IN_FLIGHT; n++) startRead()
  for (let read = reads.shift(); read !== undefined; read = reads.shift()) {
    const batch = await read
    startRead()
    yield batch
  }
}
