/**
 * The pure part of batched allocation: which reads a batch of operations needs (lookups), and
 * the decisions (allocation.ts) for each package's operations, in arrival order, on the state
 * those reads returned plus the rows decided earlier in the same batch.
 */
import { planAllocation } from '../../services/prserv/allocation-plan.js'
import type { AllocationRequest, PackageReads } from '../../services/prserv/allocation-plan.js'
import type { PackageKey, PrKey, ReconcileResult } from '../../services/prserv/pr-store.js'
import { compareRevisions, isRevision, revisionSortKey } from '../../services/prserv/revision.js'

/** Greater than every character of a sort key: bounds "keys starting with K" ranges. */
export const SORT_KEY_CEILING = '\u007f'

/** One operation that may store a row for its key: an allocation, or an import. */
export type AllocationOp =
  AllocationRequest | { readonly kind: 'import'; readonly key: PrKey; readonly value: string }

/** What an operation answers: a revision, a reconcile outcome, or nothing (import). */
export type AllocationOutput = string | ReconcileResult | null

/** An operation's answer and the value it stores for its key (null: nothing). */
export interface OpPlan {
  readonly output: AllocationOutput
  readonly valueToStore: string | null
}

/**
 * One read of prserv_state: `k` 'p' package maximum, 'c' checksum extremes, 's' maximum
 * strictly between the sort keys `b` and `h`. `i` numbers lookups of one kind, `p` packages.
 */
export interface StateLookup {
  readonly k: 'p' | 'c' | 's'
  readonly i: number
  readonly p: number
  readonly v: string
  readonly a: string
  readonly c?: string
  readonly b?: string
  readonly h?: string
}

/** One answer of prserv_state (or of prserv_apply_guarded, for a lookup that differs). */
export interface StateRow {
  readonly k: string
  readonly i: number
  readonly p: number
  readonly lo: string | null
  readonly hi: string | null
}

/** The operations of one package within a batch, with the lookups they need. */
export interface PackageGroup {
  readonly p: number
  /** `packageId` of the package. */
  readonly id: string
  readonly pkg: PackageKey
  /** Positions of this package's operations in the batch, in arrival order. */
  readonly opIndexes: readonly number[]
  readonly lookups: readonly StateLookup[]
  /** Lookup number (`i`) of each checksum's 'c' lookup and each base key's 's' lookup. */
  readonly checksumLookups: ReadonlyMap<string, number>
  readonly baseLookups: ReadonlyMap<string, number>
}

/** The sort key of `base`, which must be a revision (a RangeError otherwise). */
export function requireBaseKey(base: string): string {
  const key = revisionSortKey(base)
  if (key === null) throw new RangeError(`not a revision: ${JSON.stringify(base)}`)
  return key
}

/**
 * The identity of an operation: equal for operations that must get one answer when they run
 * concurrently (same kind, key and arguments; the peer does not count). Strings are written
 * with their lengths, so no two different operations share one.
 */
export function opIdentity(op: AllocationOp): string {
  const { version, pkgarch, checksum } = op.key
  const key = `${op.kind} ${field(version)}${field(pkgarch)}${field(checksum)}`
  switch (op.kind) {
    case 'get-pr':
      return `${key}${op.history ? 'h' : 'n'}`
    case 'import':
      return `${key}${field(op.value)}`
    case 'reconcile': {
      const { max, hasChecksum } = op.upstream
      const checksumFlag = hasChecksum === undefined ? 'u' : hasChecksum ? 'y' : 'n'
      return `${key}${max === null ? '-' : field(max)}${checksumFlag}`
    }
    case 'adopt':
      return `${key}${field(op.value)}${op.history ? 'h' : 'n'}`
    case 'sub-value':
      return `${key}${field(op.base)}${op.history ? 'h' : 'n'}`
    default: {
      const unexpected: never = op
      throw new TypeError(`unknown allocation op ${JSON.stringify(unexpected)}`)
    }
  }
}

/** A map key for a package (any strings, no separator ambiguity). */
export function packageId(pkg: PackageKey): string {
  return `${field(pkg.version)}${field(pkg.pkgarch)}`
}

/** `text` with its length in front: concatenations of such fields split only one way. */
function field(text: string): string {
  return `${text.length}:${text}`
}

/** Groups `ops` by package in order of first arrival and lists the lookups each group needs. */
export function groupByPackage(ops: readonly AllocationOp[]): PackageGroup[] {
  const builders = new Map<string, GroupBuilder>()
  const counters = { c: 0, s: 0 }
  ops.forEach((op, index) => {
    const id = packageId(op.key)
    let builder = builders.get(id)
    if (builder === undefined) {
      builder = newGroupBuilder(builders.size, id, op.key)
      builders.set(id, builder)
    }
    builder.opIndexes.push(index)
    if (op.kind === 'import') return
    addLookup(builder, 'c', op.key.checksum, counters, { c: op.key.checksum })
    if (op.kind !== 'sub-value') return
    const low = requireBaseKey(op.base)
    addLookup(builder, 's', low, counters, { b: low, h: low + SORT_KEY_CEILING })
  })
  return [...builders.values()]
}

interface GroupBuilder {
  p: number
  id: string
  pkg: PackageKey
  opIndexes: number[]
  lookups: StateLookup[]
  checksumLookups: Map<string, number>
  baseLookups: Map<string, number>
}

function newGroupBuilder(p: number, id: string, key: PrKey): GroupBuilder {
  const pkg = { version: key.version, pkgarch: key.pkgarch }
  const lookups: StateLookup[] = [{ k: 'p', i: p, p, v: pkg.version, a: pkg.pkgarch }]
  const maps = { checksumLookups: new Map(), baseLookups: new Map() }
  return { p, id, pkg, opIndexes: [], lookups, ...maps }
}

function addLookup(
  builder: GroupBuilder,
  k: 'c' | 's',
  name: string,
  counters: { c: number; s: number },
  fields: { c: string } | { b: string; h: string },
): void {
  const known = k === 'c' ? builder.checksumLookups : builder.baseLookups
  if (known.has(name)) return
  const i = counters[k]++
  known.set(name, i)
  const { p, pkg } = builder
  builder.lookups.push({ k, i, p, v: pkg.version, a: pkg.pkgarch, ...fields })
}

/** State rows by lookup identity. */
export type StateIndex = ReadonlyMap<string, StateRow>

/** Indexes state rows by (k, i). */
export function indexState(rows: readonly StateRow[]): Map<string, StateRow> {
  return withStateRows(new Map(), rows)
}

/** `state` with `rows` in place of its rows of the same lookups (a copy). */
export function withStateRows(state: StateIndex, rows: readonly StateRow[]): Map<string, StateRow> {
  const index = new Map(state)
  for (const row of rows) index.set(`${row.k}:${row.i}`, row)
  return index
}

/**
 * One package's revisions as allocation sees them: the database state read for the batch,
 * updated by every value recorded since (unless `isRecording` is false: read-only stores, where
 * every operation sees the database state alone).
 */
export class PackageView implements PackageReads {
  #max: string | null
  readonly #checksums = new Map<string, { lo: string | null; hi: string | null }>()
  readonly #bases = new Map<string, string | null>()
  readonly #isRecording: boolean

  constructor(group: PackageGroup, state: StateIndex, isRecording: boolean) {
    this.#isRecording = isRecording
    this.#max = state.get(`p:${group.p}`)?.hi ?? null
    for (const [checksum, i] of group.checksumLookups) {
      const row = state.get(`c:${i}`)
      this.#checksums.set(checksum, { lo: row?.lo ?? null, hi: row?.hi ?? null })
    }
    for (const [baseKey, i] of group.baseLookups) {
      this.#bases.set(baseKey, state.get(`s:${i}`)?.hi ?? null)
    }
  }

  packageMax(): string | null {
    return this.#max
  }

  /** The checksum's smallest (history) or largest revision, or null. */
  checksumValue(checksum: string, history: boolean): string | null {
    const extremes = this.#checksums.get(checksum)
    return (history ? extremes?.lo : extremes?.hi) ?? null
  }

  /** The largest revision under `base` (`base.N…`), or null. */
  maxUnderBase(base: string): string | null {
    return this.#bases.get(requireBaseKey(base)) ?? null
  }

  /** Accounts for a stored row. Ties keep the earlier value, as the database does. */
  record(checksum: string, value: string): void {
    if (!this.#isRecording || !isRevision(value)) return
    if (this.#max === null || compareRevisions(value, this.#max) > 0) this.#max = value
    const extremes = this.#checksums.get(checksum)
    if (extremes !== undefined) {
      if (extremes.lo === null || compareRevisions(value, extremes.lo) < 0) extremes.lo = value
      if (extremes.hi === null || compareRevisions(value, extremes.hi) > 0) extremes.hi = value
    }
    const key = revisionSortKey(value) ?? ''
    for (const [baseKey, current] of this.#bases) {
      const isUnder = key.length > baseKey.length && key.startsWith(baseKey)
      if (isUnder && (current === null || compareRevisions(value, current) > 0)) {
        this.#bases.set(baseKey, value)
      }
    }
  }
}

/** Decides `op` on `view` (prserv.md §4.1, §5.1 through allocation.ts) and records its row. */
export function planOp(view: PackageView, op: AllocationOp): OpPlan {
  const plan = decideOp(view, op)
  if (plan.valueToStore !== null) view.record(op.key.checksum, plan.valueToStore)
  return plan
}

function decideOp(view: PackageView, op: AllocationOp): OpPlan {
  // Stored unless the identical row exists (the INSERT skips it then).
  if (op.kind === 'import') return { output: null, valueToStore: op.value }
  return planAllocation(view, op)
}
