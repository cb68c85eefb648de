/**
 * The PostgreSQL schema: migrations applied once however many replicas start together, an
 * upgrade of a version 2 database with rows, released migrations unchanged, version checks,
 * the SQL sort key equal to revisionSortKey, reads that stay index reads without table
 * statistics, and generic plans.
 */
import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import type { TestContext } from 'node:test'
import postgres from 'postgres'
import type { Sql } from 'postgres'
import { StorageError } from '../../src/protocol/errors.js'
import { revisionSortKey } from '../../src/services/prserv/revision.js'
import {
  CURRENT_POSTGRES_SCHEMA_VERSION,
  POSTGRES_MIGRATIONS,
} from '../../src/storage/postgres/postgres-migrations.js'
import type { StateRow } from '../../src/storage/postgres/postgres-batch-plan.js'
import { SORT_KEY_CEILING } from '../../src/storage/postgres/postgres-batch-plan.js'
import { toArrayLiteral } from '../../src/storage/postgres/postgres-lookup-arrays.js'
import { openPostgresPrStore } from '../../src/storage/postgres/postgres-pr-store.js'
import { createTestDatabase } from '../support/postgres.js'

async function freshDatabase(t: TestContext): Promise<{ url: string; sql: Sql }> {
  const db = await createTestDatabase()
  const sql = postgres(db.url, { max: 2, onnotice: () => undefined })
  t.after(async () => {
    await sql.end()
    await db.drop()
  })
  return { url: db.url, sql }
}

void test('postgres schema: 8 replicas starting at once apply each migration once', async (t) => {
  const { url, sql } = await freshDatabase(t)
  const stores = await Promise.all(
    Array.from({ length: 8 }, () =>
      openPostgresPrStore({ url, readOnly: false, maxConnections: 2 }),
    ),
  )
  t.after(() => Promise.all(stores.map((store) => store.close())))
  const applied = await sql<{ version: number }[]>`
    SELECT version FROM schema_migrations WHERE component = 'pr' ORDER BY version`
  assert.deepEqual(
    applied.map((row) => row.version),
    POSTGRES_MIGRATIONS.map((migration) => migration.version),
  )
  const values = await Promise.all(
    stores.map((store, index) =>
      store.getPr({ version: 'v', pkgarch: 'a', checksum: `c${index}` }, false, { peer: 'p' }),
    ),
  )
  assert.deepEqual([...values].sort(), ['0', '1', '2', '3', '4', '5', '6', '7'])
  const again = await openPostgresPrStore({ url, readOnly: false, maxConnections: 1 })
  await again.close()
  const [count] = await sql<
    { count: number }[]
  >`SELECT count(*)::int AS count FROM schema_migrations`
  assert.equal(count?.count, POSTGRES_MIGRATIONS.length)
})

/**
 * SHA-256 (first 16 hex digits) of each migration's statements, joined by NUL. A database
 * records only the numbers of the migrations it applied, so an edited migration would never
 * reach databases that applied it: append a new one instead, and its hash here.
 */
const MIGRATION_HASHES: readonly string[] = [
  '4385f7af75814dec',
  '527ea777cdddbbd9',
  'd5a23c3b7b3ed84e',
  '3b885526116d8056',
  '332b97f70e2b9e1c',
  'eaac568beb86846b',
]

void test('postgres schema: released migrations are never edited', () => {
  const hashes = POSTGRES_MIGRATIONS.map((migration) =>
    createHash('sha256').update(migration.statements.join('\u0000')).digest('hex').slice(0, 16),
  )
  assert.deepEqual(hashes, MIGRATION_HASHES)
  assert.deepEqual(
    POSTGRES_MIGRATIONS.map((migration) => migration.version),
    MIGRATION_HASHES.map((_, index) => index + 1),
  )
})

void test('postgres schema: a database newer than the code is refused', async (t) => {
  const { url, sql } = await freshDatabase(t)
  await (await openPostgresPrStore({ url, readOnly: false, maxConnections: 1 })).close()
  const future = CURRENT_POSTGRES_SCHEMA_VERSION + 1
  await sql`INSERT INTO schema_migrations (component, version, name) VALUES ('pr', ${future}, 'x')`
  for (const readOnly of [false, true]) {
    await assert.rejects(
      openPostgresPrStore({ url, readOnly, maxConnections: 1 }),
      (error: unknown) =>
        error instanceof StorageError && /newer than this server/.test(error.message),
    )
  }
})

void test('postgres schema: a read-only store never creates the schema', async (t) => {
  const { url, sql } = await freshDatabase(t)
  await assert.rejects(
    openPostgresPrStore({ url, readOnly: true, maxConnections: 1 }),
    (error: unknown) => error instanceof StorageError && /read-write server/.test(error.message),
  )
  const [table] = await sql<{ exists: boolean }[]>`
    SELECT to_regclass('prmain') IS NOT NULL AS exists`
  assert.equal(table?.exists, false)
})

/** Revisions and non-revisions, including every edge of revisionSortKey. */
function sortKeyCorpus(): string[] {
  const fixed = ['0', '1', '01', '000', '9', '10', '1.0', '1.10', '1.9', '0.3.2', '007.08']
  const invalid = ['', '1.', '.1', '1..2', 'a', '1.a', ' 7', '+7', '1_0', '١', '1\n']
  const long = [
    '1' + '0'.repeat(89),
    '1' + '0'.repeat(90),
    '0'.repeat(95) + '7',
    '5.' + '9'.repeat(90),
  ]
  const random = Array.from({ length: 200 }, (_, index) => {
    const fields = 1 + (index % 4)
    return Array.from({ length: fields }, (_unused, field) =>
      String((index * 7919 + field * 104729) % 10 ** (1 + ((index + field) % 6))).padStart(
        (index + field) % 3,
        '0',
      ),
    ).join('.')
  })
  return [...fixed, ...invalid, ...long, ...random]
}

void test('postgres schema: the SQL sort key equals revisionSortKey', async (t) => {
  const { url, sql } = await freshDatabase(t)
  await (await openPostgresPrStore({ url, readOnly: false, maxConnections: 1 })).close()
  const corpus = sortKeyCorpus()
  const rows = await sql<{ value: string; key: string | null }[]>`
    SELECT v.value, prserv_revision_sort_key(v.value) AS key
    FROM jsonb_array_elements_text(${JSON.stringify(corpus)}::text::jsonb) AS v(value)`
  assert.equal(rows.length, corpus.length)
  for (const row of rows) assert.equal(row.key, revisionSortKey(row.value), row.value)
})

void test('postgres schema: allocation reads are index reads without table statistics', async (t) => {
  const { url, sql } = await freshDatabase(t)
  await (await openPostgresPrStore({ url, readOnly: false, maxConnections: 1 })).close()
  // One big package among many small ones, never analysed: a bad plan would filter it row by
  // row.
  await sql`INSERT INTO prmain (version, pkgarch, checksum, value)
    SELECT 'small' || (n % 64), 'a', 'c' || n, (n / 64)::text FROM generate_series(0, 12000) AS n`
  await sql`INSERT INTO prmain (version, pkgarch, checksum, value)
    SELECT 'big', 'a', 'c' || n, n::text FROM generate_series(0, 20000) AS n`
  // Package "big"; checksums c7 and "new"; values under 5 (sort keys "5 .. "5<DEL>).
  const args = ['{big}', '{a}', '{0,0}', '{c7,new}', '{0}', '{"\\"5"}', '{"\\"5\u007f"}']
  await assertStateReads(
    sql,
    'prserv_state($1::text[], $2::text[], $3::integer[], $4::text[], $5::integer[], $6::text[], $7::text[])',
    args,
  )
  // Migration 5's read, bounded below the maximum (20000).
  const floor = toArrayLiteral([revisionSortKey('19990')])
  await assertStateReads(
    sql,
    'prserv_state($1::text[], $2::text[], $8::text[], $3::integer[], $4::text[], $5::integer[], $6::text[], $7::text[])',
    [...args, floor],
  )
})

/** `call` (a prserv_state call) reads through indexes, with a custom and a generic plan. */
async function assertStateReads(sql: Sql, call: string, args: readonly string[]): Promise<void> {
  const custom = await sql.unsafe<{ 'QUERY PLAN': string }[]>(
    `EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) SELECT * FROM ${call}`,
    [...args],
  )
  assertIndexReads(custom)
  const [state] = await sql.unsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${call}`, [
    ...args,
  ])
  assert.equal(state?.n, 4)
  // Sessions cache a generic plan, made without statistics on a new database (issue #3 §2:
  // with one, each checksum lookup walked the whole hot package).
  const reserved = await sql.reserve()
  let generic: readonly { 'QUERY PLAN': string }[]
  try {
    await reserved`SET plan_cache_mode = force_generic_plan`
    // Simple protocol: the statement's own parameters are not driver parameters.
    const types = [
      'text[]',
      'text[]',
      'integer[]',
      'text[]',
      'integer[]',
      'text[]',
      'text[]',
      'text[]',
    ]
    await reserved.unsafe(
      `PREPARE read_state(${types.slice(0, args.length).join(', ')}) AS ` +
        `SELECT * FROM ${call.replaceAll(/::[a-z]+\[\]/g, '')}`,
    )
    const literals = args.map((arg) => `'${arg}'`).join(', ')
    generic = await reserved.unsafe<{ 'QUERY PLAN': string }[]>(
      `EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) EXECUTE read_state(${literals})`,
    )
    await reserved.unsafe('DEALLOCATE read_state; RESET plan_cache_mode')
  } finally {
    // Released here: the pool's own clean-up (t.after) waits for reserved connections.
    reserved.release()
  }
  assertIndexReads(generic)
}

function assertIndexReads(plan: readonly { 'QUERY PLAN': string }[]): void {
  const text = plan.map((row) => row['QUERY PLAN']).join('\n')
  assert.doesNotMatch(text, /Seq Scan on prmain|Rows Removed by Filter: [1-9][0-9]{2,}/, text)
  // The first Buffers line is the whole execution's (planning is reported separately).
  const executionPages = Number(/shared hit=(\d+)/.exec(text)?.[1] ?? 'NaN')
  assert.ok(executionPages < 100, `few pages read:\n${text}`)
}

void test('postgres schema: the migration 5 read answers as before, whatever the bound', async (t) => {
  const { url, sql } = await freshDatabase(t)
  await (await openPostgresPrStore({ url, readOnly: false, maxConnections: 1 })).close()
  // Values 0..299, a tie written differently ("0299" = "299", stored later), a dotted value on
  // top and a non-revision.
  await sql`INSERT INTO prmain (version, pkgarch, checksum, value)
    SELECT 'p', 'a', 'c' || n, n::text FROM generate_series(0, 299) AS n`
  // Checksum c8 (id 9) gets ties stored later, with ids of more digits: "08" = "8" and
  // "009" = "9"; its smallest value stays "8" and its largest "9" (the rows stored first).
  await sql`INSERT INTO prmain (version, pkgarch, checksum, value)
    VALUES ('p', 'a', 'tie', '0299'), ('p', 'a', 'dot', '299.1'), ('p', 'a', 'x', 'abc'),
      ('p', 'a', 'c8', '08'), ('p', 'a', 'c8', '9'), ('p', 'a', 'c8', '009'), ('p', 'a', 'c8', 'x')`
  // Packages p and q (empty); checksums c8 of p and c9 of q; values of p under 5.
  const base = revisionSortKey('5') ?? ''
  const [chkP, chkC] = [toArrayLiteral([0, 1]), toArrayLiteral(['c8', 'c9'])]
  const [baseP, low, high] = [
    '{0}',
    toArrayLiteral([base]),
    toArrayLiteral([base + SORT_KEY_CEILING]),
  ]
  const unbounded = await sql<StateRow[]>`SELECT * FROM prserv_state('{p,q}', '{a,a}',
    ${chkP}::integer[], ${chkC}::text[], ${baseP}::integer[], ${low}::text[], ${high}::text[])`
  assert.equal(unbounded.find((row) => row.k === 'p' && row.i === 0)?.hi, '299.1')
  const c8 = unbounded.find((row) => row.k === 'c' && row.i === 0)
  assert.deepEqual([c8?.lo, c8?.hi], ['8', '9'])
  const floors = ['299.1', '299', '0299', '7', '0', '300', '299.2', '1000'].map(revisionSortKey)
  for (const floor of [null, '', 'zzz', ...floors]) {
    const bounded = await sql<StateRow[]>`SELECT * FROM prserv_state('{p,q}', '{a,a}',
      ${toArrayLiteral([floor, floor])}::text[], ${chkP}::integer[], ${chkC}::text[],
      ${baseP}::integer[], ${low}::text[], ${high}::text[])`
    assert.deepEqual(bounded, unbounded, `floor ${String(floor)}`)
  }
  // Migration 6's read of read-only stores reads through it without floors.
  const unlocked = await sql<StateRow[]>`SELECT * FROM prserv_unlocked_state('{p,q}', '{a,a}',
    ${chkP}::integer[], ${chkC}::text[], ${baseP}::integer[], ${low}::text[], ${high}::text[])`
  assert.deepEqual(unlocked, unbounded)
})

void test('postgres schema: the guarded write returns only the lookups that differ, and writes nothing of their packages', async (t) => {
  const { url, sql } = await freshDatabase(t)
  await (await openPostgresPrStore({ url, readOnly: false, maxConnections: 1 })).close()
  await sql`INSERT INTO prmain (version, pkgarch, checksum, value)
    VALUES ('p', 'a', 'c0', '0'), ('q', 'a', 'c0', '0'), ('q', 'a', 'c1', '1')`
  // Package p (0) as expected: its new row is written. Package q (1): its maximum as expected,
  // but checksum c1 guessed absent, so nothing of it is written and only c1 comes back.
  const floor = toArrayLiteral([revisionSortKey('0'), revisionSortKey('1')])
  const differing = await sql<StateRow[]>`SELECT * FROM prserv_apply_guarded('{p,q}', '{a,a}',
    '{0,1}', ${floor}::text[], '{0,1,1}', '{new,new,c1}', '{NULL,NULL,NULL}',
    '{NULL,NULL,NULL}', '{}', '{}', '{}', '{}', '{0,1}', '{new,new}', '{1,2}', '{peer,peer}',
    '{f,f}', 1000)`
  assert.deepEqual([...differing], [{ k: 'c', i: 2, p: 1, lo: '1', hi: '1' }])
  const rows = await sql<{ version: string; checksum: string; value: string }[]>`
    SELECT version, checksum, value FROM prmain ORDER BY id`
  assert.deepEqual(
    rows.map((row) => `${row.version}/${row.checksum}=${row.value}`),
    ['p/c0=0', 'q/c0=0', 'q/c1=1', 'p/new=1'],
  )
  // Every package stale (lookups of stored checksums guessed absent): nothing is written.
  const allStale = await sql<StateRow[]>`SELECT * FROM prserv_apply_guarded('{p,q}', '{a,a}',
    '{1,1}', ${floor}::text[], '{0,1}', '{c0,c0}', '{NULL,NULL}', '{NULL,NULL}',
    '{}', '{}', '{}', '{}', '{0,1}', '{c0,c0}', '{2,2}', '{peer,peer}', '{f,f}', 1000)`
  assert.deepEqual(
    [...allStale],
    [
      { k: 'c', i: 0, p: 0, lo: '0', hi: '0' },
      { k: 'c', i: 1, p: 1, lo: '0', hi: '0' },
    ],
  )
  assert.equal((await sql`SELECT 1 FROM prmain`).length, 4)
  // All as expected: nothing comes back.
  const none = await sql`SELECT * FROM prserv_apply_guarded('{q}', '{a}', '{1}',
    ${toArrayLiteral([revisionSortKey('1')])}::text[], '{0}', '{c1}', '{1}', '{1}',
    '{}', '{}', '{}', '{}', '{0}', '{new}', '{2}', '{peer}', '{f}', 1000)`
  assert.deepEqual([...none], [])
})

void test('postgres schema: allocation statements never scan the table, even with plans made when it was tiny', async (t) => {
  const { url, sql } = await freshDatabase(t)
  await (await openPostgresPrStore({ url, readOnly: false, maxConnections: 1 })).close()
  await sql`INSERT INTO prmain (version, pkgarch, checksum, value) VALUES ('p', 'a', 'c0', '0')`
  await sql`ANALYZE prmain`
  const reserved = await sql.reserve()
  try {
    await reserved`BEGIN`
    let max = 0
    const apply = async (n: number): Promise<void> => {
      const [maxes, floors] = [
        toArrayLiteral([String(max)]),
        toArrayLiteral([revisionSortKey(String(max))]),
      ]
      const checksums = toArrayLiteral([`c${n}`])
      const stale = await reserved`SELECT * FROM prserv_apply_guarded('{p}', '{a}',
        ${maxes}::text[], ${floors}::text[], '{0}', ${checksums}::text[], '{NULL}', '{NULL}',
        '{}', '{}', '{}', '{}', '{0}', ${checksums}::text[], ${toArrayLiteral([String(max + 1)])}::text[],
        '{peer}', '{f}', 1000)`
      assert.deepEqual([...stale], [])
      // The locked transaction's read, too.
      const locked = await reserved`SELECT * FROM prserv_lock_and_state('{p}', '{a}', '{0}',
        ${checksums}::text[], '{}', '{}', '{}')`
      assert.equal(locked.length, 2)
      // And the read of read-only stores.
      const unlocked = await reserved`SELECT * FROM prserv_unlocked_state('{p}', '{a}', '{0}',
        ${checksums}::text[], '{}', '{}', '{}')`
      assert.equal(unlocked.length, 2)
      max++
    }
    // More than five runs: the session may switch to a generic plan, kept from then on.
    for (let n = 1; n <= 8; n++) await apply(n)
    await reserved`INSERT INTO prmain (version, pkgarch, checksum, value)
      SELECT 'p', 'a', 'bulk' || n, '0' FROM generate_series(1, 20000) AS n`
    const seqScans = async (): Promise<string | undefined> => {
      const [row] = await reserved<{ seq_scan: string }[]>`
        SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'prmain'`
      return row?.seq_scan
    }
    const before = await seqScans()
    for (let n = 9; n <= 12; n++) await apply(n)
    assert.equal(await seqScans(), before)
    await reserved`ROLLBACK`
  } finally {
    // Released here: the pool's own clean-up (t.after) waits for reserved connections.
    reserved.release()
  }
})

void test('postgres schema: the allocation and read-only functions plan once per session (generic plans)', async (t) => {
  const { url, sql } = await freshDatabase(t)
  await (await openPostgresPrStore({ url, readOnly: false, maxConnections: 1 })).close()
  // With custom plans, PostgreSQL planned the allocation statement anew on every call when a
  // batch held one allocation (about 3 ms of database CPU each, against 0.8 ms in all).
  const rows = await sql<{ signature: string; config: string[] | null }[]>`
    SELECT p.oid::regprocedure::text AS signature, p.proconfig AS config FROM pg_proc p
    WHERE p.proname IN ('prserv_apply', 'prserv_apply_guarded', 'prserv_lock_and_state',
        'prserv_unlocked_state')
      AND p.pronargs IN (7, 18)`
  assert.equal(rows.length, 4)
  for (const row of rows) {
    assert.deepEqual(
      [...(row.config ?? [])].sort(),
      ['enable_seqscan=off', 'plan_cache_mode=force_generic_plan'],
      row.signature,
    )
  }
})

void test('postgres schema: read-only stores read through prserv_unlocked_state', async (t) => {
  const { url, sql } = await freshDatabase(t)
  await (await openPostgresPrStore({ url, readOnly: false, maxConnections: 1 })).close()
  // The 7-argument prserv_state, called from a prepared statement, was planned on every call.
  const applicationName = 'prserv-read-only-test'
  const store = await openPostgresPrStore({
    url,
    readOnly: true,
    maxConnections: 1,
    applicationName,
  })
  t.after(() => store.close())
  const origin = { peer: '127.0.0.1:1' }
  assert.equal(await store.getPr({ version: 'v', pkgarch: 'a', checksum: 'c' }, true, origin), '0')
  // An idle session's `query` is the last statement it ran.
  const [session] = await sql<{ query: string }[]>`SELECT query FROM pg_stat_activity
    WHERE application_name = ${applicationName} AND state = 'idle'`
  assert.match(session?.query ?? '', /FROM prserv_unlocked_state\(/)
})

void test('postgres schema: a version 2 database with rows is upgraded and keeps its answers', async (t) => {
  const { url, sql } = await freshDatabase(t)
  // The schema as version 2 left it, built from the migrations themselves.
  await sql`CREATE TABLE schema_migrations (component text NOT NULL, version integer NOT NULL,
    name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version))`
  for (const migration of POSTGRES_MIGRATIONS.filter((m) => m.version <= 2)) {
    for (const statement of migration.statements) await sql.unsafe(statement)
    await sql`INSERT INTO schema_migrations (component, version, name)
      VALUES ('pr', ${migration.version}, ${migration.name})`
  }
  // "10" is the numeric maximum ("9" the textual one); c1 holds two values (history mode).
  for (const [checksum, value] of [
    ['c0', '9'],
    ['c1', '3'],
    ['c1', '5'],
    ['c2', '10'],
  ] as const) {
    await sql`INSERT INTO prmain (version, pkgarch, checksum, value) VALUES ('v', 'a', ${checksum}, ${value})`
  }
  const store = await openPostgresPrStore({ url, readOnly: false, maxConnections: 2 })
  t.after(() => store.close())
  const indexes = await sql<{ indexname: string }[]>`
    SELECT indexname FROM pg_indexes WHERE tablename = 'prmain' ORDER BY indexname`
  assert.deepEqual(
    indexes.map((row) => row.indexname),
    ['prmain_bitbake_key', 'prmain_package_latest', 'prmain_pkey'],
  )
  const pkg = { version: 'v', pkgarch: 'a' }
  const origin = { peer: 'test' }
  assert.equal(await store.maxPackagePr(pkg), '10')
  assert.equal(await store.testPr({ ...pkg, checksum: 'c1' }, true), '3')
  assert.equal(await store.testPr({ ...pkg, checksum: 'c1' }, false), '5')
  // Existing answers stay; a new checksum goes above the numeric maximum.
  assert.equal(await store.getPr({ ...pkg, checksum: 'c1' }, true, origin), '3')
  assert.equal(await store.getPr({ ...pkg, checksum: 'c2' }, false, origin), '10')
  assert.equal(await store.getPr({ ...pkg, checksum: 'new' }, false, origin), '11')
  // No-history: a checksum below the maximum moves up to a new value (prserv.md §4.2).
  assert.equal(await store.getPr({ ...pkg, checksum: 'c0' }, false, origin), '12')
})
