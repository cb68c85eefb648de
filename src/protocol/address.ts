/**
 * BitBake's address syntax (asyncrpc.md §2.2), parsed and formatted. Pure: nothing here resolves
 * names, touches the file system or opens sockets.
 */
import { ConfigError } from './errors.js'

/** TCP: `HOST:PORT` or `[IPV6]:PORT`; an empty host means all interfaces. */
export interface TcpRpcAddress {
  readonly kind: 'tcp'
  /** Host name or IP literal, without brackets; '' for all interfaces. */
  readonly host: string
  readonly port: number
}

/** A Unix domain socket: `unix://PATH`, PATH verbatim (it may be relative). */
export interface UnixRpcAddress {
  readonly kind: 'unix'
  readonly path: string
}

/** A WebSocket: `ws://HOST:PORT[/path]` or `wss://…`. */
export interface WebSocketRpcAddress {
  readonly kind: 'websocket'
  /** The whole address, used as-is by clients. */
  readonly url: string
  readonly isSecure: boolean
  /** Host without brackets; '' for all interfaces. */
  readonly host: string
  /** The port, or 80/443 when the URI names none. */
  readonly port: number
}

/** Any parsed address. */
export type RpcAddress = TcpRpcAddress | UnixRpcAddress | WebSocketRpcAddress

const UNIX_PREFIX = 'unix://'
const MAX_PORT = 65_535
const BRACKETED_PATTERN = /^\[([^\]]*)\]:([0-9]+)$/
const PORT_PATTERN = /^[0-9]+$/
const WEBSOCKET_PATTERN = /^(wss?):\/\/([^/?#]*)/
const HINT = 'expected HOST:PORT, [IPV6]:PORT, unix://PATH or ws://HOST:PORT[/path]'

/** An address that does not parse; `reason` says why, without repeating the address. */
export class AddressError extends ConfigError {
  override name = 'AddressError'
  readonly reason: string
  constructor(text: string, reason: string) {
    super(`invalid address ${JSON.stringify(text)}: ${reason}`)
    this.reason = reason
  }
}

function failAddress(text: string, reason: string): never {
  throw new AddressError(text, reason)
}

function parsePort(text: string, portText: string): number {
  if (!PORT_PATTERN.test(portText)) failAddress(text, HINT)
  const port = Number.parseInt(portText, 10)
  if (port > MAX_PORT) failAddress(text, `port must be 0-${MAX_PORT}`)
  return port
}

function parseTcp(text: string): TcpRpcAddress {
  const bracketed = BRACKETED_PATTERN.exec(text)
  if (bracketed !== null) {
    return { kind: 'tcp', host: bracketed[1] ?? '', port: parsePort(text, bracketed[2] ?? '') }
  }
  const parts = text.split(':')
  if (parts.length !== 2) failAddress(text, HINT)
  const [host = '', portText = ''] = parts
  return { kind: 'tcp', host, port: parsePort(text, portText) }
}

function splitHostPort(text: string, hostPort: string, defaultPort: number): [string, number] {
  if (hostPort.startsWith('[')) {
    const bracketEnd = hostPort.indexOf(']')
    if (bracketEnd === -1) failAddress(text, 'unclosed "[" in host')
    const host = hostPort.slice(1, bracketEnd)
    const rest = hostPort.slice(bracketEnd + 1)
    if (rest === '') return [host, defaultPort]
    if (!rest.startsWith(':')) failAddress(text, HINT)
    return [host, parsePort(text, rest.slice(1))]
  }
  const colon = hostPort.indexOf(':')
  if (colon === -1) return [hostPort, defaultPort]
  return [hostPort.slice(0, colon), parsePort(text, hostPort.slice(colon + 1))]
}

function parseWebSocket(text: string, match: RegExpExecArray): WebSocketRpcAddress {
  const isSecure = match[1] === 'wss'
  const authority = match[2] ?? ''
  // Drop user information; the server binds by host and port only.
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1)
  const [host, port] = splitHostPort(text, hostPort, isSecure ? 443 : 80)
  return { kind: 'websocket', url: text, isSecure, host, port }
}

/**
 * Parses an address like BitBake, in order: `unix://PATH`; `ws://`/`wss://` URIs; `[HOST]:PORT`;
 * otherwise exactly one `:` splitting host and port (so a bare `::1:8686` is refused). Throws
 * AddressError naming the text.
 */
export function parseAddress(text: string): RpcAddress {
  if (text.startsWith(UNIX_PREFIX)) {
    const path = text.slice(UNIX_PREFIX.length)
    if (path === '') failAddress(text, 'expected a socket path after unix://')
    return { kind: 'unix', path }
  }
  const websocket = WEBSOCKET_PATTERN.exec(text)
  if (websocket !== null) return parseWebSocket(text, websocket)
  return parseTcp(text)
}

/** `HOST:PORT`, with brackets around an IPv6 literal: `[::1]:8585`. */
export function formatTcpAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** `unix://PATH`. */
export function formatUnixAddress(path: string): string {
  return UNIX_PREFIX + path
}

/** `ws://HOST:PORT`, with brackets around an IPv6 literal. */
export function formatWebSocketAddress(host: string, port: number): string {
  return `ws://${formatTcpAddress(host, port)}`
}

/** Formats any address in BitBake syntax (a WebSocket address is its URI). */
export function formatAddress(address: RpcAddress): string {
  switch (address.kind) {
    case 'tcp':
      return formatTcpAddress(address.host, address.port)
    case 'unix':
      return formatUnixAddress(address.path)
    case 'websocket':
      return address.url
  }
}
