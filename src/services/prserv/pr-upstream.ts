/**
 * What the PR service needs from an upstream PR server (prserv.md §5). The client layer
 * implements it over the wire; the service never sees a socket.
 */
import type { PackageKey, PrKey } from './pr-store.js'

/** An upstream PR server. Methods throw UpstreamError when it cannot be reached. */
export interface PrUpstream {
  /** The upstream's `max-package-pr`: its largest revision of the package, or null. */
  maxPackagePr(pkg: PackageKey): Promise<string | null>
  /** The upstream's `test-pr` with `history: false`: the checksum's value there, or null. */
  testPr(key: PrKey): Promise<string | null>
  /** Releases connections. Idempotent. */
  close(): Promise<void>
}
