/**
 * Where `prserv export`, `import` and `migrate` find PR rows: a running server (over the
 * wire) or a database opened directly, and how these tools open a database.
 */
import type { StorageConfig } from '../config/config.js'
import { failFor, parseStorage } from '../config/config-values.js'
import { parseConnectAddress } from '../config/network-address.js'
import { redactUrl } from '../config/redact-config.js'
import { ConfigError } from '../protocol/errors.js'
import type { PrStore } from '../services/prserv/pr-store.js'
import { openPostgresPrStore } from '../storage/postgres/postgres-pr-store.js'
import { openSqlitePrStore } from '../storage/sqlite/sqlite-pr-store.js'

/** PostgreSQL connections a tool opens (one import or export at a time). */
export const TOOL_POSTGRES_CONNECTIONS = 2
/** Deadline of one PostgreSQL call of a tool: a whole-table export may take a while. */
export const TOOL_OPERATION_TIMEOUT_MS = 300_000

/** A running server (its address in BitBake syntax) or a database. */
export type DataTarget =
  | { readonly kind: 'server'; readonly address: string }
  | { readonly kind: 'database'; readonly storage: StorageConfig }

/** The `--server` / `--database` flags of a tool command, as commander gives them. */
export interface DataTargetFlags {
  readonly server?: unknown
  readonly database?: unknown
}

/** Exactly one of `--server ADDR` and `--database PATH|URL`; a ConfigError otherwise. */
export function parseDataTarget(flags: DataTargetFlags, cwd: string): DataTarget {
  const { server, database } = flags
  if ((server === undefined) === (database === undefined)) {
    throw new ConfigError('give exactly one of --server ADDR and --database PATH|URL')
  }
  if (server !== undefined) {
    const fail = failFor('server address', { raw: server, source: '--server' })
    return { kind: 'server', address: parseConnectAddress(server, cwd, fail).text }
  }
  return { kind: 'database', storage: parseDatabaseFlag(database, '--database', cwd) }
}

/** A database flag (`--database`, `--from`, `--to`): a SQLite path or a PostgreSQL URL. */
export function parseDatabaseFlag(raw: unknown, flag: string, cwd: string): StorageConfig {
  return parseStorage(raw, cwd, failFor('database', { raw, source: flag }))
}

/** The database for messages: the SQLite path, or the URL with its password hidden. */
export function describeStorage(storage: StorageConfig): string {
  return storage.kind === 'sqlite' ? storage.path : redactUrl(storage.url)
}

/** Whether two configs name the same database (same file, or same URL). */
export function isSameStorage(a: StorageConfig, b: StorageConfig): boolean {
  if (a.kind === 'sqlite' && b.kind === 'sqlite') return a.path === b.path && a.path !== ':memory:'
  if (a.kind === 'postgres' && b.kind === 'postgres') return a.url === b.url
  return false
}

/**
 * Opens a store for a tool, logging nothing. Read-only stores never write (a SQLite file is
 * opened with a plain read-only connection, whatever its journal mode); read-write stores
 * create the file or apply the PostgreSQL migrations as the server would.
 */
export async function openToolStore(storage: StorageConfig, isReadOnly: boolean): Promise<PrStore> {
  switch (storage.kind) {
    case 'sqlite':
      return openSqlitePrStore({ path: storage.path, readOnly: isReadOnly })
    case 'postgres':
      return openPostgresPrStore({
        url: storage.url,
        readOnly: isReadOnly,
        maxConnections: TOOL_POSTGRES_CONNECTIONS,
        operationTimeoutMs: TOOL_OPERATION_TIMEOUT_MS,
        applicationName: 'prserv-tool',
      })
    default:
      throw new TypeError(`unknown storage ${JSON.stringify(storage satisfies never)}`)
  }
}
