/**
 * The PR service: BitBake's revision rules (prserv.md §4, §5) over a PrStore and an optional
 * upstream. It knows nothing of sockets or wire formats.
 */
import type {
  AuditedPrRow,
  ExportFilter,
  ExportPage,
  PackageKey,
  PrKey,
  PrStore,
  UpstreamView,
  WriteOrigin,
} from './pr-store.js'
import type { PrUpstream } from './pr-upstream.js'

/** Dependencies and settings of a PrService. */
export interface PrServiceOptions {
  readonly store: PrStore
  /** The upstream server, or null for a standalone server. */
  readonly upstream: PrUpstream | null
  /** History mode for requests that do not say (clients before BitBake 2.10). */
  readonly defaultHistory: boolean
}

/** How many times a reconcile may ask for upstream facts before giving up (never in practice). */
const MAX_RECONCILE_ROUNDS = 3

/** The PR service's operations, one per wire command. */
export class PrService {
  readonly #store: PrStore
  readonly #upstream: PrUpstream | null
  readonly defaultHistory: boolean

  constructor(options: PrServiceOptions) {
    this.#store = options.store
    this.#upstream = options.upstream
    this.defaultHistory = options.defaultHistory
  }

  /** Whether the server refuses to store anything. */
  get isReadOnly(): boolean {
    return this.#store.isReadOnly
  }

  /** `get-pr`: the revision for a build, allocated and stored when new. */
  getPr(key: PrKey, history: boolean, origin: WriteOrigin): Promise<string> {
    // Not async: the store's promise is returned as it is (the path of every lookup).
    if (this.#upstream === null) return this.#store.getPr(key, history, origin)
    return this.#getPrWithUpstream(this.#upstream, key, history, origin)
  }

  /** `test-pr`: the checksum's smallest (history) or largest value, or null. Local only. */
  async testPr(key: PrKey, history: boolean): Promise<string | null> {
    return this.#store.testPr(key, history)
  }

  /** `test-package`: whether the package has any value. Local only. */
  async testPackage(pkg: PackageKey): Promise<boolean> {
    return this.#store.testPackage(pkg)
  }

  /** `max-package-pr`: the package's largest revision, or null. Local only. */
  async maxPackagePr(pkg: PackageKey): Promise<string | null> {
    return this.#store.maxPackagePr(pkg)
  }

  /** `import-one`: stores a row verbatim. Returns false (nothing stored) when read-only. */
  async importOne(key: PrKey, value: string, origin: WriteOrigin): Promise<boolean> {
    if (this.#store.isReadOnly) return false
    await this.#store.importOne(key, value, origin)
    return true
  }

  /**
   * `export`: rows matching the filter (all, or each package's maximum). Like BitBake's server
   * (whose SQLite query then walks the primary key), a filtered export is in key order; an
   * unfiltered one in insertion order.
   */
  async exportRows(filter: ExportFilter): Promise<readonly AuditedPrRow[]> {
    const rows = await this.#store.exportRows(filter)
    const isFiltered =
      filter.version !== null || filter.pkgarch !== null || filter.checksum !== null
    return isFiltered ? [...rows].sort(compareByPrimaryKey) : rows
  }

  /** `export` with our paging extension: every row in insertion order, a page at a time. */
  async exportPage(after: number, limit: number): Promise<ExportPage> {
    return this.#store.exportPage(after, limit)
  }

  /** An unfiltered `export` without history, a page at a time (PrStore.exportMaximaPage). */
  async exportMaximaPage(after: number, limit: number): Promise<ExportPage> {
    return this.#store.exportMaximaPage(after, limit)
  }

  /** Upstream chaining (prserv.md §5.1), with BitBake's defects fixed (docs/compat.md). */
  async #getPrWithUpstream(
    upstream: PrUpstream,
    key: PrKey,
    history: boolean,
    origin: WriteOrigin,
  ): Promise<string> {
    const known = await this.#store.testPr(key, history)
    // A known checksum in history mode keeps its value; the upstream cannot change that.
    if (known !== null && history) return known
    const upstreamMax = await upstream.maxPackagePr(key)
    if (known !== null) {
      const value = await this.#reconcile(upstream, key, { max: upstreamMax }, origin)
      if (value !== null) return value
    }
    // The upstream does not know the package: number it locally.
    if (upstreamMax === null) return this.#store.getPr(key, history, origin)
    const upstreamValue = await upstream.testPr(key)
    if (upstreamValue !== null) {
      return this.#store.adoptValue(key, upstreamValue, history, origin)
    }
    return this.#store.allocateSubValue(key, upstreamMax, history, origin)
  }

  /** Runs the atomic reconcile, asking the upstream about the checksum only when needed. */
  async #reconcile(
    upstream: PrUpstream,
    key: PrKey,
    initialView: UpstreamView,
    origin: WriteOrigin,
  ): Promise<string | null> {
    let view = initialView
    for (let round = 0; round < MAX_RECONCILE_ROUNDS; round += 1) {
      const result = await this.#store.reconcileKnownChecksum(key, view, origin)
      switch (result.kind) {
        case 'value':
          return result.value
        case 'unknown':
          return null
        case 'needs-upstream-checksum':
          view = { max: view.max, hasChecksum: (await upstream.testPr(key)) !== null }
          break
        default:
          return assertNever(result)
      }
    }
    throw new Error('reconcile did not settle')
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`)
}

function compareText(a: string | null, b: string | null): number {
  if (a === b) return 0
  if (a === null) return -1
  if (b === null) return 1
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/** BitBake's PRMAIN primary-key order: version, pkgarch, checksum, value, as bytes. */
function compareByPrimaryKey(a: AuditedPrRow, b: AuditedPrRow): number {
  return (
    compareText(a.version, b.version) ||
    compareText(a.pkgarch, b.pkgarch) ||
    compareText(a.checksum, b.checksum) ||
    compareText(a.value, b.value)
  )
}
