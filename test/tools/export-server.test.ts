/**
 * `prserv export --server` of a full history: in pages from our servers (the `export` paging
 * extension), in one reply from a server that ignores it (as BitBake's does), and the
 * extension's checks, over real sockets. Also the server's unpaged full export (what BitBake
 * asks), which it sends a page at a time.
 */
import { strict as assert } from 'node:assert'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import type { TestContext } from 'node:test'
import { Command } from 'commander'
import { registerClientCommand } from '../../src/cli/client-command.js'
import { runExport } from '../../src/cli/export-command.js'
import type { ExportOptions } from '../../src/cli/export-command.js'
import { readServerExport } from '../../src/cli/server-export.js'
import { DEFAULT_EXPORT_PAGE_ROWS } from '../../src/services/prserv/pr-export-stream.js'
import { DEFAULT_MAX_MESSAGE_BYTES, splitMessageLines } from '../../src/protocol/chunking.js'
import { encodeJson } from '../../src/protocol/codec.js'
import { RemoteError } from '../../src/protocol/errors.js'
import { defineMethod } from '../../src/rpc/method.js'
import { startRpcServer } from '../../src/rpc/rpc-server.js'
import { formatPrRowsJson } from '../../src/services/prserv/pr-json-format.js'
import { MAX_EXPORT_PAGE_ROWS, PR_COLUMN_INFO } from '../../src/services/prserv/pr-methods.js'
import type { AuditedPrRow } from '../../src/services/prserv/pr-store.js'
import { formatPrservToolFile } from '../../src/services/prserv/prserv-tool-format.js'
import {
  addressOf,
  connectClient,
  makeTempDir,
  silentLogger,
  startTestServer,
} from '../support/pr-server.js'
import { rawSession } from '../support/raw-session.js'
import { allRows, captureEnv, openStore } from './tool-test-support.js'

const FULL_HISTORY = { version: null, pkgarch: null, checksum: null, history: true }

function makeRows(count: number): AuditedPrRow[] {
  return Array.from({ length: count }, (_, n) => ({
    version: `pkg${n % 7}-1.0-r0`,
    pkgarch: 'core2-64',
    checksum: n.toString(16).padStart(12, '0'),
    value: String(Math.floor(n / 7)),
    createdAt: n % 3 === 0 ? null : '2026-11-24T05:00:00.000Z',
    peer: n % 3 === 0 ? null : `10.0.0.${n % 250}:4000`,
  }))
}

/** A server on a SQLite file holding `count` rows; resolves with its address and rows. */
async function serveRows(t: TestContext, dir: string, count: number) {
  const database = join(dir, 'pr.sqlite3')
  const store = await openStore(t, { kind: 'sqlite', path: database })
  await store.importRows(makeRows(count))
  const rows = await allRows(store)
  const server = await startTestServer(t, { database })
  return { address: addressOf(server), rows, store }
}

void test('export server: a full history comes in pages; JSON streams, the tool file is whole', async (t) => {
  const dir = await makeTempDir(t)
  const count = 2 * DEFAULT_EXPORT_PAGE_ROWS + 345
  const { address, rows } = await serveRows(t, dir, count)
  const client = connectClient(t, address)
  const sizes: number[] = []
  for await (const page of readServerExport(client, FULL_HISTORY)) sizes.push(page.rows.length)
  assert.deepEqual(sizes, [DEFAULT_EXPORT_PAGE_ROWS, DEFAULT_EXPORT_PAGE_ROWS, 345])

  const { env } = captureEnv(dir)
  const target = { kind: 'server', address } as const
  const options: ExportOptions = { target, filter: FULL_HISTORY, format: 'json', file: 'a.json' }
  assert.equal(await runExport(options, env), count)
  assert.equal(await readFile(join(dir, 'a.json'), 'utf8'), formatPrRowsJson(rows))
  assert.equal(await runExport({ ...options, format: 'prserv-tool', file: 'a.inc' }, env), count)
  const tool = await readFile(join(dir, 'a.inc'), 'utf8')
  assert.equal(tool, formatPrservToolFile(rows, PR_COLUMN_INFO))

  // Filtered and no-history exports are one request, as before.
  const filtered = { ...FULL_HISTORY, version: 'pkg3-1.0-r0' }
  const pages = []
  for await (const page of readServerExport(client, filtered)) pages.push(page)
  assert.equal(pages.length, 1)
  assert.equal(pages[0]?.rows.length, rows.filter((row) => row.version === 'pkg3-1.0-r0').length)
})

void test('export server: an unpaged unfiltered export is sent a page at a time, as the whole reply', async (t) => {
  const dir = await makeTempDir(t)
  const { address, store } = await serveRows(t, dir, 2 * DEFAULT_EXPORT_PAGE_ROWS + 345)
  for (const [history, colinfo, audit] of [
    [true, false, false],
    [true, true, true],
    [false, true, false],
  ] as const) {
    const filter = { ...FULL_HISTORY, history }
    const request = { export: { ...filter, colinfo, ...(audit ? { audit } : {}) } }
    const reply = await rawSession(address, `PRSERVICE 1.0\n\n${JSON.stringify(request)}\n`)
    const rows = await store.exportRows(filter)
    const datainfo = audit
      ? rows.map(({ createdAt, peer, ...row }) => ({ ...row, created: createdAt, peer }))
      : toWireRows(rows)
    const whole = encodeJson({ metainfo: colinfo ? PR_COLUMN_INFO : {}, datainfo })
    const expected = [...splitMessageLines(whole), ''].join('\n')
    // Compared without assert.equal so a failure does not print megabytes twice.
    assert.ok(reply === expected, `history ${history}, colinfo ${colinfo}, audit ${audit}`)
  }
})

void test('export server: an empty server gives one empty page and an empty file', async (t) => {
  const dir = await makeTempDir(t)
  const { address } = await serveRows(t, dir, 0)
  const { env, stdout } = captureEnv(dir)
  const target = { kind: 'server', address } as const
  assert.equal(await runExport({ target, filter: FULL_HISTORY, format: 'json', file: '-' }, env), 0)
  assert.equal(stdout(), '[]\n')
})

/** Rows as BitBake's server sends them (no audit trail). */
function toWireRows(rows: readonly AuditedPrRow[]) {
  return rows.map(({ version, pkgarch, checksum, value }) => ({
    version,
    pkgarch,
    checksum,
    value,
  }))
}

/** A PR server as BitBake's answers `export`: every row in one reply, whatever is asked. */
async function startUnpagedServer(t: TestContext, wireRows: readonly unknown[]) {
  return startExportServer(t, () => ({ metainfo: PR_COLUMN_INFO, datainfo: wireRows }))
}

/** A PR server whose `export` replies `reply(body)`; resolves with its address and requests. */
async function startExportServer(t: TestContext, reply: (body: unknown) => unknown) {
  const requests: unknown[] = []
  const server = await startRpcServer({
    service: {
      protocolName: 'PRSERVICE',
      acceptsVersion: () => true,
      createSession: () => null,
      methods: [
        defineMethod({
          name: 'export',
          parseParams: (body: unknown) => body,
          handle: (body) => {
            requests.push(body)
            return reply(body)
          },
        }),
      ],
    },
    listen: ['127.0.0.1:0'],
    logger: silentLogger,
  })
  t.after(() => server.close())
  return { address: server.addresses[0] ?? '', requests }
}

void test('export server: a server that ignores paging sends every row in one reply, over 16 MiB', async (t) => {
  const dir = await makeTempDir(t)
  const wireRows = toWireRows(makeRows(200_000))
  // Over the default message cap, which the tools raise for export replies.
  assert.ok(JSON.stringify(wireRows).length > DEFAULT_MAX_MESSAGE_BYTES)
  const { address, requests } = await startUnpagedServer(t, wireRows)
  const { env } = captureEnv(dir)
  const target = { kind: 'server', address } as const
  const options: ExportOptions = { target, filter: FULL_HISTORY, format: 'json', file: 'b.json' }
  assert.equal(await runExport(options, env), wireRows.length)
  assert.equal(await readFile(join(dir, 'b.json'), 'utf8'), formatPrRowsJson(wireRows))
  assert.equal(requests.length, 1)
  assert.deepEqual(requests[0], {
    ...FULL_HISTORY,
    colinfo: true,
    audit: true,
    after: 0,
    limit: DEFAULT_EXPORT_PAGE_ROWS,
  })

  // `prserv client export` takes such a reply too.
  let printed = ''
  const program = new Command('prserv').exitOverride()
  const stdout = (text: string): void => {
    printed += text
  }
  registerClientCommand(program, { env: {}, readFile: () => '', cwd: dir, stdout })
  await program.parseAsync(['client', '--server', address, 'export', '--history'], {
    from: 'user',
  })
  assert.equal(printed.split('\n').length, wireRows.length + 1)
})

void test('export server: the paging extension checks its fields and pages by position', async (t) => {
  const dir = await makeTempDir(t)
  const { address, rows } = await serveRows(t, dir, 10)
  const client = connectClient(t, address)
  const page = (after: number, limit: number) =>
    client.export({ ...FULL_HISTORY, colinfo: false, after, limit })
  const first = await page(0, 4)
  assert.deepEqual(first.metainfo, {})
  assert.deepEqual(
    first.datainfo.map((row) => row.checksum),
    rows.slice(0, 4).map((row) => row.checksum),
  )
  assert.equal(typeof first.last, 'number')
  const rest = await page(first.last ?? 0, 100)
  assert.equal(rest.datainfo.length, 6)
  const end = await page(rest.last ?? 0, 100)
  assert.deepEqual([end.datainfo.length, end.last], [0, rest.last])
  // Without "limit" the reply is BitBake's, with no "last".
  assert.equal('last' in (await client.export({ ...FULL_HISTORY, colinfo: false })), false)

  const refusals: [Record<string, unknown>, RegExp][] = [
    [{ limit: 0 }, /"limit" must be a whole number from 1 to 10000/],
    [{ limit: MAX_EXPORT_PAGE_ROWS + 1 }, /"limit" must be a whole number/],
    [{ limit: 1.5 }, /"limit" must be a whole number/],
    [{ limit: 5, after: -1 }, /"after" must be a whole number/],
    [{ limit: 5, after: '3' }, /"after" must be a whole number/],
    [{ after: 3 }, /"after" needs "limit"/],
    [{ limit: 5, history: false }, /paged export \("limit"\) needs "history": true and no filter/],
    [{ limit: 5, pkgarch: 'core2-64' }, /needs "history": true and no filter/],
  ]
  for (const [extra, message] of refusals) {
    const refusing = connectClient(t, address)
    const body = { ...FULL_HISTORY, colinfo: false, ...extra }
    await assert.rejects(refusing.export(body), (error: unknown) => {
      assert.ok(error instanceof RemoteError, JSON.stringify(extra))
      assert.match(error.message, message)
      return true
    })
  }
})

void test('export server: pages that do not move forward are an error, not a loop', async (t) => {
  const dir = await makeTempDir(t)
  const datainfo = toWireRows(makeRows(3))
  const { address, requests } = await startExportServer(t, () => ({
    metainfo: PR_COLUMN_INFO,
    datainfo,
    last: 0,
  }))
  const { env } = captureEnv(dir)
  const target = { kind: 'server', address } as const
  const options: ExportOptions = { target, filter: FULL_HISTORY, format: 'json', file: 'c.json' }
  await assert.rejects(runExport(options, env), /export pages went back \(after 0: 0\)/)
  assert.equal(requests.length, 1)
})
