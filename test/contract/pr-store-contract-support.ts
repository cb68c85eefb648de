/** Shared fixtures of the PR store contract: keys, origin, and the §5.1 upstream driver. */
import { strict as assert } from 'node:assert'
import type {
  AuditedPrRow,
  PackageKey,
  PrKey,
  PrStore,
  WriteOrigin,
} from '../../src/services/prserv/pr-store.js'

/** The peer recorded for every write of the suite. */
export const ORIGIN: WriteOrigin = { peer: '192.0.2.7:40312' }

/** prserv.md §10 conventions. */
export const V = 'foo-1.0-r0'
export const P = 'core2-64'
export const PKG: PackageKey = { version: V, pkgarch: P }

/** A key of the §10 package (or of another package). */
export function prKey(checksum: string, version: string = V, pkgarch: string = P): PrKey {
  return { version, pkgarch, checksum }
}

/** Allocates `count` new checksums `<prefix>0…` in order and returns their values. */
export async function allocateInOrder(
  store: PrStore,
  prefix: string,
  count: number,
  pkg: PackageKey = PKG,
): Promise<string[]> {
  const values: string[] = []
  for (let index = 0; index < count; index += 1) {
    values.push(
      await store.getPr(prKey(`${prefix}${index}`, pkg.version, pkg.pkgarch), false, ORIGIN),
    )
  }
  return values
}

/** Every row, with history, no filter. */
export function exportAll(store: PrStore): Promise<readonly AuditedPrRow[]> {
  return store.exportRows({ version: null, pkgarch: null, checksum: null, history: true })
}

/** `checksum:value` of rows, sorted, for order-insensitive comparison. */
export function rowLabels(rows: readonly AuditedPrRow[]): string[] {
  return rows.map((row) => `${row.checksum}:${row.value ?? 'null'}`).sort()
}

/** `checksum:value` of rows in the order given. */
export function rowLabelsInOrder(rows: readonly AuditedPrRow[]): string[] {
  return rows.map((row) => `${row.checksum}:${row.value ?? 'null'}`)
}

/**
 * BitBake's get-pr with an upstream (prserv.md §5.1) written over the store methods the
 * service uses. The upstream's max-package-pr / test-pr / test-package are local answers of
 * its own store, so another store stands in for the upstream server.
 */
export async function getPrWithUpstream(
  local: PrStore,
  upstream: PrStore,
  key: PrKey,
  history: boolean,
): Promise<string> {
  const pkg = { version: key.version, pkgarch: key.pkgarch }
  const upstreamMax = await upstream.maxPackagePr(pkg)
  if ((await local.testPr(key, history)) !== null) {
    if (history) return local.getPr(key, true, ORIGIN)
    let result = await local.reconcileKnownChecksum(key, { max: upstreamMax }, ORIGIN)
    if (result.kind === 'needs-upstream-checksum') {
      const hasChecksum = (await upstream.testPr(key, false)) !== null
      result = await local.reconcileKnownChecksum(key, { max: upstreamMax, hasChecksum }, ORIGIN)
    }
    if (result.kind !== 'value') throw new Error(`reconcile answered ${result.kind} twice`)
    return result.value
  }
  if (!(await upstream.testPackage(pkg))) return local.getPr(key, history, ORIGIN)
  const upstreamValue = await upstream.testPr(key, false)
  if (upstreamValue !== null) return local.adoptValue(key, upstreamValue, history, ORIGIN)
  const base = await upstream.maxPackagePr(pkg)
  assert.notEqual(base, null)
  return local.allocateSubValue(key, base ?? '0', history, ORIGIN)
}

/** A deterministic shuffle (LCG), so that failures reproduce. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const result = [...items]
  let state = seed
  for (let index = result.length - 1; index > 0; index -= 1) {
    state = (state * 1103515245 + 12345) % 2147483648
    const other = state % (index + 1)
    const current = result[index]
    const swapped = result[other]
    if (current === undefined || swapped === undefined) continue
    result[index] = swapped
    result[other] = current
  }
  return result
}
