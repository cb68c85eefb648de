/**
 * Raw wire sessions for tests: write bytes to a server, then collect everything it sends until
 * it closes the connection. Bounded by a timeout, never by sleeps.
 */
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { once } from 'node:events'

/** Default bound on one raw session, in milliseconds. */
export const RAW_SESSION_TIMEOUT_MS = 10_000

/** Parses "host:port" or "[v6]:port" of a TCP address. */
export function tcpTarget(address: string): { host: string; port: number } {
  const match = /^\[?(.*?)\]?:(\d+)$/.exec(address)
  if (match === null) throw new Error(`not a TCP address: ${address}`)
  return { host: match[1] ?? '', port: Number(match[2]) }
}

/** Opens a raw TCP connection to a server address. */
export async function openRaw(address: string): Promise<Socket> {
  const { host, port } = tcpTarget(address)
  const socket = connect({ host, port })
  await once(socket, 'connect')
  return socket
}

/** Collects all bytes the peer sends until it closes; resolves with them as text. */
export async function readUntilClose(
  socket: Socket,
  timeoutMs = RAW_SESSION_TIMEOUT_MS,
): Promise<string> {
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.on('error', () => {
    // A reset after the server closed is the end of the session too.
  })
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    await once(socket, 'close', { signal })
  } finally {
    socket.destroy()
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Sends `input`, half-closes (the client has nothing more to say, as when it vanishes), and
 * returns everything the server sent before closing.
 */
export async function rawSession(address: string, input: string | Buffer): Promise<string> {
  const socket = await openRaw(address)
  const reply = readUntilClose(socket)
  socket.end(input)
  return reply
}
