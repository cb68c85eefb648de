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
export type StreamedExportStore = Pick<
  PrStore,
  'exportPage' | 'exportMaximaPage' | 'exportVersionRows'
>

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

/**
 * Reads of version groups a prserv-tool export keeps in flight, each of about half a page of
 * rows: about a page of rows is held at a time.
 */
const GROUP_READS_IN_FLIGHT = 2

/**
 * The rows of an unfiltered export (`history`: every row) as a `bitbake-prserv-tool` file:
 * one batch per version, versions in order of their first row. With history, a first pass
 * over the pages finds that order and each version's row count (holding only those); then
 * the versions are read in groups of about `pageRows / GROUP_READS_IN_FLIGHT` rows (that many
 * reads in flight), and each version's rows are written as its batch. Without history the
 * file has a row or two per package, so it is gathered in one pass (writeGatheredPrservTool).
 * Returns the row count.
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
  const rowCounts = new Map<string, number>()
  for await (const rows of pageStore(store, pageRows)) {
    for (const row of rows) rowCounts.set(row.version, (rowCounts.get(row.version) ?? 0) + 1)
  }
  const groups = groupVersions(rowCounts, Math.ceil(pageRows / GROUP_READS_IN_FLIGHT))
  let count = 0
  for await (const batch of readVersions(store, groups)) {
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

/**
 * The versions of `rowCounts` (in its order) in consecutive groups of at most `groupRows`
 * rows, or of one version when it alone has more.
 */
function groupVersions(
  rowCounts: ReadonlyMap<string, number>,
  groupRows: number,
): readonly (readonly string[])[] {
  const groups: string[][] = []
  let group: string[] = []
  let rows = 0
  for (const [version, count] of rowCounts) {
    if (group.length > 0 && rows + count > groupRows) {
      groups.push(group)
      group = []
      rows = 0
    }
    group.push(version)
    rows += count
  }
  if (group.length > 0) groups.push(group)
  return groups
}

/** Each version's rows, in the order of `groups`, with a few group reads in flight. */
async function* readVersions(
  store: StreamedExportStore,
  groups: readonly (readonly string[])[],
): AsyncGenerator<readonly PrFileRow[]> {
  const reads: { versions: readonly string[]; rows: Promise<readonly PrFileRow[]> }[] = []
  let next = 0
  const startRead = (): void => {
    const versions = groups[next]
    if (versions === undefined) return
    next += 1
    const rows = store.exportVersionRows(versions)
    // Awaited in turn below; a failure is reported there, not as an unhandled rejection.
    rows.catch(() => undefined)
    reads.push({ versions, rows })
  }
  for (let n = 0; n < GROUP_READS_IN_FLIGHT; n++) startRead()
  for (let read = reads.shift(); read !== undefined; read = reads.shift()) {
    const byVersion = new Map<string, PrFileRow[]>()
    for (const row of await read.rows) {
      const batch = byVersion.get(row.version)
      if (batch === undefined) byVersion.set(row.version, [row])
      else batch.push(row)
    }
    startRead()
    for (const version of read.versions) yield byVersion.get(version) ?? []
  }
}
