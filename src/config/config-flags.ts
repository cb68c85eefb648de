/**
 * The flags objects the CLI layer hands to the loader, and helpers that narrow commander's
 * untyped `opts()` into them without casts.
 */
import { ConfigError } from '../protocol/errors.js'
import { CLIENT_OPTIONS, SERVER_OPTIONS } from './config-options.js'
import type { OptionSpec } from './config-options.js'

/**
 * Parsed `prserv server` flags, exactly as commander's `opts()` yields them for the options in
 * `SERVER_OPTIONS` (register them without commander defaults: an absent flag must stay
 * `undefined` so lower layers apply). Values stay raw strings; the loader validates them so
 * errors name the flag.
 */
export type ServerFlags = {
  /** `-C, --config <file>` */
  readonly config?: string | undefined
  /** `-d, --database <path|url>` */
  readonly database?: string | undefined
  /** `-b, --bind <addr>`, repeatable (collect with `collectRepeatable`). */
  readonly bind?: readonly string[] | undefined
  /** `-r, --read-only` */
  readonly readOnly?: boolean | undefined
  /** `--nohist` */
  readonly nohist?: boolean | undefined
  /** `--history` */
  readonly history?: boolean | undefined
  /** `-u, --upstream <host:port>` */
  readonly upstream?: string | undefined
  /** `--max-connections <n>` */
  readonly maxConnections?: string | undefined
  /** `--sync-mode <mode>` */
  readonly syncMode?: string | undefined
  /** `-L, --log-level <level>` */
  readonly logLevel?: string | undefined
  /** `--max-line-bytes <n>` */
  readonly maxLineBytes?: string | undefined
  /** `--max-message-bytes <n>` */
  readonly maxMessageBytes?: string | undefined
  /** `--max-header-count <n>` */
  readonly maxHeaderCount?: string | undefined
  /** `--max-pending-writes <n>` */
  readonly maxPendingWrites?: string | undefined
  /** `--pg-unnamed-statements` */
  readonly pgUnnamedStatements?: boolean | undefined
  /** `--metrics-bind <host:port>` */
  readonly metricsBind?: string | undefined
}

/** Parsed `prserv client` flags for the options in `CLIENT_OPTIONS`; see `ServerFlags`. */
export type ClientFlags = {
  /** `-C, --config <file>` */
  readonly config?: string | undefined
  /** `-s, --server <addr>` */
  readonly server?: string | undefined
  /** `--timeout-ms <ms>` */
  readonly timeoutMs?: string | undefined
  /** `-L, --log-level <level>` */
  readonly logLevel?: string | undefined
}

/** Commander argument parser for an `arity: 'list'` option: appends each occurrence. */
export function collectRepeatable(
  value: string,
  previous: readonly string[] | undefined,
): string[] {
  return [...(previous ?? []), value]
}

/** Narrows commander's `opts()` to `ServerFlags`; a mistyped value is a ConfigError. */
export function parseServerFlags(values: Readonly<Record<string, unknown>>): ServerFlags {
  checkFlagTypes(SERVER_OPTIONS, values)
  const text = (key: keyof ServerFlags): string | undefined => readString(values, key)
  const flag = (key: keyof ServerFlags): boolean | undefined => readSwitch(values, key)
  return {
    config: text('config'),
    database: text('database'),
    bind: readList(values, 'bind'),
    readOnly: flag('readOnly'),
    nohist: flag('nohist'),
    history: flag('history'),
    upstream: text('upstream'),
    maxConnections: text('maxConnections'),
    syncMode: text('syncMode'),
    logLevel: text('logLevel'),
    maxLineBytes: text('maxLineBytes'),
    maxMessageBytes: text('maxMessageBytes'),
    maxHeaderCount: text('maxHeaderCount'),
    maxPendingWrites: text('maxPendingWrites'),
    pgUnnamedStatements: flag('pgUnnamedStatements'),
    metricsBind: text('metricsBind'),
  }
}

/** Narrows commander's `opts()` to `ClientFlags`; a mistyped value is a ConfigError. */
export function parseClientFlags(values: Readonly<Record<string, unknown>>): ClientFlags {
  checkFlagTypes(CLIENT_OPTIONS, values)
  const text = (key: keyof ClientFlags): string | undefined => readString(values, key)
  return {
    config: text('config'),
    server: text('server'),
    timeoutMs: text('timeoutMs'),
    logLevel: text('logLevel'),
  }
}

const FLAG_TYPE_NAMES = {
  value: 'a string',
  list: 'a list of strings',
  switch: 'a boolean',
} as const

function checkFlagTypes<F>(
  specs: readonly OptionSpec<F>[],
  values: Readonly<Record<string, unknown>>,
): void {
  for (const spec of specs) {
    const value = values[spec.flagKey]
    const isValid =
      value === undefined ||
      (spec.arity === 'value' && typeof value === 'string') ||
      (spec.arity === 'switch' && typeof value === 'boolean') ||
      (spec.arity === 'list' && Array.isArray(value) && value.every((v) => typeof v === 'string'))
    if (!isValid) {
      const expected = FLAG_TYPE_NAMES[spec.arity]
      throw new ConfigError(
        `Invalid ${spec.key} ${typeof value} from ${spec.long}: expected ${expected}`,
      )
    }
  }
}

function readString(values: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = values[key]
  return typeof value === 'string' ? value : undefined
}

function readSwitch(values: Readonly<Record<string, unknown>>, key: string): boolean | undefined {
  const value = values[key]
  return typeof value === 'boolean' ? value : undefined
}

function readList(values: Readonly<Record<string, unknown>>, key: string): string[] | undefined {
  const value = values[key]
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined
}
