/**
 * `prserv export --server`: rows over the PR protocol. A full history export is asked for in
 * pages (our `export` paging extension, docs/protocol.md), so the server never builds one reply
 * holding the whole table; a server without the extension (BitBake's) ignores it and answers
 * the first request with every row.
 */
import type { ExportedRow, PrClient } from '../client/pr-client.js'
import { ProtocolError } from '../protocol/errors.js'
import type { PrFileRow } from '../services/prserv/pr-file-format.js'
import { DEFAULT_EXPORT_PAGE_ROWS } from '../services/prserv/pr-export-stream.js'
import { isFullHistoryExport } from '../services/prserv/pr-store.js'
import type { ExportFilter } from '../services/prserv/pr-store.js'
import { parsePrTableInfo } from '../services/prserv/prserv-tool-format.js'
import type { PrTableInfo } from '../services/prserv/prserv-tool-format.js'

/**
 * Largest `export` reply the tools accept, in bytes: a server without paging, or a filtered
 * export, sends its rows in one reply (about 200 bytes a row).
 */
export const EXPORT_MAX_REPLY_BYTES = 256 * 1024 * 1024

/** One reply's rows, and the column information it came with. */
export interface ServerExportPage {
  readonly rows: readonly PrFileRow[]
  readonly table: PrTableInfo
}

function fromWireRow(row: ExportedRow): PrFileRow {
  const { version, pkgarch, checksum, value } = row
  return {
    version,
    pkgarch,
    checksum,
    value,
    ...(row.created === undefined ? {} : { createdAt: row.created }),
    ...(row.peer === undefined ? {} : { peer: row.peer }),
  }
}

/**
 * The rows `filter` selects, one reply at a time: the first page always (perhaps empty), then
 * every further non-empty page. `audit` asks our servers for the audit trail (others ignore
 * it).
 */
export async function* readServerExport(
  client: PrClient,
  filter: ExportFilter,
): AsyncGenerator<ServerExportPage> {
  const isPaged = isFullHistoryExport(filter)
  for (let after = 0, isFirst = true; ; isFirst = false) {
    const paging = isPaged ? { after, limit: DEFAULT_EXPORT_PAGE_ROWS } : {}
    const reply = await client.export({ ...filter, colinfo: true, audit: true, ...paging })
    const table = parsePrTableInfo(reply.metainfo)
    if (table === null) throw new ProtocolError('the server sent no usable column information')
    if (isFirst || reply.datainfo.length > 0) {
      yield { rows: reply.datainfo.map(fromWireRow), table }
    }
    // Unpaged (not asked, or a server without paging): every row came at once.
    if (reply.last === undefined || reply.datainfo.length === 0) return
    if (reply.last <= after) {
      throw new ProtocolError(`the server's export pages went back (after ${after}: ${reply.last})`)
    }
    after = reply.last
  }
}
