/**
 * Smoke tests of the built CLI (dist/, made by `npm run build` before the tests): help, a server
 * on TCP, a Unix socket and a WebSocket at once, client round trips over each, and a clean
 * shutdown on SIGTERM.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CLI_MAIN, startCliServer } from '../support/cli-server.js'
import { makeTempDir } from '../support/pr-server.js'

const run = promisify(execFile)

async function prserv(args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, [CLI_MAIN, ...args], { env: { ...process.env, ...env } })
}

test('cli smoke: server --help lists the flags', async () => {
  const { stdout } = await prserv(['server', '--help'])
  for (const flag of [
    '--database',
    '--bind',
    '--read-only',
    '--nohist',
    '--history',
    '--upstream',
    '--max-connections',
    '--sync-mode',
    '--config',
    '--log-level',
  ]) {
    assert.match(stdout, new RegExp(flag), flag)
  }
})

test('cli smoke: a server on TCP, unix and ws answers the client on each', async (t) => {
  const dir = await makeTempDir(t)
  const socketDir = join(dir, 'x'.repeat(120))
  mkdirSync(socketDir)
  const socketPath = join(socketDir, 'pr.sock')
  const { child, addresses } = await startCliServer(
    t,
    [
      '--database',
      join(dir, 'pr.sqlite3'),
      '--bind',
      '127.0.0.1:0',
      '--bind',
      `unix://${socketPath}`,
      '--bind',
      'ws://127.0.0.1:0',
    ],
    3,
  )
  const [tcp, unix, ws] = addresses
  assert.ok(tcp !== undefined && unix !== undefined && ws !== undefined)
  assert.match(unix, /^unix:\/\//)
  assert.match(ws, /^ws:\/\//)
  const first = await prserv(['client', '--server', tcp, 'get-pr', 'v', 'a', 'c0'])
  assert.equal(first.stdout, '0\n')
  assert.equal((await prserv(['client', '--server', unix, 'get-pr', 'v', 'a', 'c1'])).stdout, '1\n')
  assert.equal((await prserv(['client', '--server', ws, 'max-package-pr', 'v', 'a'])).stdout, '1\n')
  const json = await prserv(['client', '--json', 'test-pr', 'v', 'a', 'c0'], {
    PRSERV_SERVER_ADDR: tcp,
  })
  assert.equal(json.stdout, '"0"\n')
  const exported = await prserv(['client', '--server', tcp, 'export', '--history'])
  assert.equal(exported.stdout, 'v\ta\tc0\t0\nv\ta\tc1\t1\n')
  await assert.rejects(
    prserv(['client', '--server', tcp, 'import-one', 'v', 'a', 'c', 'abc']),
    (err: unknown) => {
      assert.ok(err instanceof Error && 'code' in err)
      assert.equal(err.code, 1)
      return true
    },
  )
  child.kill('SIGTERM')
  const exitArgs: unknown[] = await once(child, 'exit')
  assert.equal(exitArgs[0], 0)
  assert.equal(existsSync(socketPath), false)
})

test('cli smoke: a bad flag value exits 2 naming the flag', async () => {
  await assert.rejects(prserv(['server', '--max-connections', 'lots']), (err: unknown) => {
    assert.ok(err instanceof Error && 'code' in err && 'stderr' in err)
    assert.equal(err.code, 2)
    assert.match(String(err.stderr), /--max-connections/)
    return true
  })
})
