/**
 * How every store decides an allocating operation from reads of one package: the shared
 * mapping of store operations onto the rules of allocation.ts, so that SQLite and PostgreSQL
 * differ only in how they read and write rows.
 */
import { decideLocalValue, decideReconciledValue, decideSubValue } from './allocation.js'
import type { PrKey, ReconcileResult, UpstreamView } from './pr-store.js'

/** The reads of one package an allocation decision needs (non-revision values ignored). */
export interface PackageReads {
  /** The package's largest revision, or null. */
  packageMax(): string | null
  /** The checksum's smallest (history) or largest revision, or null. */
  checksumValue(checksum: string, history: boolean): string | null
  /** The package's largest revision strictly under `base` (`base.N…`), or null. */
  maxUnderBase(base: string): string | null
}

/** An operation that may allocate a value for its key (the PrStore methods of that kind). */
export type AllocationRequest =
  | { readonly kind: 'get-pr'; readonly key: PrKey; readonly history: boolean }
  | { readonly kind: 'reconcile'; readonly key: PrKey; readonly upstream: UpstreamView }
  | {
      readonly kind: 'adopt'
      readonly key: PrKey
      readonly value: string
      readonly history: boolean
    }
  | {
      readonly kind: 'sub-value'
      readonly key: PrKey
      readonly base: string
      readonly history: boolean
    }

/** A decided answer and the value to store for the key (null: store nothing). */
export interface AllocationPlan {
  readonly output: string | ReconcileResult
  readonly valueToStore: string | null
}

/** Decides `request` from `reads` (prserv.md §4.1, §5.1). Pure apart from the reads. */
export function planAllocation(reads: PackageReads, request: AllocationRequest): AllocationPlan {
  const { checksum } = request.key
  switch (request.kind) {
    case 'get-pr': {
      const current = reads.checksumValue(checksum, request.history)
      const decision = decideLocalValue(reads.packageMax(), current, request.history)
      return { output: decision.value, valueToStore: decision.isNew ? decision.value : null }
    }
    case 'reconcile': {
      const checksumMax = reads.checksumValue(checksum, false)
      if (checksumMax === null) return { output: { kind: 'unknown' }, valueToStore: null }
      // The checksum's value belongs to the package, so the package maximum exists.
      const packageMax = reads.packageMax() ?? checksumMax
      const result = decideReconciledValue(checksumMax, packageMax, request.upstream)
      const isChanged = result.kind === 'value' && result.value !== checksumMax
      return { output: result, valueToStore: isChanged ? result.value : null }
    }
    case 'adopt':
      return planUnlessKnown(reads, checksum, request.history, () => request.value)
    case 'sub-value':
      return planUnlessKnown(reads, checksum, request.history, () =>
        decideSubValue(request.base, reads.maxUnderBase(request.base)),
      )
    default: {
      const unexpected: never = request
      throw new TypeError(`unknown allocation request ${JSON.stringify(unexpected)}`)
    }
  }
}

/** The checksum's existing value when it has one, else `decide()` stored as a new row. */
function planUnlessKnown(
  reads: PackageReads,
  checksum: string,
  history: boolean,
  decide: () => string,
): AllocationPlan {
  const existing = reads.checksumValue(checksum, history)
  if (existing !== null) return { output: existing, valueToStore: null }
  const value = decide()
  return { output: value, valueToStore: value }
}
