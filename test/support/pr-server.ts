/**
 * Starts real PR servers for end-to-end tests: configuration through the same loader as the
 * CLI, a silent logger, and cleanup registered on the test context.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { pino } from 'pino'
import type { ServerFlags } from '../../src/config/config-flags.js'
import { loadServerConfig } from '../../src/config/load-config.js'
import { startServer } from '../../src/cli/server-command.js'
import type { ServerHandle } from '../../src/cli/server-command.js'
import { PrClient } from '../../src/client/pr-client.js'

/** A silent logger for servers under test. */
export const silentLogger = pino({ level: 'silent' })

function missingFile(path: string): never {
  throw Object.assign(new Error(`no such file: ${path}`), { code: 'ENOENT' })
}

/** A temp directory removed after the test. */
export async function makeTempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prserv-test-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Starts a server from CLI-style flags (bind defaults to 127.0.0.1:0) and closes it after. */
export async function startTestServer(
  t: TestContext,
  flags: ServerFlags & { readonly database: string },
): Promise<ServerHandle> {
  const config = loadServerConfig({
    flags: { bind: ['127.0.0.1:0'], ...flags },
    env: {},
    readFile: missingFile,
    cwd: tmpdir(),
  })
  const handle = await startServer(config, { logger: silentLogger })
  t.after(() => handle.close())
  return handle
}

/** The first address of a server. */
export function addressOf(handle: ServerHandle): string {
  const address = handle.addresses[0]
  if (address === undefined) throw new Error('server has no address')
  return address
}

/** A PR client closed after the test; no retries, so a failure shows at once. */
export function connectClient(t: TestContext, address: string): PrClient {
  const client = new PrClient({ address, maxAttempts: 1, timeoutMs: 10_000 })
  t.after(() => client.close())
  return client
}
