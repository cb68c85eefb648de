/**
 * The configuration types every layer receives, and the built-in defaults. Values are produced
 * once at startup by load-config.ts; everything here is readonly and frozen.
 */
import { DEFAULT_CLIENT_TIMEOUT_MS } from '../client/rpc-client.js'
import type { LogLevel } from '../observability/logger.js'
import { DEFAULT_MAX_MESSAGE_BYTES } from '../protocol/chunking.js'
import { DEFAULT_MAX_HEADER_COUNT } from '../protocol/handshake.js'
import { DEFAULT_MAX_CONNECTIONS } from '../rpc/rpc-server.js'

/** Config file read when neither `--config` nor `PRSERV_CONFIG` names one (may be missing). */
export const DEFAULT_CONFIG_FILE = 'prserv.json'
/** SQLite database used when no database is configured (relative to the working directory). */
export const DEFAULT_DATABASE_PATH = './prserv.sqlite3'
/** Listen address used when no bind address is configured. */
export const DEFAULT_BIND_ADDRESS = '127.0.0.1:8585'
/** Server address the client connects to when none is configured. */
export const DEFAULT_SERVER_ADDRESS = '127.0.0.1:8585'
/** Name of the single dataset built from `--database`/`--bind` when no datasets are declared. */
export const DEFAULT_DATASET_NAME = 'default'
/** Whether the server refuses writes by default. */
export const DEFAULT_IS_READ_ONLY = false
/** History mode for `get-pr`/`test-pr`/`export` requests without a `history` field. */
export const DEFAULT_HISTORY = false
/** Server log level. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info'
/** Client log level (the client prints results on stdout; logs go to stderr). */
export const DEFAULT_CLIENT_LOG_LEVEL: LogLevel = 'warn'
/** Line length every BitBake peer may send (asyncrpc.md §4); lower caps break real clients. */
export const BITBAKE_MAX_LINE_BYTES = 65_536
/** Longest accepted line, in bytes, excluding the newline (1 MiB). */
export const DEFAULT_MAX_LINE_BYTES = 1_048_576
/**
 * Largest accepted message after chunk-stream reassembly, in bytes (16 MiB); most handshake
 * header lines; most client connections open at once (also capping the PostgreSQL pool); the
 * client's wait for each reply. The layers that enforce them own the values.
 */
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_CLIENT_TIMEOUT_MS,
}
/** Most write requests queued for the database at once; the stores own the value. */
export { DEFAULT_MAX_PENDING_WRITES } from '../storage/write-queue-limit.js'

/** Where a dataset lives: a SQLite file or a PostgreSQL database. */
export type StorageConfig =
  /** SQLite file: `path` is absolute, or exactly `:memory:`. */
  | { readonly kind: 'sqlite'; readonly path: string }
  /** PostgreSQL: `url` is a `postgres://` or `postgresql://` URL and may hold a password. */
  | { readonly kind: 'postgres'; readonly url: string }

/** A TCP address: `host:port` or `[v6]:port`. */
export interface TcpAddress {
  readonly kind: 'tcp'
  /** Host name or IP literal without brackets; empty means all interfaces. */
  readonly host: string
  /** Port, 0 to 65535 (0 = ephemeral, listening only). */
  readonly port: number
  /** The address as written by the user, for logs. */
  readonly text: string
}

/** A Unix domain socket address: `unix://path`. */
export interface UnixAddress {
  readonly kind: 'unix'
  /** Absolute socket path (a relative path is resolved against the working directory). */
  readonly path: string
  /** The address as written by the user, for logs. */
  readonly text: string
}

/** A WebSocket address: `ws://host:port[/path]` or `wss://…`. */
export interface WebSocketAddress {
  readonly kind: 'websocket'
  /** Host name or IP literal without brackets; empty means all interfaces. */
  readonly host: string
  /** Port; when omitted, 80 for `ws://` and 443 for `wss://`. */
  readonly port: number
  /** The whole URI, used as-is by clients; servers ignore its path. */
  readonly url: string
  /** True for `wss://`. A server still listens in clear text (TLS belongs to a proxy). */
  readonly isSecure: boolean
  /** The address as written by the user, for logs. */
  readonly text: string
}

/** Any address in BitBake's syntax (asyncrpc.md §2.2). */
export type NetworkAddress = TcpAddress | UnixAddress | WebSocketAddress

/** BitBake-compatible sync modes. Accepted for compatibility; every write commits at once. */
export type SyncMode =
  | { readonly kind: 'immediate' }
  | { readonly kind: 'periodic'; readonly intervalSecs: number }
  | { readonly kind: 'onShutdown' }

/** Caps on untrusted input, shared by every dataset and listener. */
export interface ServerLimits {
  /** Longest line, in bytes, excluding the newline. Default `DEFAULT_MAX_LINE_BYTES`. */
  readonly maxLineBytes: number
  /** Largest reassembled chunked message, in bytes; at least `maxLineBytes`. */
  readonly maxMessageBytes: number
  /** Most handshake header lines. Default `DEFAULT_MAX_HEADER_COUNT`. */
  readonly maxHeaderCount: number
  /** Most open client connections; also the PostgreSQL pool size of each dataset. */
  readonly maxConnections: number
  /** Most write requests queued for the database at once. */
  readonly maxPendingWrites: number
}

/** One PR database served on its own listener(s). */
export interface DatasetConfig {
  /** Unique name used in logs and metrics labels (`default` for the single dataset). */
  readonly name: string
  /** Where the PR table lives; no two datasets share one. */
  readonly storage: StorageConfig
  /** At least one listen address; no two datasets share one. */
  readonly listen: readonly NetworkAddress[]
  /** Refuse writes (`get-pr` of unknown checksums is answered but not stored). */
  readonly isReadOnly: boolean
  /** Upstream PR server (TCP only), or null. */
  readonly upstream: TcpAddress | null
  /** History mode for requests without a `history` field. Default false (`--nohist`). */
  readonly defaultHistory: boolean
}

/** How PostgreSQL datasets talk to their database. */
export interface PostgresSettings {
  /**
   * Named prepared statements (default true). false (`--pg-unnamed-statements`) behind
   * poolers that do not support them: each parameterised statement then costs one more round
   * trip.
   */
  readonly prepareStatements: boolean
}

/** Everything `prserv server` needs. Frozen. */
export interface ServerConfig {
  /** Absolute path of the config file that was read, or null when none was. */
  readonly configPath: string | null
  /** One or more datasets; names, databases and listen addresses are all distinct. */
  readonly datasets: readonly DatasetConfig[]
  /** Input caps shared by all listeners. */
  readonly limits: ServerLimits
  /** Settings of every PostgreSQL dataset. */
  readonly postgres: PostgresSettings
  /** Root logger level. */
  readonly logLevel: LogLevel
  /** Where Prometheus metrics are served over HTTP (`/metrics`), or null: not recorded. */
  readonly metricsBind: TcpAddress | null
  /** The sync mode that was asked for; informational only (see `SyncMode`). */
  readonly syncMode: SyncMode
  /** Problems that did not stop startup; the caller logs each one at `warn`. */
  readonly warnings: readonly string[]
}

/** Everything `prserv client` needs. Frozen. */
export interface ClientConfig {
  /** Absolute path of the config file that was read, or null when none was. */
  readonly configPath: string | null
  /** The server to talk to. */
  readonly serverAddress: NetworkAddress
  /** Wait for each reply line or message, in milliseconds. */
  readonly timeoutMs: number
  /** Root logger level. */
  readonly logLevel: LogLevel
  /** Problems that did not stop the command; the caller logs each one at `warn`. */
  readonly warnings: readonly string[]
}
