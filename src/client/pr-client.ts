/**
 * A typed PR-service client over the RPC client: one method per wire command, replies
 * validated. Used by the CLI client and by upstream chaining.
 */
import type { ExportFilter, PackageKey, PrKey } from '../services/prserv/pr-store.js'
import { connectRpcClient } from './rpc-client.js'
import type { RpcClient } from './rpc-client.js'
import { ProtocolError } from '../protocol/errors.js'
import type { Logger } from '../observability/logger.js'

/** Connection settings of a PR client. */
export interface PrClientOptions {
  /** Server address in BitBake syntax (`host:port`, `[v6]:port`, `unix://path`, `ws://…`). */
  readonly address: string
  /** Timeout for each reply, in milliseconds (BitBake uses 30000). */
  readonly timeoutMs?: number
  /** Timeout for opening the connection, in milliseconds. */
  readonly connectTimeoutMs?: number
  /** Attempts per request on connection errors (BitBake makes 4). */
  readonly maxAttempts?: number
  /** Largest accepted reply, in bytes (default: the server's default message cap). */
  readonly maxMessageBytes?: number
  /** Receives a warning for every failed attempt that is retried. */
  readonly logger?: Logger
}

/** One row of an `export` reply. */
export interface ExportedRow {
  readonly version: string
  readonly pkgarch: string
  readonly checksum: string
  readonly value: string | null
  readonly created?: string | null
  readonly peer?: string | null
}

/** An `export` reply. */
export interface ExportReply {
  readonly metainfo: unknown
  readonly datainfo: readonly ExportedRow[]
  /**
   * A paged reply (our servers, when `limit` was sent): the position of its last row, to send
   * as `after` for the next page. Absent when the server sent every row at once.
   */
  readonly last?: number
}

/**
 * `export` request: filters plus BitBake's `colinfo`, and our extensions: `audit`, and paging
 * (`limit` rows above position `after`; history and no filter only). Other servers ignore
 * them.
 */
export interface ExportRequest extends ExportFilter {
  readonly colinfo: boolean
  readonly audit?: boolean
  readonly after?: number
  readonly limit?: number
}

function badReply(command: string, reply: unknown): ProtocolError {
  return new ProtocolError(`unexpected ${command} reply: ${JSON.stringify(reply).slice(0, 200)}`)
}

function readValue(command: string, reply: unknown): unknown {
  if (typeof reply !== 'object' || reply === null || !('value' in reply)) {
    throw badReply(command, reply)
  }
  return reply.value
}

function readRevision(command: string, reply: unknown): string | null {
  const value = readValue(command, reply)
  if (value === null || typeof value === 'string') return value
  // Servers of BitBake 2.0 and the Rust seeds answer integers.
  if (typeof value === 'number' && Number.isSafeInteger(value)) return `${value}`
  throw badReply(command, reply)
}

function readRows(reply: unknown): ExportReply {
  if (typeof reply !== 'object' || reply === null || !('datainfo' in reply)) {
    throw badReply('export', reply)
  }
  const metainfo = 'metainfo' in reply ? reply.metainfo : null
  const rows = reply.datainfo
  if (!Array.isArray(rows)) throw badReply('export', reply)
  const datainfo: ExportedRow[] = rows.map((row: unknown) => {
    if (typeof row !== 'object' || row === null) throw badReply('export', reply)
    const r: Partial<Record<string, unknown>> = { ...row }
    const text = (v: unknown): string => (typeof v === 'string' ? v : String(v))
    const optional = (v: unknown): string | null => (v === null || v === undefined ? null : text(v))
    return {
      version: text(r.version),
      pkgarch: text(r.pkgarch),
      checksum: text(r.checksum),
      value: optional(r.value),
      ...('created' in r ? { created: optional(r.created) } : {}),
      ...('peer' in r ? { peer: optional(r.peer) } : {}),
    }
  })
  if (!('last' in reply)) return { metainfo, datainfo }
  const { last } = reply
  if (typeof last !== 'number' || !Number.isSafeInteger(last)) throw badReply('export', reply)
  return { metainfo, datainfo, last }
}

/** A PR-service client. Requests on one client run one at a time, in order. */
export class PrClient {
  readonly #rpc: RpcClient

  constructor(options: PrClientOptions) {
    this.#rpc = connectRpcClient({
      address: options.address,
      protocolName: 'PRSERVICE',
      protocolVersion: '1.0',
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.connectTimeoutMs === undefined
        ? {}
        : { connectTimeoutMs: options.connectTimeoutMs }),
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      ...(options.maxMessageBytes === undefined
        ? {}
        : { maxMessageBytes: options.maxMessageBytes }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    })
  }

  async ping(): Promise<boolean> {
    const reply = await this.#rpc.call('ping', {})
    return typeof reply === 'object' && reply !== null && 'alive' in reply && reply.alive === true
  }

  async getPr(key: PrKey, history = false): Promise<string> {
    const value = readRevision('get-pr', await this.#rpc.call('get-pr', { ...key, history }))
    if (value === null) throw badReply('get-pr', value)
    return value
  }

  async testPr(key: PrKey, history = false): Promise<string | null> {
    return readRevision('test-pr', await this.#rpc.call('test-pr', { ...key, history }))
  }

  async testPackage(pkg: PackageKey): Promise<boolean> {
    const value = readValue('test-package', await this.#rpc.call('test-package', { ...pkg }))
    if (typeof value !== 'boolean') throw badReply('test-package', value)
    return value
  }

  async maxPackagePr(pkg: PackageKey): Promise<string | null> {
    return readRevision('max-package-pr', await this.#rpc.call('max-package-pr', { ...pkg }))
  }

  /** Returns the echoed value, or null when the server is read-only. */
  async importOne(key: PrKey, value: string | number): Promise<unknown> {
    const reply = await this.#rpc.call('import-one', { ...key, value })
    return reply === null ? null : readValue('import-one', reply)
  }

  async export(request: ExportRequest): Promise<ExportReply> {
    const body: Record<string, unknown> = {
      version: request.version,
      pkgarch: request.pkgarch,
      checksum: request.checksum,
      colinfo: request.colinfo,
      history: request.history,
    }
    if (request.audit === true) body.audit = true
    if (request.after !== undefined) body.after = request.after
    if (request.limit !== undefined) body.limit = request.limit
    return readRows(await this.#rpc.call('export', body))
  }

  async isReadOnly(): Promise<boolean> {
    const reply = await this.#rpc.call('is-readonly', {})
    if (typeof reply !== 'object' || reply === null || !('readonly' in reply)) {
      throw badReply('is-readonly', reply)
    }
    return reply.readonly === true
  }

  /** Closes the connection. Idempotent. */
  async close(): Promise<void> {
    await this.#rpc.close()
  }
}
