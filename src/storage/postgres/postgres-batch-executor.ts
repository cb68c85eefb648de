/**
 * Running one allocation batch: in one transaction, lock the batch's packages and read the
 * state they need (one round trip), decide every operation in arrival order
 * (postgres-batch-plan.ts), then insert the new rows and commit (one round trip). Answers are
 * given only after the commit.
 */
import { StorageError } from '../../protocol/errors.js'
import type { BatchEntry } from './postgres-batcher.js'
import type {
  AllocationOutput,
  OpPlan,
  PackageGroup,
  StateIndex,
  StateLookup,
  StateRow,
} from './postgres-batch-plan.js'
import { groupByPackage, indexState, PackageView, planOp } from './postgres-batch-plan.js'

/** A row to insert; `o` is its position in insertion order. */
export interface NewRow {
  readonly o: number
  readonly v: string
  readonly a: string
  readonly c: string
  readonly value: string
  readonly peer: string
}

/** The database side of a batch, as the store runs it. */
export interface AllocationStatements {
  /** The state for `lookups` (one row per lookup), read without locks in one snapshot. */
  readState(lookups: readonly StateLookup[]): Promise<readonly StateRow[]>
  /**
   * One transaction: locks the packages of `lookups` and reads their state, calls `decide`
   * synchronously with it, inserts the rows it returns and commits. Resolves after the
   * commit; rejects (nothing committed, or outcome unknown) otherwise.
   */
  writeLocked(
    lookups: readonly StateLookup[],
    decide: (state: readonly StateRow[]) => readonly NewRow[],
  ): Promise<void>
}

/** How one batch runs. */
export interface BatchRunOptions {
  /** Read-only stores decide on the database state alone and never write. */
  readonly isReadOnly: boolean
}

/** One package's decided operations: the answers to give once its rows are committed. */
interface PackagePlan {
  readonly answers: readonly { entry: BatchEntry; output: AllocationOutput }[]
  readonly values: readonly { entry: BatchEntry; value: string }[]
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
  const lookups = groups.flatMap((group) => group.lookups)
  if (options.isReadOnly) {
    const state = indexState(await statements.readState(lookups))
    for (const group of groups) answer(planPackage(group, live, state, false))
    return
  }
  let plans: PackagePlan[] = []
  await statements.writeLocked(lookups, (rows) => {
    const state = indexState(rows)
    plans = groups.map((group) => planPackage(group, live, state, true))
    return toNewRows(plans)
  })
  for (const plan of plans) answer(plan)
}

function planPackage(
  group: PackageGroup,
  entries: readonly BatchEntry[],
  state: StateIndex,
  isRecording: boolean,
): PackagePlan {
  const view = new PackageView(group, state, isRecording)
  const answers: { entry: BatchEntry; output: AllocationOutput }[] = []
  const values: { entry: BatchEntry; value: string }[] = []
  for (const index of group.opIndexes) {
    const entry = entries[index]
    if (entry === undefined) continue
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
  return { answers, values }
}

function toNewRows(plans: readonly PackagePlan[]): NewRow[] {
  return plans
    .flatMap((plan) => plan.values)
    .map(({ entry, value }, o) => {
      const { version, pkgarch, checksum } = entry.op.key
      return { o, v: version, a: pkgarch, c: checksum, value, peer: entry.peer }
    })
}

function answer(plan: PackagePlan): void {
  for (const { entry, output } of plan.answers) entry.settle(output)
}
