/**
 * The pure decisions of PR allocation (prserv.md §4.1 and §5.1), shared by every store so that
 * backends differ only in how they read and write rows, never in the rules.
 */
import { compareRevisions, increaseRevision } from './revision.js'
import type { ReconcileResult, UpstreamView } from './pr-store.js'

/** A decided value and whether it must be stored as a new row. */
export interface Decision {
  readonly value: string
  readonly isNew: boolean
}

/**
 * Local allocation (§4.1) with numeric comparison in step 6 (docs/compat.md): no-history
 * answers never go below the package maximum.
 */
export function decideLocalValue(
  packageMax: string | null,
  checksumValue: string | null,
  history: boolean,
): Decision {
  if (packageMax === null) return { value: '0', isNew: checksumValue === null }
  if (checksumValue === null) return { value: increaseRevision(packageMax), isNew: true }
  if (history) return { value: checksumValue, isNew: false }
  if (compareRevisions(packageMax, checksumValue) > 0) {
    return { value: increaseRevision(packageMax), isNew: true }
  }
  return { value: checksumValue, isNew: false }
}

/**
 * Upstream path for a checksum known locally, no history (§5.1). `checksumMax` is the
 * checksum's largest local value, `packageMax` the package's. A null upstream maximum (the
 * upstream does not know the package) is "no constraint" instead of BitBake's crash.
 */
export function decideReconciledValue(
  checksumMax: string,
  packageMax: string,
  upstream: UpstreamView,
): ReconcileResult & { readonly kind: 'value' | 'needs-upstream-checksum' } {
  let value = checksumMax
  if (compareRevisions(value, packageMax) < 0) value = increaseRevision(packageMax)
  if (upstream.max !== null && compareRevisions(value, upstream.max) < 0) {
    if (upstream.hasChecksum === undefined) return { kind: 'needs-upstream-checksum' }
    // No local value reaches the upstream maximum here, so `max.0` is free locally.
    value = upstream.hasChecksum ? upstream.max : `${upstream.max}.0`
  }
  return { kind: 'value', value }
}

/** `new_subvalue` (§5.1): max+1 of the values under `base`, or `base.0` when none. */
export function decideSubValue(base: string, maxUnderBase: string | null): string {
  return maxUnderBase === null ? `${base}.0` : increaseRevision(maxUnderBase)
}
