/**
 * `prserv server` of the built CLI (dist/, made by `npm run build` before the tests) as a child
 * process, killed after the test.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'

/** The built CLI's entry point. */
export const CLI_MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

const START_TIMEOUT_MS = 20_000

/**
 * Starts `prserv server ARGS` (Node.js given `nodeFlags`), resolving with its listening
 * addresses once `expectedListeners` are logged.
 */
export async function startCliServer(
  t: TestContext,
  args: readonly string[],
  expectedListeners: number,
  nodeFlags: readonly string[] = [],
): Promise<{ child: ChildProcess; addresses: string[] }> {
  const child = spawn(process.execPath, [...nodeFlags, CLI_MAIN, 'server', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const addresses: string[] = []
  const lines = createInterface({ input: child.stderr })
  const signal = AbortSignal.timeout(START_TIMEOUT_MS)
  for await (const line of lines) {
    signal.throwIfAborted()
    const record: unknown = JSON.parse(line)
    if (typeof record === 'object' && record !== null && 'msg' in record && 'address' in record) {
      if (record.msg === 'listening') addresses.push(String(record.address))
    }
    if (addresses.length === expectedListeners) break
  }
  // Later logs are not read, but must not fill the pipe and block the server.
  child.stderr.resume()
  return { child, addresses }
}
