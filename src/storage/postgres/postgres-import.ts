/**
 * `importRows` on PostgreSQL: one INSERT statement (hence one transaction) storing rows
 * verbatim with their audit fields, skipping rows identical to a stored one.
 */
import type { Sql } from 'postgres'
import type { AuditedPrRow, ImportRowsResult } from '../../services/prserv/pr-store.js'

/** One row as sent in the statement's JSON parameter; `o` keeps the caller's order. */
interface ImportRow {
  readonly o: number
  readonly v: string
  readonly a: string
  readonly c: string
  readonly value: string | null
  readonly created_at: string | null
  readonly peer: string | null
}

/**
 * Inserts the rows not stored yet, in the order given. The NOT EXISTS test also matches a
 * NULL value (the unique constraint treats NULLs as distinct); ON CONFLICT covers a row
 * another session commits meanwhile. Rows repeated within `rows` are dropped here first.
 * No package lock is taken: an import may repeat a value another checksum holds, as
 * `import-one` may, so it cannot break an allocation running at the same time.
 */
export async function importPrRows(
  sql: Sql,
  rows: readonly AuditedPrRow[],
): Promise<ImportRowsResult> {
  const unique = uniqueRows(rows)
  if (unique.length === 0) return { written: 0, skipped: rows.length }
  const payload = JSON.stringify(unique)
  const inserted = await sql<{ id: string }[]>`
    INSERT INTO prmain (version, pkgarch, checksum, value, created_at, peer)
    SELECT n.v, n.a, n.c, n.value, n.created_at::timestamptz, n.peer
    FROM jsonb_to_recordset(${payload}::text::jsonb)
      AS n(o integer, v text, a text, c text, value text, created_at text, peer text)
    WHERE NOT EXISTS (
      SELECT 1 FROM prmain r WHERE r.version = n.v AND r.pkgarch = n.a AND r.checksum = n.c
        AND r.value IS NOT DISTINCT FROM n.value)
    ORDER BY n.o
    ON CONFLICT ON CONSTRAINT prmain_bitbake_key DO NOTHING
    RETURNING id`
  return { written: inserted.length, skipped: rows.length - inserted.length }
}

function uniqueRows(rows: readonly AuditedPrRow[]): ImportRow[] {
  const seen = new Set<string>()
  const unique: ImportRow[] = []
  for (const row of rows) {
    const identity = JSON.stringify([row.version, row.pkgarch, row.checksum, row.value])
    if (seen.has(identity)) continue
    seen.add(identity)
    unique.push({
      o: unique.length,
      v: row.version,
      a: row.pkgarch,
      c: row.checksum,
      value: row.value,
      created_at: row.createdAt,
      peer: row.peer,
    })
  }
  return unique
}
