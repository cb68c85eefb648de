/**
 * OpenEmbedded's `bitbake-prserv-tool` export/import file (prserv.md §7.1): a BitBake
 * configuration fragment of `PRAUTO$version$pkgarch$checksum = "value"` lines, per-package
 * `PRAUTO_version_pkgarch = "max"` lock-down lines, a commented column table and
 * `PRSERV_LOCKDOWN = "1"`. Pure text in, text out.
 */
import { parseWholeText } from './pr-file-format.js'
import { rowTextProblem } from './pr-store.js'
import type {
  ImportedPrRow,
  ParsedPiece,
  ParsedPrFile,
  PrFileParser,
  PrFileRow,
} from './pr-file-format.js'
import { isRevision, maxRevision } from './revision.js'

/** A value of the export metainfo, printed as Python's `str()` prints it. */
export type PythonScalar = string | number | boolean | null

/** One column of the export metainfo (`col_info`, prserv.md §7). */
export interface PrColumnInfo {
  readonly name: PythonScalar
  readonly type: PythonScalar
  readonly notnull: PythonScalar
  readonly dflt_value: PythonScalar
  readonly pk: PythonScalar
}

/** The export metainfo with `colinfo: true`: table name, core version and columns. */
export interface PrTableInfo {
  readonly tbl_name: PythonScalar
  readonly core_ver: PythonScalar
  readonly col_info: readonly PrColumnInfo[]
}

/** Python's `str()` of a JSON scalar: `None`, `True`/`False`, numbers and strings as is. */
function pythonStr(value: PythonScalar): string {
  if (value === null) return 'None'
  if (typeof value === 'boolean') return value ? 'True' : 'False'
  return String(value)
}

/** Python's `"%Ns" % value`: right-aligned in `width` characters, never cut. */
function pad(value: PythonScalar, width: number): string {
  return pythonStr(value).padStart(width)
}

/**
 * The whole file as OpenEmbedded's `prexport` class writes it: the data lines of each
 * version (one batch per version, versions in order of first appearance, as the tool exports
 * one recipe at a time), then the header block and the lock-down line. The `PRAUTO_` line of
 * each (version, pkgarch) holds the batch's numeric maximum, where the tool compares values
 * as strings (docs/compat.md).
 */
export function formatPrservToolFile(rows: readonly PrFileRow[], table: PrTableInfo): string {
  return formatPrservToolBatch(rows) + formatHeader(table)
}

/**
 * The data lines of `rows`: for each version (in order of first appearance) its rows'
 * `PRAUTO$` lines in the order given, then one `PRAUTO_` line per pkgarch (in order of first
 * appearance) with the numeric maximum. Given one version's rows: that version's batch.
 */
export function formatPrservToolBatch(rows: readonly PrFileRow[]): string {
  const builder = new PrservToolFileBuilder()
  for (const row of rows) builder.add(row)
  return [...builder.batchTexts()].join('')
}

/** A pkgarch's `PRAUTO_` line so far: its first value, and its largest revision. */
interface ArchMaximum {
  readonly first: string | null
  max: string | null
}

interface VersionBatch {
  lines: string
  readonly arches: Map<string, ArchMaximum>
}

/**
 * formatPrservToolFile for rows given one by one: each row becomes its `PRAUTO$` line at once,
 * kept with its version's batch, along with the running maximum of each pkgarch. It holds the
 * file's lines, not the rows.
 */
export class PrservToolFileBuilder {
  readonly #batches = new Map<string, VersionBatch>()

  add(row: PrFileRow): void {
    const { version, pkgarch, checksum, value } = row
    let batch = this.#batches.get(version)
    if (batch === undefined) {
      batch = { lines: '', arches: new Map() }
      this.#batches.set(version, batch)
    }
    batch.lines += `PRAUTO$${version}$${pkgarch}$${checksum} = "${pythonStr(value)}"\n`
    const arch = batch.arches.get(pkgarch)
    // maxRevision keeps the first of equal values, so a running maximum gives the same.
    if (arch === undefined) batch.arches.set(pkgarch, { first: value, max: maxRevision([value]) })
    else arch.max = maxRevision([arch.max, value])
  }

  /** Each version's batch text, versions in order of their first row. */
  *batchTexts(): Generator<string> {
    for (const [version, batch] of this.#batches) {
      let text = batch.lines
      for (const [pkgarch, arch] of batch.arches) {
        // Values that are no revisions cannot be compared: the first row's value stands in.
        text += `PRAUTO_${version}_${pkgarch} = "${pythonStr(arch.max ?? arch.first)}"\n`
      }
      yield text
    }
  }
}

/** The header block (from the colinfo export) and the lock-down line. */
export function formatHeader(table: PrTableInfo): string {
  let text = `#PR_core_ver = "${pythonStr(table.core_ver)}"\n\n`
  text += `#Table: ${pythonStr(table.tbl_name)}\n`
  text += '#Columns:\n'
  text += '#name      \t type    \t notn    \t dflt    \t pk\n'
  text += '#----------\t --------\t --------\t --------\t ----\n'
  for (const column of table.col_info) {
    const fields = [
      pad(column.name, 10),
      pad(column.type, 8),
      pad(column.notnull, 8),
      pad(column.dflt_value, 8),
      pad(column.pk, 4),
    ]
    text += `#${fields.join('\t ')}\n`
  }
  return `${text}\nPRSERV_LOCKDOWN = "1"\n\n`
}

const ASSIGNMENT =
  /^(?:export\s+)?(?<name>[^\s=]+?)\s*(?<op>\?\?=|\?=|:=|\+=|=\+|\.=|=\.|=)\s*(?<quote>["'])(?<value>.*)\k<quote>$/
const PRAUTO_PREFIX = 'PRAUTO$'

/**
 * Reads a file as `bitbake-prserv-tool import` does: every `PRAUTO$version$pkgarch$checksum`
 * assignment is a row (all other assignments, comments and blank lines are ignored). Unlike
 * the tool, dotted values are rows too (it parses values as integers and silently drops the
 * rest), and every line counts (BitBake keeps only the last assignment of a variable, so the
 * tool would import one value per checksum of a history export). Anything else is a problem:
 * a line that is no assignment, a malformed `PRAUTO$` name, another operator than `=`, or a
 * value that is no revision.
 */
export function parsePrservToolFile(text: string): ParsedPrFile {
  return parseWholeText(new PrservToolParser(), 'prserv-tool', text)
}

/** parsePrservToolFile for a file given in pieces: each line is parsed once it is complete. */
export class PrservToolParser implements PrFileParser {
  /** The text of the incomplete last line. */
  #pending = ''
  #lineCount = 0

  push(text: string): ParsedPiece {
    const piece: ParsedPiece = { rows: [], problems: [] }
    const pending = this.#pending + text
    const lastBreak = pending.lastIndexOf('\n')
    if (lastBreak < 0) {
      this.#pending = pending
      return piece
    }
    this.#pending = pending.slice(lastBreak + 1)
    for (const line of pending.slice(0, lastBreak).split('\n')) this.#parseLine(line, piece)
    return piece
  }

  end(): ParsedPiece {
    const piece: ParsedPiece = { rows: [], problems: [] }
    this.#parseLine(this.#pending, piece)
    this.#pending = ''
    return piece
  }

  #parseLine(rawLine: string, piece: ParsedPiece): void {
    this.#lineCount++
    // Trimming also removes the CR of a CRLF line end.
    const line = rawLine.trim()
    if (line === '' || line.startsWith('#')) return
    const outcome = parseLine(line)
    if (outcome === null) return
    if (typeof outcome === 'string') {
      piece.problems.push({ where: `line ${this.#lineCount}`, message: outcome })
    } else {
      piece.rows.push(outcome)
    }
  }
}

/** A row, null for a line to ignore, or why the line cannot be imported. */
function parseLine(line: string): ImportedPrRow | string | null {
  const groups = ASSIGNMENT.exec(line)?.groups
  if (groups === undefined) return `not a BitBake assignment: ${preview(line)}`
  const { name = '', op = '', value = '' } = groups
  if (!name.startsWith(PRAUTO_PREFIX)) return null
  const parts = name.split('$')
  const [, version, pkgarch, checksum] = parts
  if (
    parts.length !== 4 ||
    version === undefined ||
    pkgarch === undefined ||
    checksum === undefined
  ) {
    return `expected PRAUTO$<version>$<pkgarch>$<checksum>, got ${preview(name)}`
  }
  if (op !== '=') return `expected "=" in the assignment of ${preview(name)}, got "${op}"`
  if (!isRevision(value)) return `value ${preview(value)} of ${preview(name)} is not a revision`
  const row = { version, pkgarch, checksum, value }
  const textProblem = rowTextProblem(row)
  return textProblem === null ? row : `${textProblem} in ${preview(name)}`
}

function preview(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)
}

function isPythonScalar(value: unknown): value is PythonScalar {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value)
}

function toColumnInfo(value: unknown): PrColumnInfo | null {
  if (typeof value !== 'object' || value === null) return null
  const fields: Partial<Record<string, unknown>> = { ...value }
  const { name, type, notnull, dflt_value, pk } = fields
  if (!isPythonScalar(name) || !isPythonScalar(type) || !isPythonScalar(notnull)) return null
  if (!isPythonScalar(dflt_value) || !isPythonScalar(pk)) return null
  return { name, type, notnull, dflt_value, pk }
}

/** The metainfo of an `export` reply with `colinfo: true`, or null when it has another shape. */
export function parsePrTableInfo(metainfo: unknown): PrTableInfo | null {
  if (typeof metainfo !== 'object' || metainfo === null) return null
  const fields: Partial<Record<string, unknown>> = { ...metainfo }
  const { tbl_name, core_ver, col_info } = fields
  if (!isPythonScalar(tbl_name) || !isPythonScalar(core_ver) || !Array.isArray(col_info)) {
    return null
  }
  const columns = col_info.map(toColumnInfo)
  const valid = columns.filter((column) => column !== null)
  return valid.length === columns.length ? { tbl_name, core_ver, col_info: valid } : null
}
