/**
 * Validation helpers: each turns one raw value (a flag or environment string, or a config file
 * value) into a typed setting, or reports why not through `fail`. The caller builds `fail` with
 * `failFor` so every error names the key, the value and where it came from.
 */
import { isAbsolute, resolve } from 'node:path'
import { ConfigError } from '../protocol/errors.js'
import { LOG_LEVELS } from '../observability/logger.js'
import type { LogLevel } from '../observability/logger.js'
import type { StorageConfig, SyncMode } from './config.js'
import { redactUrl } from './redact-config.js'

/** Reports why a raw value is invalid; never returns. */
export type Fail = (reason: string) => never

/** A raw value and where it came from (`--bind`, `PRSERV_BIND_ADDR`, `server.bind_addr in …`). */
export interface Candidate {
  readonly raw: unknown
  readonly source: string
}

/** Builds the `fail` for one value: throws a ConfigError naming key, value and source. */
export function failFor(key: string, candidate: Candidate): Fail {
  return (reason) => {
    const value = formatValue(candidate.raw)
    throw new ConfigError(`Invalid ${key} ${value} from ${candidate.source}: ${reason}`)
  }
}

/** Renders a raw value for an error message: JSON, passwords redacted, at most 120 chars. */
export function formatValue(raw: unknown): string {
  const text = formatRaw(raw)
  return text.length > 120 ? `${text.slice(0, 117)}...` : text
}

function formatRaw(raw: unknown): string {
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw)
  if (typeof raw !== 'string' && typeof raw !== 'object') return `(${typeof raw})`
  return JSON.stringify(raw, (_key, value: unknown) =>
    typeof value === 'string' ? redactUrl(value) : value,
  )
}

/** True for a plain object such as a parsed JSON/YAML mapping. */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const TRUE_WORDS = ['true', '1', 'yes', 'on']
const FALSE_WORDS = ['false', '0', 'no', 'off']

/** A boolean, or one of true/false/1/0/yes/no/on/off in any case. */
export function parseBoolean(raw: unknown, fail: Fail): boolean {
  if (typeof raw === 'boolean') return raw
  if (typeof raw === 'string' || typeof raw === 'number') {
    const word = String(raw).trim().toLowerCase()
    if (TRUE_WORDS.includes(word)) return true
    if (FALSE_WORDS.includes(word)) return false
  }
  return fail('expected true/false, 1/0, yes/no or on/off')
}

/** A whole number from 1 up to `Number.MAX_SAFE_INTEGER`, as a number or decimal string. */
export function parsePositiveInteger(raw: unknown, fail: Fail): number {
  const value =
    typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? +raw : NaN
  if (!Number.isSafeInteger(value) || value < 1) return fail('expected a positive integer')
  return value
}

/** A non-empty string. */
export function parseText(raw: unknown, fail: Fail): string {
  if (typeof raw !== 'string' || raw.trim() === '') return fail('expected a non-empty string')
  return raw
}

/** Syslog-style names and numbers (seed-cli.md §2.1) mapped onto pino levels. */
const LOG_LEVEL_ALIASES: Readonly<Record<string, LogLevel>> = {
  emergency: 'fatal',
  emerg: 'fatal',
  alert: 'fatal',
  critical: 'fatal',
  crit: 'fatal',
  err: 'error',
  warning: 'warn',
  notice: 'info',
  '0': 'fatal',
  '1': 'fatal',
  '2': 'fatal',
  '3': 'error',
  '4': 'warn',
  '5': 'info',
  '6': 'info',
  '7': 'debug',
}

/** A pino level, a syslog/Python level name or a syslog number 0-7 (case-insensitive). */
export function parseLogLevel(raw: unknown, fail: Fail): LogLevel {
  if (typeof raw === 'string' || typeof raw === 'number') {
    const word = String(raw).trim().toLowerCase()
    const level = LOG_LEVELS.find((candidate) => candidate === word) ?? LOG_LEVEL_ALIASES[word]
    if (level !== undefined) return level
  }
  return fail(`expected one of ${LOG_LEVELS.join(', ')}, a syslog level name or 0-7`)
}

const SYNC_MODE_HINT =
  'expected immediate, periodic:<secs>, on_shutdown or {periodic: {interval_secs: N}}'

/** `immediate`, `periodic:<secs>`, `on_shutdown`/`on-shutdown`/`shutdown`, or the file object. */
export function parseSyncMode(raw: unknown, fail: Fail): SyncMode {
  if (isRecord(raw)) return parseSyncModeObject(raw, fail)
  if (typeof raw !== 'string') return fail(SYNC_MODE_HINT)
  const word = raw.trim().toLowerCase()
  if (word === 'immediate') return { kind: 'immediate' }
  if (['on_shutdown', 'on-shutdown', 'shutdown'].includes(word)) return { kind: 'onShutdown' }
  const periodic = /^periodic:(.*)$/.exec(word)
  if (periodic === null) return fail(SYNC_MODE_HINT)
  const intervalSecs = parsePositiveInteger(periodic[1], () => fail(SYNC_MODE_HINT))
  return { kind: 'periodic', intervalSecs }
}

function parseSyncModeObject(raw: Readonly<Record<string, unknown>>, fail: Fail): SyncMode {
  const periodic = raw['periodic']
  const keys = Object.keys(raw)
  if (keys.length !== 1 || !isRecord(periodic)) return fail(SYNC_MODE_HINT)
  const periodicKeys = Object.keys(periodic)
  if (periodicKeys.length !== 1 || !('interval_secs' in periodic)) return fail(SYNC_MODE_HINT)
  const intervalSecs = parsePositiveInteger(periodic['interval_secs'], () => fail(SYNC_MODE_HINT))
  return { kind: 'periodic', intervalSecs }
}

/** A SQLite path (relative to `cwd`, or `:memory:`) or a `postgres://`/`postgresql://` URL. */
export function parseStorage(raw: unknown, cwd: string, fail: Fail): StorageConfig {
  const text = parseText(raw, fail).trim()
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase()
  if (scheme === 'postgres' || scheme === 'postgresql') {
    if (!URL.canParse(text)) return fail('not a valid PostgreSQL URL')
    return { kind: 'postgres', url: text }
  }
  if (scheme !== undefined) {
    return fail(`unsupported database URL scheme "${scheme}://" (use a SQLite path or postgres://)`)
  }
  if (text === ':memory:') return { kind: 'sqlite', path: text }
  return { kind: 'sqlite', path: isAbsolute(text) ? text : resolve(cwd, text) }
}

/** A dataset name: letters, digits, `_`, `.` and `-`, starting with a letter or digit. */
export function parseDatasetName(raw: unknown, fail: Fail): string {
  const name = parseText(raw, fail)
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    return fail('expected 1-64 letters, digits, "_", "." or "-", starting with a letter or digit')
  }
  return name
}
