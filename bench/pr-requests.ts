// PR-service request lines as BitBake sends them, and checks of the replies the bench expects.

/** Package architecture used for every bench package (any string works; this one is typical). */
export const BENCH_PKGARCH = 'core2-64'

/** What one request does, as the bench counts and checks it. */
export const REQUEST_KINDS = ['ping', 'alloc', 'lookup', 'test-pr', 'max-package-pr'] as const
export type RequestKind = (typeof REQUEST_KINDS)[number]

/** The request line (without LF) for `{"ping": {}}`. */
export const PING_LINE = '{"ping": {}}'

/** A get-pr line, spaced like BitBake's client (`", "` and `": "`), always `history: false`. */
export function formatGetPrLine(version: string, checksum: string): string {
  return `{"get-pr": {"version": "${version}", "pkgarch": "${BENCH_PKGARCH}", "checksum": "${checksum}", "history": false}}`
}

export function formatTestPrLine(version: string, checksum: string): string {
  return `{"test-pr": {"version": "${version}", "pkgarch": "${BENCH_PKGARCH}", "checksum": "${checksum}", "history": false}}`
}

export function formatMaxPackagePrLine(version: string): string {
  return `{"max-package-pr": {"version": "${version}", "pkgarch": "${BENCH_PKGARCH}"}}`
}

export function formatTestPackageLine(version: string): string {
  return `{"test-package": {"version": "${version}", "pkgarch": "${BENCH_PKGARCH}"}}`
}

/** A 64-hex-digit checksum (the size of a real task hash) from a prefix and a counter. */
export function formatChecksum(prefixHex: string, counter: number): string {
  return prefixHex + counter.toString(16).padStart(64 - prefixHex.length, '0')
}

/** The value of the `value` key of a reply object, or undefined if the reply has none. */
export function readReplyValue(reply: unknown): unknown {
  if (typeof reply !== 'object' || reply === null || !('value' in reply)) return undefined
  return reply.value
}

/** Whether `reply` is what a correct server answers to a request of `kind` in this bench. */
export function isExpectedReply(kind: RequestKind, reply: unknown): boolean {
  switch (kind) {
    case 'ping':
      return typeof reply === 'object' && reply !== null && 'alive' in reply && reply.alive === true
    case 'alloc':
    case 'max-package-pr':
      return typeof readReplyValue(reply) === 'string'
    case 'lookup':
    case 'test-pr':
      // Every lookup package holds exactly one row, value "0" (seeded by seed-lookups.ts).
      return readReplyValue(reply) === '0'
    default: {
      const unreachable: never = kind
      return unreachable
    }
  }
}
