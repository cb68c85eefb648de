/**
 * A TCP proxy for failure tests: forwards to a target, or acts as a network partition
 * ("black hole": connections are accepted, bytes go nowhere, nothing comes back).
 */
import { once } from 'node:events'
import { createConnection, createServer } from 'node:net'
import type { Socket } from 'node:net'

/** How the proxy treats traffic. */
export type ProxyMode = 'forward' | 'black-hole'

/** A running proxy on 127.0.0.1. */
export interface TcpProxy {
  readonly port: number
  /** `url` with its host and port replaced by the proxy's. */
  proxiedUrl(url: string): string
  /**
   * Switches mode. Entering 'black-hole' silences every open connection; leaving it resets
   * the silenced connections, as a healed partition eventually does.
   */
  setMode(mode: ProxyMode): void
  close(): Promise<void>
}

/** Starts a proxy to `targetHost:targetPort`. */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward'
  const pairs = new Set<{ client: Socket; upstream: Socket | null }>()
  const server = createServer((client) => {
    const pair: { client: Socket; upstream: Socket | null } = { client, upstream: null }
    pairs.add(pair)
    client.on('error', () => {
      // A reset client is the expected end of a black-holed connection.
    })
    client.on('close', () => {
      pair.upstream?.destroy()
      pairs.delete(pair)
    })
    if (mode === 'black-hole') {
      client.resume()
      return
    }
    const upstream = createConnection(targetPort, targetHost)
    pair.upstream = upstream
    upstream.on('error', () => {
      client.destroy()
    })
    upstream.on('close', () => {
      client.destroy()
    })
    client.pipe(upstream)
    upstream.pipe(client)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    port,
    proxiedUrl(url: string): string {
      const proxied = new URL(url)
      proxied.hostname = '127.0.0.1'
      proxied.port = String(port)
      return proxied.toString()
    },
    setMode(next: ProxyMode): void {
      if (next === mode) return
      mode = next
      for (const pair of pairs) {
        if (next === 'black-hole') {
          pair.client.unpipe()
          pair.upstream?.unpipe()
          pair.client.resume()
          pair.upstream?.pause()
        } else {
          pair.client.destroy()
        }
      }
    },
    async close(): Promise<void> {
      for (const pair of pairs) pair.client.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}
