/**
 * A batch's packages, lookups, expected state and new rows as the array arguments of the
 * allocation functions (migration 4), and the functions' answers translated back: in the
 * arrays, packages and lookups are numbered by position, which differs from their numbers in
 * the batch when only some of its packages are sent.
 */
import type { NewRow } from './postgres-batch-executor.js'
import { revisionSortKey } from '../../services/prserv/revision.js'
import type { PackageGroup, StateIndex, StateRow } from './postgres-batch-plan.js'

/** Characters escaped with a backslash inside a quoted array element. */
const NEEDS_ESCAPE = /["\\]/
const NEEDS_ESCAPE_ALL = /["\\]/g

/** A PostgreSQL array literal of `values` (text, integers or booleans; null: NULL). */
export function toArrayLiteral(values: readonly (string | number | boolean | null)[]): string {
  let literal = '{'
  for (let index = 0; index < values.length; index++) {
    if (index > 0) literal += ','
    const value = values[index]
    if (value === null || value === undefined) literal += 'NULL'
    else if (typeof value === 'number') literal += String(value)
    else if (typeof value === 'boolean') literal += value ? 't' : 'f'
    else if (NEEDS_ESCAPE.test(value)) literal += `"${value.replace(NEEDS_ESCAPE_ALL, '\\$&')}"`
    else literal += `"${value}"`
  }
  return literal + '}'
}

/** `prserv_state`'s arguments: packages (v, a), checksum lookups (cp, c), bases (bp, low, high). */
export interface ReadArguments {
  readonly v: string
  readonly a: string
  readonly cp: string
  readonly c: string
  readonly bp: string
  readonly low: string
  readonly high: string
}

/** New rows as arguments: package position, checksum, value, peer, "may be stored already". */
export interface RowArguments {
  readonly p: string
  readonly c: string
  readonly value: string
  readonly peer: string
  readonly mayExist: string
}

/** The lookups of some packages of a batch, as arrays. */
export class LookupArrays {
  readonly #pkgV: string[] = []
  readonly #pkgA: string[] = []
  readonly #chkP: number[] = []
  readonly #chkC: string[] = []
  readonly #baseP: number[] = []
  readonly #baseLow: string[] = []
  readonly #baseHigh: string[] = []
  /** Batch numbers (`p`, `i`) by array position. */
  readonly #groupP: number[] = []
  readonly #checksumI: number[] = []
  readonly #baseI: number[] = []
  /** Array position by batch package number. */
  readonly #position = new Map<number, number>()

  constructor(groups: readonly PackageGroup[]) {
    for (const group of groups) {
      const position = this.#pkgV.length
      this.#position.set(group.p, position)
      this.#groupP.push(group.p)
      this.#pkgV.push(group.pkg.version)
      this.#pkgA.push(group.pkg.pkgarch)
      for (const lookup of group.lookups) {
        if (lookup.k === 'c') {
          this.#chkP.push(position)
          this.#chkC.push(lookup.c ?? '')
          this.#checksumI.push(lookup.i)
        } else if (lookup.k === 's') {
          this.#baseP.push(position)
          this.#baseLow.push(lookup.b ?? '')
          this.#baseHigh.push(lookup.h ?? '')
          this.#baseI.push(lookup.i)
        }
      }
    }
  }

  /** The reading arguments of `prserv_state`, as array literals. */
  readArguments(): ReadArguments {
    return {
      v: toArrayLiteral(this.#pkgV),
      a: toArrayLiteral(this.#pkgA),
      cp: toArrayLiteral(this.#chkP),
      c: toArrayLiteral(this.#chkC),
      bp: toArrayLiteral(this.#baseP),
      low: toArrayLiteral(this.#baseLow),
      high: toArrayLiteral(this.#baseHigh),
    }
  }

  /**
   * The expected state of every lookup (null where `state` has none), and the sort key of each
   * expected package maximum: the lower bound of the package read (migration 5).
   */
  expected(state: StateIndex): {
    pkgMax: string
    pkgFloor: string
    chkLo: string
    chkHi: string
    baseMax: string
  } {
    const of = (k: string, i: number): StateRow | undefined => state.get(`${k}:${i}`)
    const pkgMax = this.#groupP.map((p) => of('p', p)?.hi ?? null)
    return {
      pkgMax: toArrayLiteral(pkgMax),
      pkgFloor: toArrayLiteral(pkgMax.map((max) => (max === null ? null : revisionSortKey(max)))),
      chkLo: toArrayLiteral(this.#checksumI.map((i) => of('c', i)?.lo ?? null)),
      chkHi: toArrayLiteral(this.#checksumI.map((i) => of('c', i)?.hi ?? null)),
      baseMax: toArrayLiteral(this.#baseI.map((i) => of('s', i)?.hi ?? null)),
    }
  }

  /** New rows of these packages, in insertion order. */
  rowArguments(rows: readonly NewRow[]): RowArguments {
    return {
      p: toArrayLiteral(rows.map((row) => this.#positionOf(row.p))),
      c: toArrayLiteral(rows.map((row) => row.c)),
      value: toArrayLiteral(rows.map((row) => row.value)),
      peer: toArrayLiteral(rows.map((row) => row.peer)),
      mayExist: toArrayLiteral(rows.map((row) => row.mayExist)),
    }
  }

  /** An answer row of the functions, with the batch's numbers. */
  toBatchRow(row: StateRow): StateRow {
    const byPosition = row.k === 'p' ? this.#groupP : row.k === 'c' ? this.#checksumI : this.#baseI
    const i = byPosition[row.i]
    const p = this.#groupP[row.p]
    if (i === undefined || p === undefined) {
      throw new RangeError(`state row out of range: ${JSON.stringify(row)}`)
    }
    return { k: row.k, i, p, lo: row.lo, hi: row.hi }
  }

  #positionOf(p: number): number {
    const position = this.#position.get(p)
    if (position === undefined) throw new RangeError(`row of package ${p}, not in these lookups`)
    return position
  }
}
