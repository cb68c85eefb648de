/**
 * Running one allocation batch. Answers are given only once the rows they stand on are
 * committed (or, for operations that store nothing, once the state was read under the package
 * locks after the operations arrived).
 *
 * First, optimistically, in one statement (prserv_apply_guarded): every package's operations
 * are decided in arrival order (postgres-batch-plan.ts) on a guess of its state (the maximum
 * this store last saw, no rows for the checksums); the database takes the package locks,
 * checks the guess, and inserts the rows of the packages it held for. For a package whose
 * state differed, the lookups that differ come back with their real state; it is decided
 * again and tried once more the same way. What is still
 * undecided then goes through the locked transaction: lock and read (one round trip), decide,
 * insert and commit (a second).
 */
import { StorageError } from '../../protocol/errors.js'
import type { BatchEntry } from './postgres-batcher.js'
import type {
  AllocationOutput,
  OpPlan,
  PackageGroup,
  StateIndex,
  StateRow,
} from './postgres-batch-plan.js'
import {
  groupByPackage,
  indexState,
  PackageView,
  planOp,
  withStateRows,
} from './postgres-batch-plan.js'
import { asError, isIsolationRefusal, isLockTimeout } from './postgres-errors.js'
import type { OptimisticAllocation } from './postgres-optimistic.js'

/**
 * A row to insert, for package `p` of the batch; rows are inserted in list order. `mayExist`:
 * the identical row may be stored already (an import or a reconciled value), so it is inserted
 * only if it is not; every other row holds a value above every revision of its checksum.
 */
export interface NewRow {
  readonly p: number
  readonly c: string
  readonly value: string
  readonly peer: string
  readonly mayExist: boolean
}

/** The database side of a batch, as the store runs it. */
export interface AllocationStatements {
  /** The state for the lookups of `groups` (one row each), read without locks in one snapshot. */
  readState(groups: readonly PackageGroup[]): Promise<readonly StateRow[]>
  /**
   * One autocommit statement: locks the packages of `groups`, and inserts the rows of each
   * package whose state is `expected` (a lookup missing there: no rows). Resolves after the
   * commit with the state of each lookup that differs from `expected`. A package with such a
   * lookup is stale: nothing of it was written, and its other lookups are as expected.
   */
  applyGuarded(
    groups: readonly PackageGroup[],
    expected: StateIndex,
    rows: readonly NewRow[],
  ): Promise<readonly StateRow[]>
  /**
   * One transaction: locks the packages of `groups` and reads their state, calls `decide`
   * synchronously with it, inserts the rows it returns and commits. Resolves after the
   * commit; rejects (nothing committed, or outcome unknown) otherwise.
   */
  writeLocked(
    groups: readonly PackageGroup[],
    decide: (state: readonly StateRow[]) => readonly NewRow[],
  ): Promise<void>
}

/** How one batch runs. */
export interface BatchRunOptions {
  /** Read-only stores decide on the database state alone and never write. */
  readonly isReadOnly: boolean
  /** The guesses for one-statement batches; null: every batch takes the locked transaction. */
  readonly optimistic: OptimisticAllocation | null
}

/** Optimistic statements per package before it takes the locked transaction. */
const OPTIMISTIC_ATTEMPTS = 2

/** One package's decided operations: the answers to give once its rows are committed. */
interface PackagePlan {
  readonly group: PackageGroup
  readonly answers: readonly { entry: BatchEntry; output: AllocationOutput }[]
  readonly values: readonly { entry: BatchEntry; value: string }[]
  /** The package maximum once its rows are stored. */
  readonly max: string | null
}

/**
 * Runs one batch: every entry is settled after its batch committed, or fails with the
 * rejection (the caller fails entries left unsettled).
 */
export async function runAllocationBatch(
  entries: readonly BatchEntry[],
  statements: AllocationStatements,
  options: BatchRunOptions,
): Promise<void> {
  const live = entries.filter((entry) => !entry.isSettled)
  if (live.length === 0) return
  const groups = groupByPackage(live.map((entry) => entry.op))
  try {
    await runGroups(groups, live, statements, options)
  } catch (error: unknown) {
    if (!isLockTimeout(error) || groups.length < 2) throw error
    // A package lock is held elsewhere and the failed statement wrote nothing: each package
    // again on its own (requests already answered are left out), so only the blocked fails.
    const perPackage = groups.map((group) => group.opIndexes.flatMap((index) => live[index] ?? []))
    await Promise.all(
      perPackage.map(async (packageEntries) => {
        try {
          await runAllocationBatch(packageEntries, statements, options)
        } catch (packageError: unknown) {
          const failure = asError(packageError, 'allocation failed')
          for (const entry of packageEntries) entry.fail(failure)
        }
      }),
    )
  }
}

/** Decides and writes `groups` (of `live`), optimistically when enabled. */
async function runGroups(
  groups: readonly PackageGroup[],
  live: readonly BatchEntry[],
  statements: AllocationStatements,
  options: BatchRunOptions,
): Promise<void> {
  if (options.isReadOnly) {
    const state = indexState(await statements.readState(groups))
    for (const group of groups) answer(planPackage(group, live, state, false), null)
    return
  }
  const { optimistic } = options
  const undecided =
    optimistic?.isEnabled === true
      ? await runOptimistic(groups, live, statements, optimistic)
      : groups
  if (undecided.length > 0) await runLocked(undecided, live, statements, optimistic)
}

/** The optimistic statements; resolves with the packages left to the locked transaction. */
async function runOptimistic(
  groups: readonly PackageGroup[],
  entries: readonly BatchEntry[],
  statements: AllocationStatements,
  optimistic: OptimisticAllocation,
): Promise<readonly PackageGroup[]> {
  let pending = groups
  let state = guessState(groups, optimistic)
  let isStateLocked = false
  for (let attempt = 0; ; attempt++) {
    const toWrite: PackagePlan[] = []
    for (const group of pending) {
      const plan = planPackage(group, entries, state)
      // Read under the locks after the operations arrived: what stores nothing is decided.
      if (isStateLocked && plan.values.length === 0) answer(plan, optimistic)
      else toWrite.push(plan)
    }
    if (toWrite.length === 0 || attempt === OPTIMISTIC_ATTEMPTS) {
      return toWrite.map((plan) => plan.group)
    }
    let differing: readonly StateRow[]
    try {
      const toWriteGroups = toWrite.map((plan) => plan.group)
      differing = await statements.applyGuarded(toWriteGroups, state, toNewRows(toWrite))
    } catch (error: unknown) {
      if (!isIsolationRefusal(error) || !(error instanceof Error)) throw error
      optimistic.disable(error)
      return toWrite.map((plan) => plan.group)
    }
    const stale = new Set(differing.map((row) => row.p))
    for (const plan of toWrite) if (!stale.has(plan.group.p)) answer(plan, optimistic)
    pending = toWrite.filter((plan) => stale.has(plan.group.p)).map((plan) => plan.group)
    // The state under the locks: as expected, but for the lookups that differ.
    state = withStateRows(state, differing)
    isStateLocked = true
  }
}

/** The locked transaction for `groups`: lock and read, decide, insert, commit. */
async function runLocked(
  groups: readonly PackageGroup[],
  entries: readonly BatchEntry[],
  statements: AllocationStatements,
  optimistic: OptimisticAllocation | null,
): Promise<void> {
  let plans: PackagePlan[] = []
  await statements.writeLocked(groups, (rows) => {
    const state = indexState(rows)
    plans = groups.map((group) => planPackage(group, entries, state))
    return toNewRows(plans)
  })
  for (const plan of plans) answer(plan, optimistic)
}

/** The guessed state: each package's remembered maximum; no rows for any checksum or base. */
function guessState(groups: readonly PackageGroup[], optimistic: OptimisticAllocation): StateIndex {
  const rows: StateRow[] = []
  for (const group of groups) {
    const max = optimistic.maxOf(group.id)
    if (max !== null) rows.push({ k: 'p', i: group.p, p: group.p, lo: null, hi: max })
  }
  return indexState(rows)
}

/** Decides a package's operations; `isRecording` false: each on the read state alone. */
function planPackage(
  group: PackageGroup,
  entries: readonly BatchEntry[],
  state: StateIndex,
  isRecording = true,
): PackagePlan {
  const view = new PackageView(group, state, isRecording)
  const answers: { entry: BatchEntry; output: AllocationOutput }[] = []
  const values: { entry: BatchEntry; value: string }[] = []
  for (const index of group.opIndexes) {
    const entry = entries[index]
    if (entry === undefined || entry.isSettled) continue
    let plan: OpPlan
    try {
      plan = planOp(view, entry.op)
    } catch (error: unknown) {
      // The store validates inputs before queueing, so this is a bug: it fails alone.
      entry.fail(error instanceof Error ? error : new StorageError('allocation failed'))
      continue
    }
    answers.push({ entry, output: plan.output })
    if (plan.valueToStore !== null) values.push({ entry, value: plan.valueToStore })
  }
  return { group, answers, values, max: view.packageMax() }
}

/** The rows to insert, in decision order; a repeat of an identical row is left out. */
function toNewRows(plans: readonly PackagePlan[]): NewRow[] {
  const rows: NewRow[] = []
  for (const plan of plans) {
    const seen = new Set<string>()
    for (const { entry, value } of plan.values) {
      const { kind, key } = entry.op
      const identity = `${key.checksum.length}:${key.checksum}${value}`
      if (seen.has(identity)) continue
      seen.add(identity)
      const mayExist = kind === 'import' || kind === 'reconcile'
      rows.push({ p: plan.group.p, c: key.checksum, value, peer: entry.peer, mayExist })
    }
  }
  return rows
}

/** Gives a decided package its answers, and remembers its maximum for the next guess. */
function answer(plan: PackagePlan, optimistic: OptimisticAllocation | null): void {
  for (const { entry, output } of plan.answers) entry.settle(output)
  optimistic?.remember(plan.group.id, plan.max)
}
