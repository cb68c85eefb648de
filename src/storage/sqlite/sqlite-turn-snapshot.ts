/**
 * One read snapshot per event-loop turn on the main thread's read connection: the first read
 * of a turn opens a read transaction (and learns whether another connection has committed
 * since the last turn), later reads of that turn share it, and it ends when the turn does.
 */
import type Database from 'better-sqlite3'

/**
 * The read connection's per-turn read transaction. Starting a read transaction costs a few
 * microseconds of WAL-index locking, more than the index reads of a lookup, so it is paid
 * once per turn instead of once per request.
 *
 * Staleness: a snapshot is at most one event-loop turn old. Reads that must see a commit of
 * our own writer call `end()` when its reply arrives, so the next read starts a fresh
 * snapshot; commits of other processes are seen from the next turn on.
 */
export class SqliteTurnSnapshot {
  readonly #db: Database.Database
  readonly #begin: Database.Statement<[]>
  readonly #rollback: Database.Statement<[]>
  readonly #dataVersion: Database.Statement<[]>
  readonly #onChange: () => void
  #isOpen = false
  #lastDataVersion: unknown = null

  /**
   * `onChange` runs inside `enter` when the database differs from the previous snapshot's
   * (PRAGMA data_version: a commit by any other connection, our writer thread included).
   */
  constructor(db: Database.Database, onChange: () => void) {
    this.#db = db
    this.#begin = db.prepare<[]>('BEGIN')
    this.#rollback = db.prepare<[]>('ROLLBACK')
    this.#dataVersion = db.prepare<[]>('PRAGMA data_version').pluck()
    this.#onChange = onChange
  }

  /** Opens this turn's snapshot unless it is open. Reads after it see one consistent state. */
  enter(): void {
    if (this.#isOpen) return
    // A caller's own transaction (none today) is left alone: reads then run inside it.
    if (this.#db.inTransaction) return
    this.#begin.run()
    this.#isOpen = true
    setImmediate(this.#endOnImmediate)
    // Reading data_version starts the read transaction, so it describes this snapshot.
    const dataVersion = this.#dataVersion.get()
    if (dataVersion !== this.#lastDataVersion) {
      this.#lastDataVersion = dataVersion
      this.#onChange()
    }
  }

  /** Ends the snapshot now (idempotent); the next `enter` starts a new one. */
  end(): void {
    if (!this.#isOpen) return
    this.#isOpen = false
    // A read transaction changes nothing: ROLLBACK is the cheap, safe way to end it.
    if (this.#db.open && this.#db.inTransaction) this.#rollback.run()
  }

  readonly #endOnImmediate = (): void => {
    this.end()
  }
}
