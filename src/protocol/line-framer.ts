/**
 * Bytes to lines for the stream transports (asyncrpc.md §4): a line ends at LF; the LF and one
 * CR before it are removed, nothing else. Pure: no sockets, timers or logging.
 */
import { isUtf8 } from 'node:buffer'
import { MessageTooLargeError, ProtocolError } from './errors.js'

/**
 * Default longest line, in bytes, excluding its line terminator: BitBake's 64 KiB reader limit
 * plus slack, so everything the reference accepts passes while its 70 KB example is refused.
 */
export const DEFAULT_MAX_LINE_BYTES = 65_536 + 4_096

const LF = 0x0a
const CR = 0x0d
const REPLACEMENT_CHARACTER = '\ufffd'

/** Options of a LineFramer. */
export interface LineFramerOptions {
  /** Longest accepted line in bytes, excluding LF and a CR before it. */
  readonly maxLineBytes?: number
}

function decodeLine(bytes: Buffer, start: number, end: number): string {
  const contentEnd = end > start && bytes[end - 1] === CR ? end - 1 : end
  const text = bytes.toString('utf8', start, contentEnd)
  // toString() replaces invalid sequences with U+FFFD; only then is the (slower) check needed.
  if (text.includes(REPLACEMENT_CHARACTER) && !isUtf8(bytes.subarray(start, contentEnd))) {
    throw new ProtocolError('line is not valid UTF-8')
  }
  return text
}

/** Splits a byte stream into text lines, enforcing the line cap and UTF-8 validity. */
export class LineFramer {
  readonly #maxLineBytes: number
  #pending: Buffer[] = []
  #pendingBytes = 0

  constructor(options: LineFramerOptions = {}) {
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  }

  /** Whether bytes of an unterminated line are buffered. */
  get hasPartialLine(): boolean {
    return this.#pendingBytes > 0
  }

  /**
   * Feeds the next bytes; calls `onLine` for every line they complete, in order. Throws
   * ProtocolError for an over-long line or invalid UTF-8; the framer is unusable afterwards.
   */
  push(chunk: Buffer, onLine: (line: string) => void): void {
    let start = 0
    let newline = chunk.indexOf(LF, start)
    while (newline !== -1) {
      onLine(
        this.#pendingBytes === 0
          ? this.#takeLine(chunk, start, newline)
          : this.#joinLine(chunk, start, newline),
      )
      start = newline + 1
      newline = chunk.indexOf(LF, start)
    }
    if (start < chunk.length) {
      const pendingBytes = this.#pendingBytes + chunk.length - start
      // A CR may still turn out to be part of the terminator, so allow one byte more here.
      if (pendingBytes > this.#maxLineBytes + 1) this.#failTooLong()
      this.#pending.push(start === 0 ? chunk : chunk.subarray(start))
      this.#pendingBytes = pendingBytes
    }
  }

  /** Signals end of input. Throws ProtocolError when an unterminated line is buffered. */
  finish(): void {
    if (this.#pendingBytes > 0) {
      this.#reset()
      throw new ProtocolError('end of stream inside a line')
    }
  }

  #takeLine(chunk: Buffer, start: number, newline: number): string {
    this.#checkLength(chunk, start, newline)
    return decodeLine(chunk, start, newline)
  }

  #joinLine(chunk: Buffer, start: number, newline: number): string {
    this.#pending.push(chunk.subarray(start, newline))
    const joined = Buffer.concat(this.#pending, this.#pendingBytes + newline - start)
    this.#pending = []
    this.#pendingBytes = 0
    this.#checkLength(joined, 0, joined.length)
    return decodeLine(joined, 0, joined.length)
  }

  #checkLength(bytes: Buffer, start: number, end: number): void {
    const contentBytes = end - start - (end > start && bytes[end - 1] === CR ? 1 : 0)
    if (contentBytes > this.#maxLineBytes) this.#failTooLong()
  }

  #failTooLong(): never {
    this.#reset()
    throw new MessageTooLargeError(`line longer than ${this.#maxLineBytes} bytes`)
  }

  #reset(): void {
    this.#pending = []
    this.#pendingBytes = 0
  }
}
