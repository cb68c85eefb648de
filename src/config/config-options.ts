/**
 * The table of every option: command-line flag, environment variable, config file key, default
 * and description. It drives the loader's layers, the commander help text and the docs check,
 * so a new option is one entry here plus the line in the loader that reads it.
 */
import {
  BITBAKE_MAX_LINE_BYTES,
  DEFAULT_BIND_ADDRESS,
  DEFAULT_CLIENT_LOG_LEVEL,
  DEFAULT_CLIENT_TIMEOUT_MS,
  DEFAULT_CONFIG_FILE,
  DEFAULT_DATABASE_PATH,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_PENDING_WRITES,
  DEFAULT_SERVER_ADDRESS,
} from './config.js'
import type { ClientFlags, ServerFlags } from './config-flags.js'

/** How a flag takes its value: `<value>`, a repeatable `<value>`, or a bare switch. */
export type FlagArity = 'value' | 'list' | 'switch'

/** One option of one command. `F` is that command's flags type. */
export interface OptionSpec<F> {
  /** Snake-case name: the config file key (when `isFileKey`) and the name in error messages. */
  readonly key: string
  /** Property of the flags object (commander's camel-case of `long`). */
  readonly flagKey: keyof F & string
  /** Short flag such as `-d`, or null. */
  readonly short: string | null
  /** Long flag such as `--database`. */
  readonly long: string
  /** Value placeholder such as `<path|url>`; empty for a switch. */
  readonly valueName: string
  /** Whether the flag takes a value, a repeatable value, or nothing. */
  readonly arity: FlagArity
  /** Environment variable, or null when there is none. */
  readonly envName: string | null
  /** Whether `key` may appear in the command's config file section. */
  readonly isFileKey: boolean
  /** The default as shown in help and docs. */
  readonly defaultText: string
  /** One-line help text, without the default. */
  readonly description: string
}

type OptionEntry<F> = Omit<OptionSpec<F>, 'short' | 'valueName' | 'envName' | 'isFileKey'> &
  Partial<Pick<OptionSpec<F>, 'short' | 'valueName' | 'envName' | 'isFileKey'>>

function option<F>(entry: OptionEntry<F>): OptionSpec<F> {
  return { short: null, valueName: '', envName: null, isFileKey: true, ...entry }
}

const CONFIG_DESCRIPTION = 'Config file (YAML for .yaml/.yml, otherwise JSON); may be missing'
const LOG_LEVEL_DESCRIPTION =
  'Log level: fatal, error, warn, info, debug, trace, silent, a syslog name or 0-7'

/** Every `prserv server` option; its config file keys live under `server:`. */
export const SERVER_OPTIONS: readonly OptionSpec<ServerFlags>[] = [
  option({
    key: 'config',
    flagKey: 'config',
    short: '-C',
    long: '--config',
    valueName: '<file>',
    arity: 'value',
    envName: 'PRSERV_CONFIG',
    isFileKey: false,
    defaultText: DEFAULT_CONFIG_FILE,
    description: CONFIG_DESCRIPTION,
  }),
  option({
    key: 'database',
    flagKey: 'database',
    short: '-d',
    long: '--database',
    valueName: '<path|url>',
    arity: 'value',
    envName: 'PRSERV_DATABASE',
    defaultText: DEFAULT_DATABASE_PATH,
    description: 'SQLite database file, or a postgres:// or postgresql:// URL',
  }),
  option({
    key: 'bind_addr',
    flagKey: 'bind',
    short: '-b',
    long: '--bind',
    valueName: '<addr>',
    arity: 'list',
    envName: 'PRSERV_BIND_ADDR',
    defaultText: DEFAULT_BIND_ADDRESS,
    description: 'Listen address (host:port, [v6]:port, unix://path, ws://host:port); repeatable',
  }),
  option({
    key: 'read_only',
    flagKey: 'readOnly',
    short: '-r',
    long: '--read-only',
    arity: 'switch',
    envName: 'PRSERV_READ_ONLY',
    defaultText: 'false',
    description: 'Refuse writes; unknown checksums are answered but not stored',
  }),
  option({
    key: 'nohist',
    flagKey: 'nohist',
    long: '--nohist',
    arity: 'switch',
    envName: 'PRSERV_NOHIST',
    defaultText: 'true',
    description: 'Requests without a history field use no-history mode (the default)',
  }),
  option({
    key: 'history',
    flagKey: 'history',
    long: '--history',
    arity: 'switch',
    envName: 'PRSERV_HISTORY',
    defaultText: 'false',
    description: 'Requests without a history field use history mode (excludes --nohist)',
  }),
  option({
    key: 'upstream',
    flagKey: 'upstream',
    short: '-u',
    long: '--upstream',
    valueName: '<host:port>',
    arity: 'value',
    envName: 'PRSERV_UPSTREAM',
    defaultText: 'none',
    description: 'Upstream PR server whose numbering this server extends',
  }),
  option({
    key: 'max_connections',
    flagKey: 'maxConnections',
    long: '--max-connections',
    valueName: '<n>',
    arity: 'value',
    envName: 'PRSERV_MAX_CONNECTIONS',
    defaultText: String(DEFAULT_MAX_CONNECTIONS),
    description: 'Most open client connections; also the PostgreSQL pool size',
  }),
  option({
    key: 'sync_mode',
    flagKey: 'syncMode',
    long: '--sync-mode',
    valueName: '<mode>',
    arity: 'value',
    envName: 'PRSERV_SYNC_MODE',
    defaultText: 'immediate',
    description: 'immediate, periodic:<secs> or on_shutdown; accepted and ignored (warns)',
  }),
  option({
    key: 'log_level',
    flagKey: 'logLevel',
    short: '-L',
    long: '--log-level',
    valueName: '<level>',
    arity: 'value',
    envName: 'PRSERV_LOG_LEVEL',
    defaultText: DEFAULT_LOG_LEVEL,
    description: LOG_LEVEL_DESCRIPTION,
  }),
  option({
    key: 'max_line_bytes',
    flagKey: 'maxLineBytes',
    long: '--max-line-bytes',
    valueName: '<n>',
    arity: 'value',
    defaultText: String(DEFAULT_MAX_LINE_BYTES),
    description: `Longest accepted line in bytes (BitBake peers need ${BITBAKE_MAX_LINE_BYTES})`,
  }),
  option({
    key: 'max_message_bytes',
    flagKey: 'maxMessageBytes',
    long: '--max-message-bytes',
    valueName: '<n>',
    arity: 'value',
    defaultText: String(DEFAULT_MAX_MESSAGE_BYTES),
    description: 'Largest chunked message after reassembly, in bytes (>= max_line_bytes)',
  }),
  option({
    key: 'max_header_count',
    flagKey: 'maxHeaderCount',
    long: '--max-header-count',
    valueName: '<n>',
    arity: 'value',
    defaultText: String(DEFAULT_MAX_HEADER_COUNT),
    description: 'Most handshake header lines per connection',
  }),
  option({
    key: 'pg_unnamed_statements',
    flagKey: 'pgUnnamedStatements',
    long: '--pg-unnamed-statements',
    arity: 'switch',
    envName: 'PRSERV_PG_UNNAMED_STATEMENTS',
    defaultText: 'false',
    description:
      'PostgreSQL: no named prepared statements, for poolers without them (pgbouncer < 1.21)',
  }),
  option({
    key: 'metrics_bind',
    flagKey: 'metricsBind',
    long: '--metrics-bind',
    valueName: '<host:port>',
    arity: 'value',
    envName: 'PRSERV_METRICS_BIND',
    defaultText: 'none',
    description: 'Serve Prometheus metrics over HTTP at http://host:port/metrics',
  }),
  option({
    key: 'max_pending_writes',
    flagKey: 'maxPendingWrites',
    long: '--max-pending-writes',
    valueName: '<n>',
    arity: 'value',
    defaultText: String(DEFAULT_MAX_PENDING_WRITES),
    description: 'Most write requests queued for the database at once',
  }),
]

/** Every `prserv client` option; its config file keys live under `client:`. */
export const CLIENT_OPTIONS: readonly OptionSpec<ClientFlags>[] = [
  option({
    key: 'config',
    flagKey: 'config',
    short: '-C',
    long: '--config',
    valueName: '<file>',
    arity: 'value',
    envName: 'PRSERV_CONFIG',
    isFileKey: false,
    defaultText: DEFAULT_CONFIG_FILE,
    description: CONFIG_DESCRIPTION,
  }),
  option({
    key: 'server_addr',
    flagKey: 'server',
    short: '-s',
    long: '--server',
    valueName: '<addr>',
    arity: 'value',
    envName: 'PRSERV_SERVER_ADDR',
    defaultText: DEFAULT_SERVER_ADDRESS,
    description: 'Server address (host:port, [v6]:port, unix://path, ws://host:port)',
  }),
  option({
    key: 'timeout_ms',
    flagKey: 'timeoutMs',
    long: '--timeout-ms',
    valueName: '<ms>',
    arity: 'value',
    defaultText: String(DEFAULT_CLIENT_TIMEOUT_MS),
    description: 'Wait for each reply, in milliseconds',
  }),
  option({
    key: 'log_level',
    flagKey: 'logLevel',
    short: '-L',
    long: '--log-level',
    valueName: '<level>',
    arity: 'value',
    envName: 'PRSERV_LOG_LEVEL',
    defaultText: DEFAULT_CLIENT_LOG_LEVEL,
    description: LOG_LEVEL_DESCRIPTION,
  }),
]

/** Keys of one `server.datasets[]` entry; all but `name` override the server key they share. */
export const DATASET_KEYS = [
  'name',
  'database',
  'bind_addr',
  'read_only',
  'upstream',
  'nohist',
  'history',
] as const

/** Commander's flags string for an option, e.g. `-d, --database <path|url>`. */
export function formatCommanderFlags<F>(spec: OptionSpec<F>): string {
  const names = spec.short === null ? spec.long : `${spec.short}, ${spec.long}`
  return spec.valueName === '' ? names : `${names} ${spec.valueName}`
}

/** Help text for an option: its description, default and environment variable. */
export function formatOptionHelp<F>(spec: OptionSpec<F>): string {
  const env = spec.envName === null ? '' : `; env ${spec.envName}`
  return `${spec.description} (default: ${spec.defaultText}${env})`
}
