/**
 * `export` on PostgreSQL: rows matching the filters in insertion order, with their audit
 * trail; without history only the rows holding their package's numeric maximum (docs/compat.md
 * row 2), the maximum being taken over the whole package as BitBake does. Also the paged
 * export, the rows of given keys and the row counts that `prserv migrate` works with.
 */
import type { PendingQuery, Row, Sql } from 'postgres'
import type {
  AuditedPrRow,
  ExportFilter,
  ExportPage,
  PositionedPrRow,
  PrKey,
  RowStats,
} from '../../services/prserv/pr-store.js'
import { toArrayLiteral } from './postgres-lookup-arrays.js'

interface ExportedRow {
  readonly version: string
  readonly pkgarch: string
  readonly checksum: string
  readonly value: string | null
  readonly created_at: Date | null
  readonly peer: string | null
}

/** Reads the rows `filter` selects (one statement, so one snapshot). */
export async function exportPrRows(sql: Sql, filter: ExportFilter): Promise<AuditedPrRow[]> {
  const rows = await sql<ExportedRow[]>`
    SELECT r.version, r.pkgarch, r.checksum, r.value, r.created_at, r.peer FROM prmain r
    WHERE r.version <> ''
      ${equals(sql, sql`r.version`, filter.version)}
      ${equals(sql, sql`r.pkgarch`, filter.pkgarch)}
      ${equals(sql, sql`r.checksum`, filter.checksum)}
      ${filter.history ? sql`` : holdsPackageMax(sql)}
    ORDER BY r.id`
  return rows.map(toAuditedRow)
}

/** `PrStore.exportPage`: ids above `after`, in id order (one statement). */
export async function exportPrPage(sql: Sql, after: number, limit: number): Promise<ExportPage> {
  const rows = await sql<(ExportedRow & { id: string })[]>`
    SELECT r.id, r.version, r.pkgarch, r.checksum, r.value, r.created_at, r.peer FROM prmain r
    WHERE r.id > ${after} AND r.version <> '' ORDER BY r.id LIMIT ${limit}`
  const last = rows.at(-1)
  return { rows: rows.map(toAuditedRow), last: last === undefined ? after : Number(last.id) }
}

/**
 * `PrStore.exportMaximaPage`: the rows read as by exportPrPage, each with whether it holds its
 * package's maximum (one statement, so one snapshot); those that do.
 */
export async function exportPrMaximaPage(
  sql: Sql,
  after: number,
  limit: number,
): Promise<ExportPage> {
  const rows = await sql<(ExportedRow & { id: string; holds_max: boolean })[]>`
    SELECT r.id, r.version, r.pkgarch, r.checksum, r.value, r.created_at, r.peer,
      coalesce(r.sort_key = (SELECT max(m.sort_key) FROM prmain m
        WHERE m.version = r.version AND m.pkgarch = r.pkgarch), false) AS holds_max
    FROM prmain r
    WHERE r.id > ${after} AND r.version <> '' ORDER BY r.id LIMIT ${limit}`
  const last = rows.at(-1)
  return {
    rows: rows.filter((row) => row.holds_max).map(toAuditedRow),
    last: last === undefined ? after : Number(last.id),
  }
}

/** `PrStore.exportVersionRows`: every row of `versions`, in id order (one statement). */
export async function exportPrVersionRows(
  sql: Sql,
  versions: readonly string[],
): Promise<AuditedPrRow[]> {
  const rows = await sql<ExportedRow[]>`
    SELECT r.version, r.pkgarch, r.checksum, r.value, r.created_at, r.peer FROM prmain r
    WHERE r.version = ANY(${toArrayLiteral(versions)}::text[]) AND r.version <> ''
    ORDER BY r.id`
  return rows.map(toAuditedRow)
}

/** `PrStore.findRows`: the rows of `keys`, read through BitBake's key (one statement). */
export async function findPrRows(sql: Sql, keys: readonly PrKey[]): Promise<PositionedPrRow[]> {
  const rows = await sql<
    { id: string; version: string; pkgarch: string; checksum: string; value: string | null }[]
  >`
    SELECT r.id, r.version, r.pkgarch, r.checksum, r.value
    FROM unnest(${toArrayLiteral(keys.map((key) => key.version))}::text[],
      ${toArrayLiteral(keys.map((key) => key.pkgarch))}::text[],
      ${toArrayLiteral(keys.map((key) => key.checksum))}::text[]) AS k(v, a, c)
    JOIN prmain r ON r.version = k.v AND r.pkgarch = k.a AND r.checksum = k.c`
  return rows.map((row) => ({
    version: row.version,
    pkgarch: row.pkgarch,
    checksum: row.checksum,
    value: row.value,
    position: Number(row.id),
  }))
}

/** `PrStore.rowStats` (counting reads the whole table). */
export async function prRowStats(sql: Sql): Promise<RowStats> {
  const [row] = await sql<{ rows: string; last: string }[]>`
    SELECT count(*) FILTER (WHERE version <> '') AS rows, coalesce(max(id), 0) AS last
    FROM prmain`
  return { rows: Number(row?.rows ?? 0), lastPosition: Number(row?.last ?? 0) }
}

function toAuditedRow(row: ExportedRow): AuditedPrRow {
  return {
    version: row.version,
    pkgarch: row.pkgarch,
    checksum: row.checksum,
    value: row.value,
    createdAt: row.created_at === null ? null : row.created_at.toISOString(),
    peer: row.peer,
  }
}

/** `AND column = value` for a non-empty filter value, else nothing (BitBake: falsy = all). */
function equals(sql: Sql, column: PendingQuery<Row[]>, value: string | null): PendingQuery<Row[]> {
  return value === null || value === '' ? sql`` : sql`AND ${column} = ${value}`
}

function holdsPackageMax(sql: Sql): PendingQuery<Row[]> {
  return sql`AND r.sort_key = (
    SELECT max(m.sort_key) FROM prmain m WHERE m.version = r.version AND m.pkgarch = r.pkgarch)`
}
