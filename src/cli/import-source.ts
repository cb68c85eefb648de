/**
 * The rows of a `prserv import` file as it is read: the format detected from its first text,
 * the text parsed piece by piece, rows filtered and handed on in batches. Only a batch and the
 * problems found are held, so a file of any size is imported in bounded memory.
 */
import { detectPrFileFormat } from '../services/prserv/pr-file-format.js'
import type {
  ImportedPrRow,
  ParsedPiece,
  PrFileFormat,
  PrFileParser,
  PrFileProblem,
} from '../services/prserv/pr-file-format.js'
import { PrRowsJsonParser } from '../services/prserv/pr-json-format.js'
import { PrservToolParser } from '../services/prserv/prserv-tool-format.js'

/** The `--version`, `--pkgarch`, `--checksum` filters (null: no filter). */
export interface RowFilter {
  readonly version: string | null
  readonly pkgarch: string | null
  readonly checksum: string | null
}

function matches(row: ImportedPrRow, filter: RowFilter): boolean {
  const { version, pkgarch, checksum } = filter
  return (
    (version === null || version === row.version) &&
    (pkgarch === null || pkgarch === row.pkgarch) &&
    (checksum === null || checksum === row.checksum)
  )
}

function createParser(format: PrFileFormat): PrFileParser {
  return format === 'json' ? new PrRowsJsonParser() : new PrservToolParser()
}

/** An import file being read. The counts and problems are complete once `batches` ended. */
export class ImportSource {
  readonly format: PrFileFormat
  /** Importable rows read so far. */
  read = 0
  /** Rows left out by the filter so far. */
  filteredOut = 0
  /** Lines or rows found so far that cannot be imported. */
  readonly problems: PrFileProblem[] = []
  readonly #chunks: AsyncIterator<string>
  readonly #head: string
  readonly #filter: RowFilter

  private constructor(
    format: PrFileFormat,
    chunks: AsyncIterator<string>,
    head: string,
    filter: RowFilter,
  ) {
    this.format = format
    this.#chunks = chunks
    this.#head = head
    this.#filter = filter
  }

  /**
   * Starts reading `text` (pieces of the file, in order): with format `auto`, far enough to
   * see its first non-blank character. A file that cannot be read fails here, before any
   * target is opened.
   */
  static async open(
    text: AsyncIterable<string>,
    format: PrFileFormat | 'auto',
    filter: RowFilter,
  ): Promise<ImportSource> {
    const chunks = text[Symbol.asyncIterator]()
    let head = ''
    do {
      const next = await chunks.next()
      if (next.done === true) break
      head += next.value
    } while (!/\S/.test(head))
    const detected = format === 'auto' ? detectPrFileFormat(head) : format
    return new ImportSource(detected, chunks, head, filter)
  }

  /**
   * The rows that pass the filter, in file order, `size` at a time (the last batch may be
   * smaller). Iterate once; stopping early closes the file.
   */
  async *batches(size: number): AsyncGenerator<readonly ImportedPrRow[]> {
    const parser = createParser(this.format)
    const batch: ImportedPrRow[] = []
    const take = (piece: ParsedPiece): void => {
      this.problems.push(...piece.problems)
      for (const row of piece.rows) {
        this.read++
        if (matches(row, this.#filter)) batch.push(row)
        else this.filteredOut++
      }
    }
    try {
      take(parser.push(this.#head))
      for (;;) {
        while (batch.length >= size) yield batch.splice(0, size)
        const next = await this.#chunks.next()
        if (next.done === true) break
        take(parser.push(next.value))
      }
      take(parser.end())
      while (batch.length > 0) yield batch.splice(0, size)
    } finally {
      await this.#chunks.return?.()
    }
  }
}
