/**
 * Everything `prserv migrate` reads from a SQLite file, never writing to it: the current
 * PRMAIN rows with their audit trail, the rows of BitBake's pre-2.10 integer tables, and what
 * cannot be migrated (the 2011 PRMAIN without pkgarch); all in pages.
 */
import { pageStore } from '../../services/prserv/pr-store.js'
import type { AuditedPrRow } from '../../services/prserv/pr-store.js'
import { countLegacyPrRows, pageLegacyPrRows } from './sqlite-legacy-tables.js'
import { readSqliteFile } from './sqlite-open.js'
import { openSqlitePrStore } from './sqlite-pr-store.js'
import { hasTable, PRMAIN_COLUMNS } from './sqlite-schema.js'

/** Rows of one table that are not migrated, and why. */
export interface UnmigratedTable {
  readonly table: string
  readonly rows: number
  readonly reason: string
}

/** One table to copy: its row count, and its rows in pages ready for `importRows`. */
export interface SourceTable {
  readonly table: string
  /** Rows the pages will give (counted when the source was opened). */
  readonly rowCount: number
  pages(
    batchRows: number,
  ): AsyncIterable<readonly AuditedPrRow[]> | Iterable<readonly AuditedPrRow[]>
}

/** What a SQLite source holds: tables in migration order (old tables first), and leftovers. */
export interface SqliteMigrationSource {
  readonly tables: readonly SourceTable[]
  readonly unmigrated: readonly UnmigratedTable[]
}

type PrmainLayout = { readonly kind: 'none' | 'current' } | { kind: 'other'; columns: string[] }

/**
 * The tables of the file at `path`, read-only (plain read-only connections, so a file in any
 * journal mode works and nothing is created), page by page: memory stays bounded by the page
 * size. Old tables come first, as they hold the older values; their integers become decimal
 * strings and they have no audit trail. Rows with an empty version are left out like `export`
 * leaves them out, and reported.
 */
export function openSqliteMigrationSource(path: string): SqliteMigrationSource {
  const layout = inspectPrmain(path)
  const tables: SourceTable[] = []
  const unmigrated: UnmigratedTable[] = []
  for (const counts of countLegacyPrRows(path)) {
    const { table } = counts
    tables.push({
      table,
      rowCount: counts.rows,
      pages: (batchRows) => pageLegacyPrRows(path, table, batchRows),
    })
    if (counts.emptyVersionRows > 0) {
      unmigrated.push({ table, rows: counts.emptyVersionRows, reason: 'empty version' })
    }
  }
  if (layout.kind === 'current') {
    tables.push({
      table: 'PRMAIN',
      rowCount: countRows(path, "WHERE version <> ''"),
      pages: async function* (batchRows) {
        const store = await openSqlitePrStore({ path, readOnly: true })
        try {
          yield* pageStore(store, batchRows)
        } finally {
          await store.close()
        }
      },
    })
  } else if (layout.kind === 'other') {
    unmigrated.push({
      table: 'PRMAIN',
      rows: countRows(path, ''),
      reason:
        `columns (${layout.columns.join(', ')}) instead of (${PRMAIN_COLUMNS.join(', ')}): ` +
        'the 2011 layout without pkgarch cannot be placed in a package',
    })
  }
  return { tables, unmigrated }
}

function inspectPrmain(path: string): PrmainLayout {
  return readSqliteFile(path, (db): PrmainLayout => {
    if (!hasTable(db, 'PRMAIN')) return { kind: 'none' }
    const columns = db
      .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('PRMAIN') ORDER BY cid")
      .all()
      .map((column) => column.name)
    const isCurrent = columns.join(',') === PRMAIN_COLUMNS.join(',')
    return isCurrent ? { kind: 'current' } : { kind: 'other', columns }
  })
}

/** PRMAIN's rows, counted with `where` (fixed text, never input). */
function countRows(path: string, where: string): number {
  return (
    readSqliteFile(
      path,
      (db) =>
        db.prepare<[], { count: number }>(`SELECT count(*) AS count FROM PRMAIN ${where}`).get()
          ?.count,
    ) ?? 0
  )
}
