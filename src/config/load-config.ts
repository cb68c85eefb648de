/**
 * Builds the one `ServerConfig` and the one `ClientConfig`. Pure: the caller injects flags,
 * environment, file reading and the working directory. Precedence, lowest first: built-in
 * defaults, config file, environment, command-line flags.
 */
import { ConfigError } from '../protocol/errors.js'
import {
  BITBAKE_MAX_LINE_BYTES,
  DEFAULT_CLIENT_LOG_LEVEL,
  DEFAULT_CLIENT_TIMEOUT_MS,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_PENDING_WRITES,
  DEFAULT_SERVER_ADDRESS,
} from './config.js'
import type { ClientConfig, ServerConfig, ServerLimits, SyncMode, TcpAddress } from './config.js'
import { readConfigFile } from './config-file.js'
import type { ClientFlags, ServerFlags } from './config-flags.js'
import {
  buildEnvLayer,
  buildFileLayer,
  buildFlagLayer,
  DEFAULT_SOURCE,
  parseDefault,
  resolveSetting,
} from './config-layers.js'
import type { Layer } from './config-layers.js'
import { CLIENT_OPTIONS, SERVER_OPTIONS } from './config-options.js'
import {
  parseBoolean,
  parseLogLevel,
  parsePositiveInteger,
  parseSyncMode,
} from './config-values.js'
import type { Fail } from './config-values.js'
import { parseConnectAddress, parseTcpListenAddress } from './network-address.js'
import { resolveDatasets } from './resolve-datasets.js'

/** Everything the loaders read; `main.ts` passes `process.env`, `readFileSync` and `process.cwd()`. */
export interface LoadConfigInput<F> {
  /** Parsed command-line flags (see `ServerFlags`, `ClientFlags`, `parseServerFlags`). */
  readonly flags: F
  /** Environment variables; blank values count as unset. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Reads a UTF-8 file; throws an error with `code: 'ENOENT'` when it does not exist. */
  readonly readFile: (path: string) => string
  /** Absolute directory that relative paths (config file, database, sockets) resolve against. */
  readonly cwd: string
}

const IMMEDIATE: SyncMode = { kind: 'immediate' }
const EMPTY_LAYER: Layer = new Map()

/** Builds and validates the server configuration; throws ConfigError naming key, value, source. */
export function loadServerConfig(input: LoadConfigInput<ServerFlags>): ServerConfig {
  const envLayer = buildEnvLayer(SERVER_OPTIONS, input.env)
  const flagLayer = buildFlagLayer(SERVER_OPTIONS, input.flags)
  const file = readConfigFile({ ...input, layers: [envLayer, flagLayer] })
  const fileLayer = file === null ? EMPTY_LAYER : buildFileLayer(file.server, 'server', file.path)
  const layers = [fileLayer, envLayer, flagLayer] as const
  const warnings: string[] = []
  const syncMode = resolveSetting('sync_mode', layers, parseSyncMode, IMMEDIATE)
  if (syncMode.value.kind !== 'immediate') {
    warnings.push(
      `sync_mode ${formatSyncMode(syncMode.value)} from ${syncMode.source} is accepted for ` +
        'compatibility and ignored: every write is committed immediately',
    )
  }
  return freezeDeep({
    configPath: file?.path ?? null,
    datasets: resolveDatasets({ file, layers, cwd: input.cwd, warnings }),
    limits: resolveLimits(layers, warnings),
    postgres: {
      prepareStatements: !resolveSetting('pg_unnamed_statements', layers, parseBoolean, false)
        .value,
    },
    logLevel: resolveSetting('log_level', layers, parseLogLevel, DEFAULT_LOG_LEVEL).value,
    metricsBind: resolveSetting<TcpAddress | null>(
      'metrics_bind',
      layers,
      parseTcpListenAddress,
      null,
    ).value,
    syncMode: syncMode.value,
    warnings,
  })
}

/** Builds and validates the client configuration; throws ConfigError naming key, value, source. */
export function loadClientConfig(input: LoadConfigInput<ClientFlags>): ClientConfig {
  const envLayer = buildEnvLayer(CLIENT_OPTIONS, input.env)
  const flagLayer = buildFlagLayer(CLIENT_OPTIONS, input.flags)
  const file = readConfigFile({ ...input, layers: [envLayer, flagLayer] })
  const fileLayer = file === null ? EMPTY_LAYER : buildFileLayer(file.client, 'client', file.path)
  const layers = [fileLayer, envLayer, flagLayer]
  const toAddress = (raw: unknown, fail: Fail) => parseConnectAddress(raw, input.cwd, fail)
  const defaultAddress = parseDefault('server_addr', DEFAULT_SERVER_ADDRESS, toAddress)
  const timeoutMs = resolveSetting(
    'timeout_ms',
    layers,
    parsePositiveInteger,
    DEFAULT_CLIENT_TIMEOUT_MS,
  )
  return freezeDeep({
    configPath: file?.path ?? null,
    serverAddress: resolveSetting('server_addr', layers, toAddress, defaultAddress).value,
    timeoutMs: timeoutMs.value,
    logLevel: resolveSetting('log_level', layers, parseLogLevel, DEFAULT_CLIENT_LOG_LEVEL).value,
    warnings: [],
  })
}

function resolveLimits(layers: readonly Layer[], warnings: string[]): ServerLimits {
  const resolveCap = (key: string, fallback: number) =>
    resolveSetting(key, layers, parsePositiveInteger, fallback)
  const lineSetting = resolveCap('max_line_bytes', DEFAULT_MAX_LINE_BYTES)
  const messageSetting = resolveCap('max_message_bytes', DEFAULT_MAX_MESSAGE_BYTES)
  // When only one of the two caps is set, the other default follows it: a message may be one
  // line, so a line may not exceed the message cap. Both set and inconsistent is an error.
  const isLineDefault = lineSetting.source === DEFAULT_SOURCE
  const isMessageDefault = messageSetting.source === DEFAULT_SOURCE
  const line =
    isLineDefault && !isMessageDefault && messageSetting.value < lineSetting.value
      ? messageSetting
      : lineSetting
  const message = isMessageDefault && line.value > messageSetting.value ? line : messageSetting
  if (message.value < line.value) {
    throw new ConfigError(
      `Invalid max_message_bytes ${message.value} from ${message.source}: must be at least ` +
        `max_line_bytes ${line.value} from ${line.source}`,
    )
  }
  if (line.value < BITBAKE_MAX_LINE_BYTES) {
    warnings.push(
      `max_line_bytes ${line.value} from ${line.source} is below ${BITBAKE_MAX_LINE_BYTES}: ` +
        'BitBake clients may send longer lines, which will close their connections',
    )
  }
  return {
    maxLineBytes: line.value,
    maxMessageBytes: message.value,
    maxHeaderCount: resolveCap('max_header_count', DEFAULT_MAX_HEADER_COUNT).value,
    maxConnections: resolveCap('max_connections', DEFAULT_MAX_CONNECTIONS).value,
    maxPendingWrites: resolveCap('max_pending_writes', DEFAULT_MAX_PENDING_WRITES).value,
  }
}

function formatSyncMode(mode: SyncMode): string {
  switch (mode.kind) {
    case 'immediate':
      return 'immediate'
    case 'periodic':
      return `periodic:${mode.intervalSecs}`
    case 'onShutdown':
      return 'on_shutdown'
  }
}

/** Freezes a plain object tree in place and returns it. */
function freezeDeep<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    const children: unknown[] = Object.values(value)
    for (const child of children) freezeDeep(child)
    Object.freeze(value)
  }
  return value
}
