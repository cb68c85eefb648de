/**
 * BitBake's address syntax (asyncrpc.md §2.2): `unix://path`, `ws://…`/`wss://…`,
 * `[v6]:port`, `host:port`. Parsing is pure; nothing here resolves names or opens sockets.
 */
import { resolve } from 'node:path'
import { AddressError, parseAddress } from '../protocol/address.js'
import type { RpcAddress } from '../protocol/address.js'
import type { NetworkAddress, TcpAddress } from './config.js'
import type { Fail } from './config-values.js'

const ANY_HINT = 'expected host:port, [ipv6]:port, unix://path or ws://host:port[/path]'
const TCP_HINT = 'expected host:port or [ipv6]:port (TCP only)'

/** Parses one address; a relative Unix socket path is resolved against `cwd`. */
export function parseNetworkAddress(text: string, cwd: string, fail: Fail): NetworkAddress {
  const trimmed = text.trim()
  let address: RpcAddress
  try {
    address = parseAddress(trimmed)
  } catch (err: unknown) {
    if (err instanceof AddressError) return fail(err.reason)
    throw err
  }
  switch (address.kind) {
    case 'unix':
      return { ...address, path: resolve(cwd, address.path), text: trimmed }
    case 'websocket':
    case 'tcp':
      return { ...address, text: trimmed }
    default:
      return fail(`unknown address ${JSON.stringify(address satisfies never)}`)
  }
}

/** An upstream or peer TCP address: `host:port` or `[v6]:port` with a host and a port ≥ 1. */
export function parseTcpAddress(raw: unknown, fail: Fail): TcpAddress {
  if (typeof raw !== 'string') return fail(TCP_HINT)
  const address = parseNetworkAddress(raw, '/', fail)
  if (address.kind !== 'tcp') return fail(TCP_HINT)
  if (address.host === '' || address.port === 0) return fail('expected a host and a port 1-65535')
  return address
}

/**
 * A TCP address to listen on (`metrics_bind`): `host:port` or `[v6]:port`; an empty host is
 * every interface, port 0 a free port.
 */
export function parseTcpListenAddress(raw: unknown, fail: Fail): TcpAddress {
  if (typeof raw !== 'string') return fail(TCP_HINT)
  const address = parseNetworkAddress(raw, '/', fail)
  if (address.kind !== 'tcp') return fail(TCP_HINT)
  return address
}

/** An address to connect to: any syntax, but TCP and WebSocket need a host and a port ≥ 1. */
export function parseConnectAddress(raw: unknown, cwd: string, fail: Fail): NetworkAddress {
  if (typeof raw !== 'string') return fail(ANY_HINT)
  const address = parseNetworkAddress(raw, cwd, fail)
  if (address.kind !== 'unix' && (address.host === '' || address.port === 0)) {
    return fail('expected a host and a port 1-65535')
  }
  return address
}

/**
 * Listen addresses: one string, a comma-separated string, or a list of strings (file `bind_addr`,
 * repeated `--bind`). At least one is required.
 */
export function parseListenAddresses(raw: unknown, cwd: string, fail: Fail): NetworkAddress[] {
  const texts = typeof raw === 'string' ? raw.split(',') : raw
  if (!Array.isArray(texts)) return fail('expected an address or a list of addresses')
  const isSeveral = texts.length > 1 || Array.isArray(raw)
  const addresses = texts.map((text: unknown) => {
    if (typeof text !== 'string') return fail('expected every address to be a string')
    // In a list, say which element is wrong.
    const failOne: Fail = isSeveral ? (reason) => fail(`${JSON.stringify(text)}: ${reason}`) : fail
    return text.trim() === '' ? undefined : parseNetworkAddress(text, cwd, failOne)
  })
  const present = addresses.filter((address) => address !== undefined)
  if (present.length === 0) return fail('expected at least one address')
  return present
}

/**
 * What two listeners must not share: the socket path, or host and port (TCP and WebSocket
 * collide on the same port). Null for port 0, which never collides.
 */
export function toListenKey(address: NetworkAddress): string | null {
  if (address.kind === 'unix') return `unix:${address.path}`
  if (address.port === 0) return null
  return `inet:${address.host.toLowerCase()}:${address.port}`
}
