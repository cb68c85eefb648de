/**
 * The store's possibly-writing operations as data, and how each is decided from reads. The
 * same `planWriteOp` runs twice: on the main thread's read snapshot (when it decides that
 * nothing must be stored, that answer is final) and again inside the writer's transaction,
 * which is the decision that counts when a row is stored.
 */
import { planAllocation } from '../../services/prserv/allocation-plan.js'
import type { PackageReads } from '../../services/prserv/allocation-plan.js'
import type {
  AuditedPrRow,
  ImportRowsResult,
  PackageKey,
  PrKey,
  ReconcileResult,
  UpstreamView,
  WriteOrigin,
} from '../../services/prserv/pr-store.js'

/** The reads allocation decisions need (revision maxima ignore non-revision values). */
export interface PrReader {
  /** The package's largest revision, or null. */
  packageMax(pkg: PackageKey): string | null
  /** The checksum's smallest (history) or largest revision, or null. */
  checksumValue(key: PrKey, history: boolean): string | null
  /** The largest revision strictly under `base` (`base.N…`), or null. */
  maxUnderBase(pkg: PackageKey, base: string): string | null
  /** Whether the exact row exists. */
  hasRow(key: PrKey, value: string): boolean
}

/** An operation about one key, decided by `planWriteOp`. */
export type KeyedWriteOp =
  | {
      readonly kind: 'get-pr'
      readonly key: PrKey
      readonly history: boolean
      readonly origin: WriteOrigin
    }
  | {
      readonly kind: 'import'
      readonly key: PrKey
      readonly value: string
      readonly origin: WriteOrigin
    }
  | {
      readonly kind: 'reconcile'
      readonly key: PrKey
      readonly upstream: UpstreamView
      readonly origin: WriteOrigin
    }
  | {
      readonly kind: 'adopt'
      readonly key: PrKey
      readonly value: string
      readonly history: boolean
      readonly origin: WriteOrigin
    }
  | {
      readonly kind: 'sub-value'
      readonly key: PrKey
      readonly base: string
      readonly history: boolean
      readonly origin: WriteOrigin
    }

/** Bulk import of rows verbatim (`PrStore.importRows`); the writer applies it row by row. */
export interface ImportRowsOp {
  readonly kind: 'import-rows'
  readonly rows: readonly AuditedPrRow[]
}

/** One operation that may store rows; run in order inside one writer transaction. */
export type WriteOp = KeyedWriteOp | ImportRowsOp

/**
 * What an operation answers: a revision, a reconcile outcome, nothing (import), or the
 * counts of a bulk import.
 */
export type WriteOpOutput = string | ReconcileResult | ImportRowsResult | null

/** An operation's answer and the value to store for its key (null: store nothing). */
export interface WritePlan {
  readonly output: WriteOpOutput
  readonly valueToStore: string | null
}

/** Decides `op` from `reader`'s view. Pure apart from the reads. */
export function planWriteOp(reader: PrReader, op: KeyedWriteOp): WritePlan {
  if (op.kind === 'import') {
    return { output: null, valueToStore: reader.hasRow(op.key, op.value) ? null : op.value }
  }
  return planAllocation(readsOfPackage(reader, op.key), op)
}

/** `reader` seen through one package, as the shared planner reads it. */
function readsOfPackage(reader: PrReader, pkg: PackageKey): PackageReads {
  return {
    packageMax: () => reader.packageMax(pkg),
    checksumValue: (checksum, history) => reader.checksumValue({ ...pkg, checksum }, history),
    maxUnderBase: (base) => reader.maxUnderBase(pkg, base),
  }
}

/**
 * Identifies operations that must get one answer when pending at the same time (same kind,
 * key and arguments; the origin does not matter). Joining them is a valid linearisation:
 * none of them has been answered yet. Null for a bulk import, which is never joined: its
 * counts belong to the one call that made it.
 */
export function writeOpIdentity(op: WriteOp): string | null {
  if (op.kind === 'import-rows') return null
  const { version, pkgarch, checksum } = op.key
  return JSON.stringify([op.kind, version, pkgarch, checksum, writeOpArguments(op)])
}

function writeOpArguments(op: KeyedWriteOp): unknown {
  switch (op.kind) {
    case 'get-pr':
      return op.history
    case 'import':
      return op.value
    case 'reconcile':
      return [op.upstream.max, op.upstream.hasChecksum ?? null]
    case 'adopt':
      return [op.value, op.history]
    case 'sub-value':
      return [op.base, op.history]
    default: {
      const unexpected: never = op
      throw new TypeError(`unknown write op ${JSON.stringify(unexpected)}`)
    }
  }
}
