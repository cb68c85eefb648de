/**
 * The data tools through the built CLI (dist/, made by `npm run build` first): complete help,
 * exit statuses, stdout/stdin, a migration from a BitBake-made file, and one in bounded memory.
 */
import { strict as assert } from 'node:assert'
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startCliServer } from '../support/cli-server.js'
import { makeTempDir } from '../support/pr-server.js'
import { rawSession } from '../support/raw-session.js'
import { makeBitBakeFile, makeLargeBitBakeFile } from '../tools/tool-test-support.js'

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

interface Outcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs the CLI in `cwd`, feeding `stdin`, with `nodeFlags` before the script; resolves
 * whatever the exit status.
 */
function prserv(
  args: readonly string[],
  cwd: string,
  stdin = '',
  nodeFlags: readonly string[] = [],
): Promise<Outcome> {
  return new Promise((resolve) => {
    const argv = [...nodeFlags, MAIN, ...args]
    const child = execFile(process.execPath, argv, { cwd }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
      resolve({ code, stdout, stderr })
    })
    child.stdin?.end(stdin)
  })
}

void test('tools cli: --help of migrate, export and import lists every flag', async (t) => {
  const dir = await makeTempDir(t)
  const expected: Readonly<Record<string, readonly string[]>> = {
    migrate: ['--from', '--to', '--batch-rows', '--json'],
    export: ['--server', '--database', '--format', '--json', '--version', '--pkgarch'],
    import: ['--server', '--database', '--format', '--json', '--checksum'],
  }
  for (const [command, flags] of Object.entries(expected)) {
    const { code, stdout } = await prserv([command, '--help'], dir)
    assert.equal(code, 0)
    for (const flag of flags) assert.match(stdout, new RegExp(`${flag}\\b`), `${command} ${flag}`)
  }
  const { stdout } = await prserv(['--help'], dir)
  for (const command of ['migrate', 'export', 'import']) assert.match(stdout, new RegExp(command))
})

void test('tools cli: migrate, export to stdout, import from stdin, exit statuses', async (t) => {
  const dir = await makeTempDir(t)
  makeBitBakeFile(join(dir, 'bitbake.sqlite3'))
  const migrated = await prserv(
    ['migrate', '--from', 'bitbake.sqlite3', '--to', 'copy.sqlite3', '--json'],
    dir,
  )
  assert.equal(migrated.code, 0, migrated.stderr)
  assert.equal(migrated.stderr, '', 'no progress bar without a terminal')
  const summary: unknown = JSON.parse(migrated.stdout)
  assert.deepEqual(
    summary !== null && typeof summary === 'object' ? { ...summary, from: '', to: '' } : null,
    {
      from: '',
      to: '',
      readByTable: { PRMAIN_nohist: 5, PRMAIN: 3 },
      notMigrated: [],
      read: 8,
      written: 8,
      skipped: 0,
      conflicts: 0,
      destinationRowsBefore: 0,
      destinationRowsAfter: 8,
      missing: 0,
      isVerified: true,
    },
  )

  const exported = await prserv(['export', '--database', 'copy.sqlite3', '--json', '-'], dir)
  assert.equal(exported.code, 0, exported.stderr)
  assert.match(exported.stdout, /^\[\n {2}\{"version":"busybox-1\.36-r0",.*"value":"3"/)

  // `--version` after the subcommand is the filter, not the program's version flag.
  const filtered = await prserv(
    ['export', '-d', 'copy.sqlite3', '--version', 'zlib-1.3-r0', '-'],
    dir,
  )
  assert.match(
    filtered.stdout,
    /^PRAUTO\$zlib-1\.3-r0\$core2-64\$oldz = "12"\nPRAUTO_zlib-1\.3-r0_core2-64 = "12"\n#PR_core_ver/,
  )

  const imported = await prserv(['import', '-d', 'new.sqlite3', '-'], dir, exported.stdout)
  assert.equal(imported.code, 0, imported.stderr)
  assert.match(imported.stdout, /^stored: +3 written, 0 already present$/m)

  await writeFile(join(dir, 'bad.inc'), 'PRAUTO$v$a$c = "1"\nPRAUTO$v$a$d = "one"\n')
  const bad = await prserv(['import', '--database', 'new.sqlite3', 'bad.inc'], dir)
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /^prserv import: line 2: value "one"/)
  assert.match(bad.stdout, /^unusable: +1$/m)

  const usage = await prserv(['export', '--server', '127.0.0.1:1', '-d', 'x.sqlite3', 'out'], dir)
  assert.equal(usage.code, 2)
  assert.match(usage.stderr, /exactly one of --server ADDR and --database PATH\|URL/)
})

void test('tools cli: migrate copies a database in pages, in a heap smaller than its rows', async (t) => {
  const dir = await makeTempDir(t)
  const rowCount = 60_000
  makeLargeBitBakeFile(join(dir, 'big.sqlite3'), rowCount)
  // Holding every row (as before pages) took over 60 MB of heap for these rows.
  const migrated = await prserv(
    ['migrate', '--from', 'big.sqlite3', '--to', 'copy.sqlite3', '--json'],
    dir,
    '',
    ['--max-old-space-size=24'],
  )
  assert.equal(migrated.code, 0, migrated.stderr)
  const summary: unknown = JSON.parse(migrated.stdout)
  assert.ok(summary !== null && typeof summary === 'object')
  const keys = ['read', 'written', 'destinationRowsAfter', 'missing', 'isVerified']
  assert.deepEqual(
    keys.map((key): unknown => Reflect.get(summary, key)),
    [rowCount, rowCount, rowCount, 0, true],
  )
})

void test('tools cli: a full export and its import stream, in a heap smaller than their rows', async (t) => {
  const dir = await makeTempDir(t)
  const rowCount = 150_000
  makeLargeBitBakeFile(join(dir, 'big.sqlite3'), rowCount)
  // Building the whole file (as before streaming) ran out of 24 MB for 60,000 rows; reading
  // the whole file to import it ran out of 40 MB for these rows. Streaming needs about 20 MB
  // whatever the rows (a CLI's modules included), so the cap leaves room for the collector.
  const heap = ['--max-old-space-size=32']
  for (const format of ['prserv-tool', 'json']) {
    const args = ['export', '-d', 'big.sqlite3', '--history', '--format', format, 'out']
    const exported = await prserv(args, dir, '', heap)
    assert.equal(exported.code, 0, exported.stderr)
    assert.equal(exported.stdout, `exported ${rowCount} rows to out (${format})\n`)
    const text = await readFile(join(dir, 'out'), 'utf8')
    const rowLines = text.split('\n').filter((line) => /^(PRAUTO\$| {2}\{)/.test(line))
    assert.equal(rowLines.length, rowCount, format)
    const imported = await prserv(['import', '-d', `${format}.sqlite3`, 'out'], dir, '', heap)
    assert.equal(imported.code, 0, imported.stderr)
    assert.match(
      imported.stdout,
      new RegExp(`^stored: +${rowCount} written, 0 already present$`, 'm'),
    )
  }
})

void test('tools cli: a server sends an unpaged full export in a heap smaller than its rows', async (t) => {
  const dir = await makeTempDir(t)
  const rowCount = 60_000
  makeLargeBitBakeFile(join(dir, 'big.sqlite3'), rowCount)
  // Building the whole reply (as before it was sent in pages) ran out of 40 MB.
  const args = ['--database', join(dir, 'big.sqlite3'), '--bind', '127.0.0.1:0']
  const { child, addresses } = await startCliServer(t, args, 1, ['--max-old-space-size=32'])
  const request =
    '{"export": {"version": null, "pkgarch": null, "checksum": null, "history": true}}'
  const reply = await rawSession(addresses[0] ?? '', `PRSERVICE 1.0\n\n${request}\n`)
  const lines = reply.split('\n')
  assert.equal(lines[0], '{"chunk-stream": null}')
  assert.deepEqual(lines.slice(-2), ['', ''])
  const message: unknown = JSON.parse(lines.slice(1, -2).join(''))
  const datainfo: unknown =
    typeof message === 'object' && message !== null ? Reflect.get(message, 'datainfo') : null
  assert.ok(Array.isArray(datainfo))
  assert.equal(datainfo.length, rowCount)
  assert.equal(child.exitCode, null, 'the server is still running')
})
