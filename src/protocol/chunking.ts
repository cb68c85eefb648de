/**
 * The chunk-stream framing of long JSON messages on stream transports (asyncrpc.md §8):
 * splitting a serialised message into lines, and the receiving state machine that joins them.
 */
import { decodeJson } from './codec.js'
import { MessageTooLargeError } from './errors.js'

/** BitBake's fixed maximum chunk `M` (§8.1). */
export const MAX_CHUNK_CHARS = 32_768
/** Characters per piece, `M - 1`; also the length from which a message is chunked. */
export const CHUNK_PIECE_CHARS = MAX_CHUNK_CHARS - 1
/** The line that opens a chunk stream, with the reference spacing. */
export const CHUNK_STREAM_LINE = '{"chunk-stream": null}'
/** The command key that marks a chunk stream. */
export const CHUNK_STREAM_KEY = 'chunk-stream'
/** Default cap on a reassembled message, in bytes (UTF-8). */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
/** Default cap on the number of pieces of one chunk stream. */
export const DEFAULT_MAX_CHUNK_PIECES = 65_536

/** Whether a serialised message goes on one line (§8.2: strictly shorter than M - 1). */
export function isSingleLineMessage(serialized: string): boolean {
  return serialized.length < CHUNK_PIECE_CHARS
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

/** ASCII characters Python's `str.rstrip()` removes. */
function isTrimmedWhitespace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d) || (code >= 0x1c && code <= 0x1f)
}

function findPieceEnd(text: string, start: number): number {
  const end = Math.min(start + CHUNK_PIECE_CHARS, text.length)
  if (end === text.length) return end
  // Never split a surrogate pair across two lines: each line must be valid text on its own.
  const safeEnd = isHighSurrogate(text.charCodeAt(end - 1)) ? end - 1 : end
  // BitBake's receiver trims trailing whitespace from every piece (§8.4), which would eat a
  // space inside a string at the cut; end the piece before such whitespace instead.
  let cut = safeEnd
  while (cut > start && isTrimmedWhitespace(text.charCodeAt(cut - 1))) cut--
  return cut > start ? cut : safeEnd
}

/**
 * The lines (without LF) that carry one serialised message (§8.2): the message itself when
 * shorter than 32 767 characters; otherwise `{"chunk-stream": null}`, pieces of 32 767
 * characters (a piece is shortened only to keep a surrogate pair together or to avoid ending
 * in whitespace), and an empty line.
 */
export function splitMessageLines(serialized: string): string[] {
  const splitter = new MessageLineSplitter()
  return [...splitter.push(serialized), ...splitter.end()]
}

/**
 * splitMessageLines for a message given in consecutive pieces of its text, so that a long
 * message goes out without ever being held whole: the lines are those splitMessageLines makes
 * of the concatenated text, each returned as soon as it is complete. It holds at most one
 * line plus the last piece pushed.
 */
export class MessageLineSplitter {
  #pending = ''
  #isChunked = false
  #isEnded = false

  /** Adds the next piece of the message; returns the lines now complete. */
  push(text: string): string[] {
    if (this.#isEnded) throw new Error('MessageLineSplitter: push after end')
    this.#pending += text
    const lines: string[] = []
    if (!this.#isChunked) {
      // Until the text reaches the threshold it may still be a single-line message.
      if (isSingleLineMessage(this.#pending)) return lines
      this.#isChunked = true
      lines.push(CHUNK_STREAM_LINE)
    }
    // A piece is cut only while more than a piece remains: the last one is cut by end().
    this.#cutPieces(lines, CHUNK_PIECE_CHARS)
    return lines
  }

  /** Ends the message; returns its remaining lines. */
  end(): string[] {
    if (this.#isEnded) throw new Error('MessageLineSplitter: end after end')
    this.#isEnded = true
    if (!this.#isChunked) return [this.#pending]
    const lines: string[] = []
    this.#cutPieces(lines, 0)
    lines.push('')
    return lines
  }

  /** Cuts pieces off the pending text while more than `keep` characters remain. */
  #cutPieces(lines: string[], keep: number): void {
    const text = this.#pending
    let start = 0
    while (text.length - start > keep) {
      const end = findPieceEnd(text, start)
      lines.push(text.slice(start, end))
      start = end
    }
    this.#pending = start === 0 ? text : text.slice(start)
  }
}

/** Whether a decoded line opens a chunk stream (§8.3: an object with a `chunk-stream` key). */
export function isChunkStreamStart(message: unknown): boolean {
  return (
    typeof message === 'object' &&
    message !== null &&
    !Array.isArray(message) &&
    Object.hasOwn(message, CHUNK_STREAM_KEY)
  )
}

/** Limits of a ChunkAssembler. */
export interface ChunkAssemblerOptions {
  /** Largest reassembled message in bytes (UTF-8). */
  readonly maxMessageBytes?: number
  /** Most pieces in one chunk stream. */
  readonly maxChunkPieces?: number
}

/** One step of reassembly: a complete message, or a request for more lines. */
export type AssemblyStep =
  { readonly isComplete: true; readonly message: unknown } | { readonly isComplete: false }

const INCOMPLETE: AssemblyStep = { isComplete: false }

/**
 * The receiving state machine of §8.3. Feed it every line of a stream transport in order; it
 * returns each message when complete. Pieces keep their whitespace (only the line terminator
 * was removed), which is more faithful than the reference's trim (§8.4).
 */
export class ChunkAssembler {
  readonly #maxMessageBytes: number
  readonly #maxChunkPieces: number
  #pieces: string[] | null = null
  #bytes = 0

  constructor(options: ChunkAssemblerOptions = {}) {
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    this.#maxChunkPieces = options.maxChunkPieces ?? DEFAULT_MAX_CHUNK_PIECES
  }

  /** Whether a chunk stream has started and not yet ended. */
  get isAssembling(): boolean {
    return this.#pieces !== null
  }

  /** Feeds one line. Throws ProtocolError for invalid JSON or a message over a cap. */
  push(line: string): AssemblyStep {
    const pieces = this.#pieces
    if (pieces === null) {
      const message = decodeJson(line)
      if (!isChunkStreamStart(message)) return { isComplete: true, message }
      this.#pieces = []
      this.#bytes = 0
      return INCOMPLETE
    }
    if (line === '') {
      this.#pieces = null
      return { isComplete: true, message: decodeJson(pieces.join('')) }
    }
    this.#bytes += Buffer.byteLength(line, 'utf8')
    if (this.#bytes > this.#maxMessageBytes) {
      this.#pieces = null
      throw new MessageTooLargeError(`chunked message larger than ${this.#maxMessageBytes} bytes`)
    }
    if (pieces.length >= this.#maxChunkPieces) {
      this.#pieces = null
      throw new MessageTooLargeError(`chunked message of more than ${this.#maxChunkPieces} pieces`)
    }
    pieces.push(line)
    return INCOMPLETE
  }
}
