/**
 * Revision strings ("0", "7", "1.3", "0.3.2"): parsing, arithmetic and the numeric total order
 * used everywhere (prserv.md §2). Pure functions; storage uses `revisionSortKey` to index
 * revisions so that the order of the index is the numeric order.
 *
 * Order (fixing BitBake's prefix anomaly, docs/compat.md): fields compare as integers left to
 * right; a value that is a proper prefix of another sorts first ("1" < "1.0" < "1.1" < "2");
 * values with equal numbers ("01", "1") are equal.
 */

/** Longest decimal field we accept; longer fields make the value a non-revision. */
export const MAX_REVISION_FIELD_DIGITS = 90

const DOT = 0x2e
const DIGIT_0 = 0x30
const DIGIT_9 = 0x39

/**
 * The fields of a revision with leading zeros removed, or `null` if it is not a revision.
 * One pass over the characters: this runs several times for every allocation.
 */
export function parseRevision(value: string): readonly string[] | null {
  const fields: string[] = []
  let start = 0
  for (let index = 0; index <= value.length; index++) {
    const code = index < value.length ? value.charCodeAt(index) : DOT
    if (code !== DOT) {
      if (code < DIGIT_0 || code > DIGIT_9) return null
      continue
    }
    if (index === start) return null
    let first = start
    while (first < index - 1 && value.charCodeAt(first) === DIGIT_0) first++
    if (index - first > MAX_REVISION_FIELD_DIGITS) return null
    fields.push(first === 0 && index === value.length ? value : value.slice(first, index))
    start = index + 1
  }
  return fields
}

/** Whether `value` is a well-formed revision (dot-separated decimal fields). */
export function isRevision(value: string): boolean {
  return parseRevision(value) !== null
}

function requireRevision(value: string): readonly string[] {
  const fields = parseRevision(value)
  if (fields === null) throw new RangeError(`not a revision: ${JSON.stringify(value)}`)
  return fields
}

/** Fields shorter than this fit a double exactly, with room for the carry. */
const SAFE_DIGITS = 15

function incrementDigits(digits: string): string {
  if (digits.length < SAFE_DIGITS) return String(Number(digits) + 1)
  return (BigInt(digits) + 1n).toString()
}

/**
 * BitBake's `increase`: add one to the last field ("9" -> "10", "1.9" -> "1.10").
 * Throws a RangeError for a non-revision. Other fields are kept as written.
 */
export function increaseRevision(value: string): string {
  requireRevision(value)
  const lastField = value.lastIndexOf('.') + 1
  return value.slice(0, lastField) + incrementDigits(value.slice(lastField))
}

/**
 * A string whose plain (binary) string order is the numeric revision order, for indexing.
 * Each field is written as one length character followed by its digits, so shorter numbers
 * sort first and a prefix sorts before its extensions. Every revision starting with the
 * fields of `base` has a key starting with `revisionSortKey(base)`.
 */
export function revisionSortKey(value: string): string | null {
  const fields = parseRevision(value)
  if (fields === null) return null
  let key = ''
  for (const digits of fields) key += String.fromCharCode(0x21 + digits.length) + digits
  return key
}

/** Numeric comparison: negative if a < b, 0 if equal in number, positive if a > b. */
export function compareRevisions(a: string, b: string): number {
  const keyA = revisionSortKey(a)
  const keyB = revisionSortKey(b)
  if (keyA === null) throw new RangeError(`not a revision: ${JSON.stringify(a)}`)
  if (keyB === null) throw new RangeError(`not a revision: ${JSON.stringify(b)}`)
  return keyA < keyB ? -1 : keyA > keyB ? 1 : 0
}

/** The largest revision of `values` (non-revisions ignored), or null. Ties keep the first. */
export function maxRevision(values: Iterable<string | null>): string | null {
  let best: string | null = null
  for (const value of values) {
    if (value === null || !isRevision(value)) continue
    if (best === null || compareRevisions(value, best) > 0) best = value
  }
  return best
}

/** The smallest revision of `values` (non-revisions ignored), or null. Ties keep the first. */
export function minRevision(values: Iterable<string | null>): string | null {
  let best: string | null = null
  for (const value of values) {
    if (value === null || !isRevision(value)) continue
    if (best === null || compareRevisions(value, best) < 0) best = value
  }
  return best
}
