/**
 * JSON text exactly as BitBake's Python peers write it (`json.dumps` defaults, asyncrpc.md §4),
 * and JSON decoding that turns malformed text into a ProtocolError.
 */
import { ProtocolError } from './errors.js'

/** Characters Python's `ensure_ascii` escapes: everything outside printable ASCII plus DEL. */
const NON_ASCII_PATTERN = /[\u007f-\uffff]/g

function escapeCharacter(character: string): string {
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`
}

/** A JSON string literal with every non-ASCII UTF-16 unit escaped as `\uXXXX`, like Python. */
export function encodeJsonString(text: string): string {
  // JSON.stringify already escapes quotes, backslashes, control characters and lone surrogates
  // with the same spelling Python uses; only the non-ASCII pass is left.
  return JSON.stringify(text).replace(NON_ASCII_PATTERN, escapeCharacter)
}

function hasToJson(value: object): value is { toJSON: () => unknown } {
  return 'toJSON' in value && typeof value.toJSON === 'function'
}

function encodeArray(values: readonly unknown[]): string {
  if (values.length === 0) return '[]'
  let text = '['
  for (let index = 0; index < values.length; index++) {
    if (index > 0) text += ', '
    text += encodeValue(values[index]) ?? 'null'
  }
  return text + ']'
}

function encodeObject(value: object): string {
  let text = '{'
  let isFirst = true
  for (const [key, member] of Object.entries(value)) {
    const encoded = encodeValue(member)
    // Like JSON.stringify: members whose value has no JSON form (undefined, functions) vanish.
    if (encoded === undefined) continue
    text += isFirst ? '' : ', '
    text += encodeJsonString(key) + ': ' + encoded
    isFirst = false
  }
  return text + '}'
}

function encodeValue(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return encodeJsonString(value)
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null'
    case 'boolean':
      return value ? 'true' : 'false'
    case 'bigint':
      return value.toString()
    case 'object':
      if (value === null) return 'null'
      if (Array.isArray(value)) return encodeArray(value)
      if (hasToJson(value)) return encodeValue(value.toJSON())
      return encodeObject(value)
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined
  }
}

/**
 * Serialises a value like Python's `json.dumps(value)`: separators `", "` and `": "`, key
 * insertion order, non-ASCII escaped as `\uXXXX` (so the result is pure ASCII). `undefined` at
 * the top level becomes `null`.
 */
export function encodeJson(value: unknown): string {
  return encodeValue(value) ?? 'null'
}

/** Parses any valid JSON text; anything else is a ProtocolError. */
export function decodeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err: unknown) {
    throw new ProtocolError('invalid JSON', { cause: err })
  }
}
