/**
 * The JSON file of `prserv export --format json` / `prserv import`: an array of row objects
 * `{"version", "pkgarch", "checksum", "value"}`, plus `"created"` and `"peer"` (the audit
 * trail) when the source has them. One row per line, so that files diff well.
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
 * Every unusable row is a problem; invalid JSON is a problem that ends the reading.
 */
export function parsePrRowsJson(text: string): ParsedPrFile {
  return parseWholeText(new PrRowsJsonParser(), 'json', text)
}

const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
/** The characters that matter inside a JSON string. */
const STRING_SPECIAL = /["\\]/g

/**
 * parsePrRowsJson for a file given in pieces. An array of rows (what `prserv export` writes) is
 * read a row at a time: the parser holds one row's text, finds where each row ends by
 * tracking strings and nesting, and parses each on its own. An `export` reply object is held
 * whole and parsed at the end.
 */
export class PrRowsJsonParser implements PrFileParser {
  #state: 'start' | 'array' | 'object' | 'after' | 'stopped' = 'start'
  /** Text not yet consumed: in an array, from the start of the current row. */
  #text = ''
  /** Next index of #text to scan, and the scan state there. */
  #scan = 0
  #depth = 0
  #isInString = false
  #isEscaped = false
  #rowCount = 0

  push(text: string): ParsedPiece {
    const piece: ParsedPiece = { rows: [], problems: [] }
    if (this.#state === 'stopped') return piece
    this.#text += text
    this.#advance(piece)
    return piece
  }

  end(): ParsedPiece {
    const piece: ParsedPiece = { rows: [], problems: [] }
    const state = this.#state
    this.#state = 'stopped'
    if (state === 'start') {
      piece.problems.push({ where: 'file', message: 'no JSON in the file' })
    } else if (state === 'array') {
      const message = 'unexpected end of the file: the array of rows is not closed'
      piece.problems.push({ where: 'file', message })
    } else if (state === 'object') {
      parseDocument(this.#text, piece)
    }
    this.#text = ''
    return piece
  }

  #advance(piece: ParsedPiece): void {
    if (this.#state === 'start') {
      const first = /\S/.exec(this.#text)
      if (first === null) {
        this.#text = ''
        return
      }
      if (this.#text.charCodeAt(first.index) === OPEN_BRACKET) {
        this.#state = 'array'
        this.#text = this.#text.slice(first.index + 1)
      } else {
        this.#state = 'object'
      }
    }
    if (this.#state === 'array') this.#scanArray(piece)
    if (this.#state === 'after' && /\S/.test(this.#text)) {
      this.#stop(piece, 'file', 'unexpected text after the array of rows')
    }
    if (this.#state === 'after') this.#text = ''
  }

  /** Parses every row the text completes; keeps the text of an incomplete one. */
  #scanArray(piece: ParsedPiece): void {
    const text = this.#text
    let start = 0
    let index = this.#scan
    // The scan state in locals (this loop sees every character of the file).
    let depth = this.#depth
    let isInString = this.#isInString
    let isEscaped = this.#isEscaped
    for (; index < text.length; index++) {
      if (isInString) {
        if (isEscaped) {
          isEscaped = false
          continue
        }
        // Straight to the next quote or backslash.
        STRING_SPECIAL.lastIndex = index
        const special = STRING_SPECIAL.exec(text)
        if (special === null) {
          index = text.length
          break
        }
        index = special.index
        if (text.charCodeAt(index) === BACKSLASH) isEscaped = true
        else isInString = false
        continue
      }
      const code = text.charCodeAt(index)
      if (code === QUOTE) {
        isInString = true
      } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
        depth++
      } else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && depth > 0) {
        depth--
      } else if (depth === 0 && (code === COMMA || code === CLOSE_BRACKET)) {
        const isLast = code === CLOSE_BRACKET
        if (!this.#takeRow(text.slice(start, index), isLast, piece)) return
        start = index + 1
        if (isLast) {
          this.#state = 'after'
          this.#text = text.slice(start)
          return
        }
      }
    }
    this.#depth = depth
    this.#isInString = isInString
    this.#isEscaped = isEscaped
    this.#text = text.slice(start)
    this.#scan = index - start
  }

  /** Parses one row's text; false when it is no JSON (reading stops). */
  #takeRow(text: string, isLast: boolean, piece: ParsedPiece): boolean {
    // `[]` and `[ ]`: the closing bracket ends an empty array, not an empty row.
    if (isLast && this.#rowCount === 0 && !/\S/.test(text)) return true
    this.#rowCount++
    const where = `row ${this.#rowCount}`
    if (!/\S/.test(text)) {
      return this.#stop(piece, where, 'no row here (a comma too many?); reading stopped')
    }
    let item: unknown
    try {
      item = JSON.parse(text)
    } catch (error: unknown) {
      const reason = error instanceof Error ? error.message : String(error)
      return this.#stop(piece, where, `invalid JSON (${reason}); reading stopped`)
    }
    addRow(item, where, piece)
    return true
  }

  /** Reports `message` and ignores the rest of the file; false, for #takeRow. */
  #stop(piece: ParsedPiece, where: string, message: string): false {
    piece.problems.push({ where, message })
    this.#state = 'stopped'
    this.#text = ''
    return false
  }
}

/** An `export` reply object (or anything else that is no array), parsed whole. */
function parseDocument(text: string, piece: ParsedPiece): void {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error)
    piece.problems.push({ where: 'file', message: `invalid JSON (${reason})` })
    return
  }
  const list = datainfoOf(document)
  if (list === null) {
    const message = 'expected an array of rows or {"datainfo": [...]}'
    piece.problems.push({ where: 'file', message })
    return
  }
  list.forEach((item: unknown, index) => {
    addRow(item, `row ${index + 1}`, piece)
  })
}

function addRow(item: unknown, where: string, piece: ParsedPiece): void {
  const outcome = parseRow(item)
  if (typeof outcome === 'string') piece.problems.push({ where, message: outcome })
  else piece.rows.push(outcome)
}

function datainfoOf(document: unknown): readonly unknown[] | null {
  if (typeof document !== 'object' || document === null || !('datainfo' in document)) return null
  return Array.isArray(document.datainfo) ? document.datainfo : null
}

/** A row, or why it cannot be imported. */
function parseRow(item: unknown): ImportedPrRow | string {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'not an object'
  // Own fields only, read one by one (no copy of the object: this runs for every row).
  const field = (name: string): unknown =>
    Object.hasOwn(item, name) ? Reflect.get(item, name) : undefined
  const [version, pkgarch, checksum] = [field('version'), field('pkgarch'), field('checksum')]
  if (typeof version !== 'string' || typeof pkgarch !== 'string' || typeof checksum !== 'string') {
    return 'version, pkgarch and checksum must be strings'
  }
  const rawValue = field('value')
  const value = toRevision(rawValue)
  if (value === null) return `value ${JSON.stringify(rawValue)} is not a revision`
  const rawCreated = field('created')
  const created = toCreatedAt(rawCreated)
  if (created === false) return `created ${JSON.stringify(rawCreated)} is not a date-time`
  const peer = field('peer')
  if (peer !== undefined && peer !== null && typeof peer !== 'string') {
    return 'peer must be a string or null'
  }
  const textProblem = rowTextProblem({ version, pkgarch, checksum, value, peer: peer ?? null })
  if (textProblem !== null) return textProblem
  if (created === undefined) {
    if (peer === undefined) return { version, pkgarch, checksum, value }
    return { version, pkgarch, checksum, value, peer }
  }
  if (peer === undefined) return { version, pkgarch, checksum, value, createdAt: created }
  return { version, pkgarch, checksum, value, createdAt: created, peer }
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
