/**
 * The asyncrpc handshake (asyncrpc.md §5): the protocol line, header lines up to an empty line,
 * and the `needs-headers` decision. Pure: fed one received line (or WebSocket message) at a time.
 */
import { ProtocolError } from './errors.js'

/** Default cap on handshake header lines. */
export const DEFAULT_MAX_HEADER_COUNT = 32
/** The header by which a client asks for the server's header block. */
export const NEEDS_HEADERS_KEY = 'needs-headers'

/** What the server checks in a handshake. */
export interface HandshakeOptions {
  /** The exact protocol name, e.g. 'PRSERVICE'. */
  readonly protocolName: string
  /** Whether the parsed version tuple is accepted (e.g. exactly [1, 0]). */
  readonly acceptsVersion: (version: readonly number[]) => boolean
  /** Most header lines accepted. Default DEFAULT_MAX_HEADER_COUNT. */
  readonly maxHeaderCount?: number
}

/** A validated handshake. */
export interface Handshake {
  /** The client's version tuple, e.g. [1, 0]. */
  readonly version: readonly number[]
  /** Header values by lower-cased key, values trimmed. */
  readonly headers: ReadonlyMap<string, string>
  /** Whether the server must answer with its header block (`needs-headers: true`). */
  readonly needsHeaders: boolean
}

/** The outcome of feeding one line. */
export type HandshakeStep =
  { readonly isComplete: false } | { readonly isComplete: true; readonly handshake: Handshake }

const INCOMPLETE: HandshakeStep = { isComplete: false }
/** Python's int() on a whitespace-free token: optional sign, digits, single underscores. */
const INTEGER_PATTERN = /^[+-]?[0-9]+(?:_[0-9]+)*$/

/**
 * Parses a version token like Python's `tuple(int(v) for v in text.split("."))`: leading zeros
 * are fine (`01.0` is [1, 0]); an empty or non-integer part is a ProtocolError.
 */
export function parseVersion(text: string): number[] {
  return text.split('.').map((part) => {
    if (!INTEGER_PATTERN.test(part)) throw new ProtocolError('handshake version is not numeric')
    return Number.parseInt(part.replaceAll('_', ''), 10)
  })
}

/** Whether tuple `a` sorts before `b` like Python tuples (a proper prefix sorts first). */
export function isVersionBefore(a: readonly number[], b: readonly number[]): boolean {
  const shared = Math.min(a.length, b.length)
  for (let index = 0; index < shared; index++) {
    const left = a[index] ?? 0
    const right = b[index] ?? 0
    if (left !== right) return left < right
  }
  return a.length < b.length
}

/** The lines a client sends (without LF): protocol line, `needs-headers: false`, empty line. */
export function formatClientHandshake(protocolName: string, protocolVersion: string): string[] {
  return [`${protocolName} ${protocolVersion}`, `${NEEDS_HEADERS_KEY}: false`, '']
}

/**
 * The server side of the handshake. Every received line has its trailing whitespace removed
 * first (§4). Any violation throws ProtocolError; the caller closes without replying.
 */
export class HandshakeParser {
  readonly #options: HandshakeOptions
  readonly #maxHeaderCount: number
  readonly #headers = new Map<string, string>()
  #version: readonly number[] | null = null
  #headerCount = 0

  constructor(options: HandshakeOptions) {
    this.#options = options
    this.#maxHeaderCount = options.maxHeaderCount ?? DEFAULT_MAX_HEADER_COUNT
  }

  /** Feeds the next line; returns the handshake once the empty line ending the headers came. */
  push(rawLine: string): HandshakeStep {
    const line = rawLine.trimEnd()
    if (this.#version === null) {
      this.#version = this.#parseProtocolLine(line)
      return INCOMPLETE
    }
    if (line === '') {
      const headers = this.#headers
      const needsHeaders = headers.get(NEEDS_HEADERS_KEY) === 'true'
      return { isComplete: true, handshake: { version: this.#version, headers, needsHeaders } }
    }
    this.#addHeader(line)
    return INCOMPLETE
  }

  #parseProtocolLine(line: string): readonly number[] {
    if (line === '') throw new ProtocolError('empty handshake line')
    const tokens = line.trim().split(/\s+/)
    if (tokens.length !== 2) throw new ProtocolError('handshake line is not "NAME VERSION"')
    const [name = '', versionText = ''] = tokens
    if (name !== this.#options.protocolName) throw new ProtocolError('wrong protocol name')
    const version = parseVersion(versionText)
    if (!this.#options.acceptsVersion(version)) {
      throw new ProtocolError('unsupported protocol version')
    }
    return version
  }

  #addHeader(line: string): void {
    this.#headerCount++
    if (this.#headerCount > this.#maxHeaderCount) {
      throw new ProtocolError(`more than ${this.#maxHeaderCount} handshake headers`)
    }
    const colon = line.indexOf(':')
    if (colon === -1) throw new ProtocolError('handshake header without ":"')
    this.#headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim())
  }
}
