/**
 * The one validation helper module for request bodies: small typed checks that throw
 * InvalidParamsError naming the command and the field. Used on the hot path, so no schemas;
 * callers read the field themselves (`body.version`), a named load that stays fast where a
 * computed `body[field]` inside a shared helper would not.
 */
import { InvalidParamsError } from '../protocol/errors.js'

/** A request body that is a JSON object. */
export type Body = Readonly<Record<string, unknown>>

/** The body as an object; `null`/absent bodies become `{}` (commands without params). */
export function parseBody(command: string, body: unknown): Body {
  if (body === null || body === undefined) return {}
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidParamsError(`${command}: the request body must be a JSON object`)
  }
  // A non-array object parsed from JSON: a string-keyed record (boundary cast).
  return body as Body
}

/** A required string field; `value` is the body's `field`. */
export function requireString(command: string, field: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new InvalidParamsError(`${command}: field "${field}" must be a string`)
  }
  return value
}

/** An optional string field; null, absent and "" all mean "not given". */
export function optionalString(command: string, field: string, value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null
  if (typeof value !== 'string') {
    throw new InvalidParamsError(`${command}: field "${field}" must be a string or null`)
  }
  return value
}

/** An optional boolean field with a default for when it is absent or null. */
export function optionalBoolean(
  command: string,
  field: string,
  value: unknown,
  fallback: boolean,
): boolean {
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'boolean') {
    throw new InvalidParamsError(`${command}: field "${field}" must be true or false`)
  }
  return value
}

/**
 * An optional whole-number field in [`min`, `max`]; null when absent or null. (JSON numbers
 * beyond 2^53 lose precision, so larger bounds are refused.)
 */
export function optionalInteger(
  command: string,
  field: string,
  value: unknown,
  min: number,
  max: number,
): number | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidParamsError(
      `${command}: field "${field}" must be a whole number from ${min} to ${max}`,
    )
  }
  return value
}
