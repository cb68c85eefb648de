// Development stand-in for the PR server: speaks the wire protocol with an in-memory store (no
// durability, no history). Not the server under test; it shows what the generator and the
// loopback alone can reach. Usage: --server-cmd 'node --import tsx bench/stand-in-server.ts --bind {bind}'
import { createServer, type Socket } from 'node:net'
import { parseArgs } from 'node:util'

interface PackageState {
  max: number
  readonly values: Map<string, number>
}

const packages = new Map<string, PackageState>()

function readField(body: unknown, key: string): string {
  if (typeof body !== 'object' || body === null || !(key in body)) throw new TypeError(key)
  const value: unknown = Reflect.get(body, key)
  if (typeof value !== 'string') throw new TypeError(key)
  return value
}

function findPackage(body: unknown): PackageState | undefined {
  return packages.get(`${readField(body, 'version')}\0${readField(body, 'pkgarch')}`)
}

function getPr(body: unknown): string {
  const key = `${readField(body, 'version')}\0${readField(body, 'pkgarch')}`
  const checksum = readField(body, 'checksum')
  let state = packages.get(key)
  if (state === undefined) {
    state = { max: -1, values: new Map() }
    packages.set(key, state)
  }
  let value = state.values.get(checksum)
  if (value === undefined || value < state.max) {
    value = state.max + 1
    state.max = value
    state.values.set(checksum, value)
  }
  return String(value)
}

/** Dispatch in the reference order (asyncrpc.md §6.2); null means close without a reply. */
function answer(message: unknown): string | null {
  if (typeof message !== 'object' || message === null) return null
  const body: unknown = Object.values(message)[0]
  if ('ping' in message) return '{"alive": true}'
  if ('get-pr' in message) return `{"value": "${getPr(body)}"}`
  if ('test-pr' in message) {
    const value = findPackage(body)?.values.get(readField(body, 'checksum'))
    return value === undefined ? '{"value": null}' : `{"value": "${value}"}`
  }
  if ('test-package' in message) return `{"value": ${String(findPackage(body) !== undefined)}}`
  if ('max-package-pr' in message) {
    const state = findPackage(body)
    return state === undefined ? '{"value": null}' : `{"value": "${state.max}"}`
  }
  return null
}

function serve(socket: Socket): void {
  socket.setNoDelay(true)
  socket.setEncoding('latin1')
  let buffer = ''
  let isInHandshake = true
  socket.on('data', (chunk: string) => {
    buffer += chunk
    let index = buffer.indexOf('\n')
    while (index !== -1) {
      const line = buffer.slice(0, index).trimEnd()
      buffer = buffer.slice(index + 1)
      index = buffer.indexOf('\n')
      if (isInHandshake) {
        // The handshake is the protocol line and header lines, ended by an empty line.
        isInHandshake = line !== ''
        continue
      }
      const reply = answer(JSON.parse(line))
      if (reply === null) {
        socket.destroy()
        return
      }
      socket.write(reply + '\n')
    }
  })
  socket.on('error', () => {
    // A client that vanishes is normal for a load generator; nothing to do.
  })
}

const { values } = parseArgs({ options: { bind: { type: 'string' } }, strict: false })
const bind = typeof values.bind === 'string' ? values.bind : '127.0.0.1:8585'
const separator = bind.lastIndexOf(':')
const server = createServer(serve)
server.listen(Number(bind.slice(separator + 1)), bind.slice(0, separator))
process.on('SIGTERM', () => {
  server.close()
  process.exit(0)
})
