// The PostgreSQL part (`--postgres`, issue 3 §2): the raw durable INSERT rate and our server's
// alloc-64 on the same PostgreSQL, alternating for `--pg-rounds` rounds; then the INSERT into
// the server's own table, a plain one-transaction-per-allocation design, the server's alloc-1,
// and lookups of stored revisions at every `--connections` count, on the server and on a
// read-only server beside it.
import { join } from 'node:path'
import postgres from 'postgres'
import { withServer, type BenchContext } from './bench-context.js'
import type { ScenarioName } from './scenarios.js'
import type { BenchOptions } from './bench-options.js'
import type { ServerProcess } from './server-process.js'
import { BENCH_PKGARCH, formatChecksum } from './pr-requests.js'
import { startPostgresCluster } from './postgres-cluster.js'
import { runSqlLoad } from './postgres-direct-load.js'
import { formatAllocVersions, runScenario } from './scenario-runner.js'
import { seedLookupPackages } from './wire-setup.js'
import { migratePostgresSchema } from '../src/storage/postgres/postgres-migrations.js'

const PLAIN_VERSION = 'bench-plain-1.0-r0'

export async function runPostgresBench(context: BenchContext): Promise<void> {
  const { options } = context
  if (!options.hasPostgres) return
  const logPath = join(context.workDir, 'postgres.log')
  context.log(`starting PostgreSQL (log ${logPath})`)
  const cluster = await startPostgresCluster(options.externalPostgresUrl, logPath)
  try {
    const tag = `prserv_bench_${context.runTag}`
    const serverUrl = await cluster.createDatabase(`${tag}_server`)
    context.log(`PostgreSQL (${cluster.origin}): ${await describeDurability(serverUrl)}`)
    const connectionCount = Math.max(...options.connectionCounts)
    const timing = { connectionCount, warmupMs: options.warmupMs, durationMs: options.durationMs }
    // `round`: the alternating round, or null outside the rounds.
    const measureServer = async (
      server: ServerProcess,
      scenario: 'alloc-64' | 'alloc-1',
      round: number | null,
    ) => {
      const suffix = round === null ? '' : roundLabel(round, options)
      context.log(`pg ${scenario} at ${connectionCount} connections${suffix}`)
      context.results.push(
        await runScenario(context.pool, server, {
          ...timing,
          scenario,
          label: `pg ${scenario}`,
          allocVersions: formatAllocVersions(
            round === null ? context.runTag : `${context.runTag}r${round}`,
            scenario,
            connectionCount,
          ),
          lookupPackageCount: options.lookupPackageCount,
          requestTimeoutMs: options.requestTimeoutMs,
        }),
      )
    }
    await withServer(context, 'postgres', serverUrl, async (server) => {
      // The target's two rates alternate, each round on fresh tables and packages, so that a
      // machine whose speed drifts within minutes slows both alike.
      for (let round = 1; round <= options.postgresRounds; round++) {
        context.log(`pg raw-insert at ${connectionCount} connections${roundLabel(round, options)}`)
        const directUrl = await cluster.createDatabase(`${tag}_direct_${round}`)
        context.results.push(
          await runSqlLoad({ label: 'pg raw-insert', url: directUrl, ...timing, ...RAW_INSERT }),
        )
        await measureServer(server, 'alloc-64', round)
      }
      context.log(`pg raw-insert-prmain at ${connectionCount} connections`)
      const prmainUrl = await cluster.createDatabase(`${tag}_prmain`)
      context.results.push(
        await runSqlLoad({
          label: 'pg raw-insert-prmain',
          url: prmainUrl,
          ...timing,
          ...RAW_PRMAIN_INSERT,
        }),
      )
      context.log(`pg plain-alloc-1 at ${connectionCount} connections`)
      const plainUrl = await cluster.createDatabase(`${tag}_plain`)
      context.results.push(
        await runSqlLoad({ label: 'pg plain-alloc-1', url: plainUrl, ...timing, ...PLAIN_ALLOC }),
      )
      await measureServer(server, 'alloc-1', null)
      context.log(`seeding ${options.lookupPackageCount} lookup packages`)
      await seedLookupPackages(server.host, server.port, options.lookupPackageCount)
      await measureLookups(context, server, 'pg lookup')
    })
    await withServer(
      context,
      'postgres-read-only',
      serverUrl,
      (server) => measureLookups(context, server, 'pg lookup-ro'),
      ' --read-only',
    )
  } finally {
    await cluster.close()
  }
}

/** `lookup` (get-pr of stored revisions, no write) at every `--connections` count. */
async function measureLookups(
  context: BenchContext,
  server: ServerProcess,
  label: string,
): Promise<void> {
  const { options } = context
  const scenario: ScenarioName = 'lookup'
  for (const connectionCount of options.connectionCounts) {
    context.log(`${label} at ${connectionCount} connections`)
    context.results.push(
      await runScenario(context.pool, server, {
        scenario,
        label,
        connectionCount,
        warmupMs: options.warmupMs,
        durationMs: options.durationMs,
        allocVersions: [],
        lookupPackageCount: options.lookupPackageCount,
        requestTimeoutMs: options.requestTimeoutMs,
      }),
    )
  }
}

function roundLabel(round: number, options: BenchOptions): string {
  return options.postgresRounds > 1 ? ` (round ${round} of ${options.postgresRounds})` : ''
}

/** The settings that make a commit durable, as the server reports them. */
async function describeDurability(url: string): Promise<string> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined })
  try {
    const [row] = await sql<{ version: string; fsync: string; sync: string }[]>`
      SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync,
             current_setting('synchronous_commit') AS sync`
    if (row === undefined) return 'settings unknown'
    return `version ${row.version}, fsync=${row.fsync}, synchronous_commit=${row.sync}`
  } finally {
    await sql.end()
  }
}

/** A check that `table` holds exactly one row per acknowledged operation. */
function checkRowCount(
  table: string,
): (sql: postgres.Sql, acknowledgedCount: number) => Promise<string> {
  return async (sql, acknowledgedCount) => {
    const [row] = await sql<{ rows: string }[]>`SELECT count(*) AS rows FROM ${sql(table)}`
    const rows = Number(row?.rows)
    return rows === acknowledgedCount
      ? `ok ${rows}`
      : `MISMATCH acked ${acknowledgedCount} rows ${rows}`
  }
}

/** One autocommit single-row INSERT per operation: PostgreSQL's durable commit rate. */
const RAW_INSERT = {
  setUp: async (sql: postgres.Sql): Promise<void> => {
    await sql`CREATE TABLE bench_raw_insert (
      version TEXT NOT NULL, pkgarch TEXT NOT NULL, checksum TEXT NOT NULL, value TEXT)`
  },
  operation: async (sql: postgres.Sql, clientIndex: number, counter: number): Promise<void> => {
    await sql`INSERT INTO bench_raw_insert VALUES (
      ${`raw-${clientIndex}`}, ${BENCH_PKGARCH}, ${formatChecksum('', counter)}, ${String(counter)})`
  },
  check: checkRowCount('bench_raw_insert'),
}

/**
 * The same single-row INSERT into a table of the server's own schema (`prmain` with its
 * generated sort key and indexes, created by the server's migrations): what storing one PR row
 * costs before any allocation logic. Context for `pg alloc-64 / raw insert`, not a target.
 */
const RAW_PRMAIN_INSERT = {
  setUp: async (sql: postgres.Sql): Promise<void> => {
    await migratePostgresSchema(sql)
  },
  operation: async (sql: postgres.Sql, clientIndex: number, counter: number): Promise<void> => {
    const checksum = formatChecksum(clientIndex.toString(16).padStart(4, '0'), counter)
    await sql`INSERT INTO prmain (version, pkgarch, checksum, value, created_at, peer)
      VALUES (${`raw-${clientIndex % 64}`}, ${BENCH_PKGARCH}, ${checksum}, ${String(counter)},
              now(), 'bench')`
  },
  check: checkRowCount('prmain'),
}

/**
 * The plain design: per allocation one transaction that takes the package's advisory lock,
 * reads the maximum, inserts maximum + 1 and commits — one commit per allocation.
 */
const PLAIN_ALLOC = {
  setUp: async (sql: postgres.Sql): Promise<void> => {
    await sql`CREATE TABLE bench_plain_prmain (
      version TEXT NOT NULL, pkgarch TEXT NOT NULL, checksum TEXT NOT NULL, value BIGINT NOT NULL,
      PRIMARY KEY (version, pkgarch, checksum, value))`
    await sql`CREATE INDEX bench_plain_prmain_max ON bench_plain_prmain (version, pkgarch, value)`
  },
  operation: async (sql: postgres.Sql, clientIndex: number, counter: number): Promise<void> => {
    const checksum = formatChecksum(clientIndex.toString(16).padStart(4, '0'), counter)
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`${PLAIN_VERSION} ${BENCH_PKGARCH}`}, 0))`
      const [row] = await tx<{ max: string | null }[]>`
        SELECT max(value) AS max FROM bench_plain_prmain
        WHERE version = ${PLAIN_VERSION} AND pkgarch = ${BENCH_PKGARCH}`
      const next = row?.max == null ? 0 : Number(row.max) + 1
      await tx`INSERT INTO bench_plain_prmain VALUES (${PLAIN_VERSION}, ${BENCH_PKGARCH}, ${checksum}, ${next})`
    })
  },
  check: async (sql: postgres.Sql, acknowledgedCount: number): Promise<string> => {
    const [row] = await sql<{ rows: string; distinct_values: string; max: string | null }[]>`
      SELECT count(*) AS rows, count(DISTINCT value) AS distinct_values, max(value) AS max
      FROM bench_plain_prmain`
    const rows = Number(row?.rows)
    const isConsistent =
      rows === acknowledgedCount &&
      Number(row?.distinct_values) === rows &&
      Number(row?.max ?? -1) === rows - 1
    return isConsistent ? `ok ${rows}` : `MISMATCH acked ${acknowledgedCount} rows ${rows}`
  },
}
