/**
 * The JSON file of `prserv export --format json` / `prserv import`: an array of row objects
 * `{"version", "pkgarch", "checksum", "value"}`, plus `"created"` and `"peer"` (the audit
 * trail) when the source has them. One row per line, so that files diff well.
 */
import type { ImportedPrRow, ParsedPrFile, PrFileProblem, PrFileRow } from './pr-file-format.js'
import { isRevision } from './revision.js'

/** The rows as a JSON array, one row per line, ending with a newline. */
export function formatPrRowsJson(rows: readonly PrFileRow[]): string {
  if (rows.length === 0) return '[]\n'
  return `[\n${rows.map(formatPrRowJson).join(',\n')}\n]\n`
}

/** One row's line of the JSON array (indented, no separator). */
export function formatPrRowJson(row: PrFileRow): string {
  return `  ${JSON.stringify(toJsonRow(row))}`
}

function toJsonRow(row: PrFileRow): Record<string, string | null> {
  const json: Record<string, string | null> = {
    version: row.version,
    pkgarch: row.pkgarch,
    checksum: row.checksum,
    value: row.value,
  }
  if (row.createdAt !== undefined) json.created = row.createdAt
  if (row.peer !== undefined) json.peer = row.peer
  return json
}

/**
 * Reads a JSON file: an array of rows, or an `export` reply (`{"datainfo": [...]}`, as
 * `prserv client --json export` prints it). Values may be revision strings or whole numbers
 * (old integer databases); `created` must be a date-time and is normalised to ISO-8601 UTC.
 * Invalid JSON throws a SyntaxError; every unusable row is a problem.
 */
export function parsePrRowsJson(text: string): ParsedPrFile {
  const document: unknown = JSON.parse(text)
  const list = Array.isArray(document) ? document : datainfoOf(document)
  if (list === null) {
    const problem = { where: 'file', message: 'expected an array of rows or {"datainfo": [...]}' }
    return { format: 'json', rows: [], problems: [problem] }
  }
  const rows: ImportedPrRow[] = []
  const problems: PrFileProblem[] = []
  list.forEach((item: unknown, index) => {
    const outcome = parseRow(item)
    if (typeof outcome === 'string') problems.push({ where: `row ${index + 1}`, message: outcome })
    else rows.push(outcome)
  })
  return { format: 'json', rows, problems }
}

function datainfoOf(document: unknown): readonly unknown[] | null {
  if (typeof document !== 'object' || document === null || !('datainfo' in document)) return null
  return Array.isArray(document.datainfo) ? document.datainfo : null
}

/** A row, or why it cannot be imported. */
function parseRow(item: unknown): ImportedPrRow | string {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'not an object'
  const fields: Partial<Record<string, unknown>> = { ...item }
  const { version, pkgarch, checksum } = fields
  if (typeof version !== 'string' || typeof pkgarch !== 'string' || typeof checksum !== 'string') {
    return 'version, pkgarch and checksum must be strings'
  }
  const value = toRevision(fields.value)
  if (value === null) return `value ${JSON.stringify(fields.value)} is not a revision`
  const row: ImportedPrRow = { version, pkgarch, checksum, value }
  const created = toCreatedAt(fields.created)
  if (created === false) return `created ${JSON.stringify(fields.created)} is not a date-time`
  const { peer } = fields
  if (peer !== undefined && peer !== null && typeof peer !== 'string') {
    return 'peer must be a string or null'
  }
  return {
    ...row,
    ...(created === undefined ? {} : { createdAt: created }),
    ...(peer === undefined ? {} : { peer }),
  }
}

function toRevision(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return `${value}`
  return typeof value === 'string' && isRevision(value) ? value : null
}

/** ISO-8601 UTC, null, undefined when absent, or false when not a date-time. */
function toCreatedAt(created: unknown): string | null | undefined | false {
  if (created === undefined || created === null) return created
  if (typeof created !== 'string') return false
  const time = Date.parse(created)
  return Number.isNaN(time) ? false : new Date(time).toISOString()
}
