/**
 * The files of `prserv export` / `prserv import`: the formats, the row and problem types the
 * format modules share, and format detection.
 */
import type { PrKey } from './pr-store.js'

/** OpenEmbedded's `bitbake-prserv-tool` file (prserv.md §7.1), or a JSON array of rows. */
export const PR_FILE_FORMATS = ['prserv-tool', 'json'] as const
/** One of PR_FILE_FORMATS. */
export type PrFileFormat = (typeof PR_FILE_FORMATS)[number]

/** A row to write to a file; the audit fields are written (JSON only) when present. */
export interface PrFileRow extends PrKey {
  readonly value: string | null
  /** ISO-8601 UTC time of the first store, null when unknown; absent: not exported. */
  readonly createdAt?: string | null
  /** Peer of the first store, null when unknown; absent: not exported. */
  readonly peer?: string | null
}

/** A row read from a file: the value is always a revision string. */
export interface ImportedPrRow extends PrKey {
  readonly value: string
  /** From a JSON file's `created` (normalised to ISO-8601 UTC), else absent. */
  readonly createdAt?: string | null
  /** From a JSON file's `peer`, else absent. */
  readonly peer?: string | null
}

/** Something in a file that cannot be imported, and where (`line 7`, `row 3`). */
export interface PrFileProblem {
  readonly where: string
  readonly message: string
}

/** A parsed file: every importable row in file order, and every problem found. */
export interface ParsedPrFile {
  readonly format: PrFileFormat
  readonly rows: readonly ImportedPrRow[]
  readonly problems: readonly PrFileProblem[]
}

/** What a streaming parser found in the text given to it: rows and problems, in file order. */
export interface ParsedPiece {
  readonly rows: ImportedPrRow[]
  readonly problems: PrFileProblem[]
}

/**
 * A parser of a file given as consecutive pieces of its text (any cut, even inside a line or
 * a row), so that a file of any size is read in bounded memory.
 */
export interface PrFileParser {
  /** Parses what the next piece completes. */
  push(text: string): ParsedPiece
  /** The end of the file: parses what is left. */
  end(): ParsedPiece
}

/** Parses a whole text with `parser`. */
export function parseWholeText(
  parser: PrFileParser,
  format: PrFileFormat,
  text: string,
): ParsedPrFile {
  const first = parser.push(text)
  const last = parser.end()
  return {
    format,
    rows: [...first.rows, ...last.rows],
    problems: [...first.problems, ...last.problems],
  }
}

/** Whether `text` is one of our format names. */
export function isPrFileFormat(text: string): text is PrFileFormat {
  return PR_FILE_FORMATS.some((format) => format === text)
}

/**
 * The format of a file's contents: JSON when the first non-blank character opens an array or
 * an object, otherwise the `bitbake-prserv-tool` format (whose lines are comments and
 * BitBake assignments).
 */
export function detectPrFileFormat(text: string): PrFileFormat {
  const first = /\S/.exec(text)?.[0]
  return first === '[' || first === '{' ? 'json' : 'prserv-tool'
}
