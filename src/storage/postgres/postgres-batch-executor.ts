/**
 * Running one allocation batch: read the state the batch needs (one statement, no lock),
 * decide every operation (postgres-batch-plan.ts), then write with one guarded statement that
 * locks the packages, checks that their state is still the one decided on, and inserts. A
 * package whose state changed meanwhile (another replica wrote to it) is decided again on the
 * fresh state that statement returns, and retried.
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

/** A row to insert: `o` orders the rows (insertion order), `p` names its package group. */
export interface NewRow {
  readonly o: number
  readonly p: number
  readonly v: string
  readonly a: string
  readonly c: string
  readonly value: string
  readonly peer: string
}

/** The two statements of a batch, as the store runs them. */
export interface AllocationStatements {
  /** prserv_read_state: one row per lookup. */
  readState(lookups: readonly StateLookup[]): Promise<readonly StateRow[]>
  /**
   * prserv_apply: inserts the rows of every package whose state equals `expected`, commits,
   * and returns the fresh state rows of the other ("stale") packages.
   */
  apply(
    lookups: readonly StateLookup[],
    expected: readonly StateRow[],
    rows: readonly NewRow[],
  ): Promise<readonly StateRow[]>
}

/** How one batch runs. */
export interface BatchRunOptions {
  /** Read-only stores decide on the database state alone and never write. */
  readonly isReadOnly: boolean
  /** Guarded writes per package before giving up ("database busy"). */
  readonly maxWriteAttempts: number
}

/** One package's decided operations: answers to give and rows to store first. */
interface PackagePlan {
  readonly group: PackageGroup
  readonly answers: readonly { entry: BatchEntry; output: AllocationOutput }[]
  readonly rows: readonly Omit<NewRow, 'o'>[]
}

/**
 * Runs one batch to completion: every entry answered is settled after its rows committed (or
 * at once when it stores nothing). Throws on a database failure; the caller fails the entries
 * left unsettled.
 */
export async function runAllocationBatch(
  entries: readonly BatchEntry[],
  statements: AllocationStatements,
  options: BatchRunOptions,
): Promise<void> {
  const live = entries.filter((entry) => !entry.isSettled)
  if (live.length === 0) return
  let pending = groupByPackage(live.map((entry) => entry.op))
  let state: StateIndex = indexState(await statements.readState(pending.flatMap((g) => g.lookups)))
  for (let attempt = 1; ; attempt++) {
    const plans = pending.map((group) => planPackage(group, live, state, options.isReadOnly))
    const writes = plans.filter((plan) => plan.rows.length > 0 && !options.isReadOnly)
    for (const plan of plans) if (!writes.includes(plan)) answer(plan)
    if (writes.length === 0) return
    const stale = await statements.apply(
      writes.flatMap((plan) => plan.group.lookups),
      expectedRows(writes, state),
      numberRows(writes),
    )
    const stalePackages = new Set(stale.map((row) => row.p))
    for (const plan of writes) if (!stalePackages.has(plan.group.p)) answer(plan)
    if (stalePackages.size === 0) return
    if (attempt >= options.maxWriteAttempts) {
      throw new StorageError(`database busy: allocation state kept changing (${attempt} attempts)`)
    }
    state = new Map([...state, ...indexState(stale)])
    pending = writes.map((plan) => plan.group).filter((group) => stalePackages.has(group.p))
  }
}

function planPackage(
  group: PackageGroup,
  entries: readonly BatchEntry[],
  state: StateIndex,
  isReadOnly: boolean,
): PackagePlan {
  const view = new PackageView(group, state, !isReadOnly)
  const answers: { entry: BatchEntry; output: AllocationOutput }[] = []
  const rows: Omit<NewRow, 'o'>[] = []
  for (const index of group.opIndexes) {
    const entry = entries[index]
    if (entry === undefined) continue
    let plan: OpPlan
    try {
      plan = planOp(view, entry.op)
    } catch (error: unknown) {
      // A bad operation (the store validates inputs first, so a bug) fails alone.
      entry.fail(error instanceof Error ? error : new StorageError('allocation failed'))
      continue
    }
    answers.push({ entry, output: plan.output })
    if (plan.valueToStore === null) continue
    const { key } = entry.op
    rows.push({
      p: group.p,
      v: key.version,
      a: key.pkgarch,
      c: key.checksum,
      value: plan.valueToStore,
      peer: entry.peer,
    })
  }
  return { group, answers, rows }
}

function answer(plan: PackagePlan): void {
  for (const { entry, output } of plan.answers) entry.settle(output)
}

/** The state the plans were decided on, which the guarded write compares with. */
function expectedRows(plans: readonly PackagePlan[], state: StateIndex): StateRow[] {
  const rows: StateRow[] = []
  for (const { group } of plans) {
    for (const lookup of group.lookups) {
      const row = state.get(`${lookup.k}:${lookup.i}`)
      if (row !== undefined) rows.push(row)
    }
  }
  return rows
}

function numberRows(plans: readonly PackagePlan[]): NewRow[] {
  return plans.flatMap((plan) => plan.rows).map((row, o) => ({ ...row, o }))
}
