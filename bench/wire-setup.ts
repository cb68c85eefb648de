// Set-up and verification requests sent over the wire outside the measuring window.
import { describeError } from './describe-error.js'
import { formatGetPrLine, formatMaxPackagePrLine, readReplyValue } from './pr-requests.js'
import { formatLookupChecksum, formatLookupVersion } from './scenarios.js'
import { WireConnection } from './wire-connection.js'

const SETUP_CONNECTION_COUNT = 16
const CONNECT_TIMEOUT_MS = 5_000

export class WireSetupError extends Error {
  override name = 'WireSetupError'
}

/** Allocates the one checksum of each lookup package (value "0"), over parallel connections. */
export async function seedLookupPackages(host: string, port: number, count: number): Promise<void> {
  let nextIndex = 0
  await withConnections(host, port, async (connection) => {
    while (nextIndex < count) {
      const index = nextIndex
      nextIndex += 1
      const line = formatGetPrLine(formatLookupVersion(index), formatLookupChecksum(index))
      const value = readReplyValue(parseReply(await connection.request(line)))
      if (value !== '0') {
        throw new WireSetupError(
          `seeding lookup package ${index}: expected "0", got ${JSON.stringify(value)}`,
        )
      }
    }
  })
}

/** max-package-pr of each version as a number; -1 for a package with no rows. */
export async function readPackageMaxima(
  host: string,
  port: number,
  versions: readonly string[],
): Promise<number[]> {
  const maxima: number[] = []
  const connection = await WireConnection.open(host, port, CONNECT_TIMEOUT_MS)
  try {
    for (const version of versions) {
      const value = readReplyValue(
        parseReply(await connection.request(formatMaxPackagePrLine(version))),
      )
      if (value === null) maxima.push(-1)
      else if (typeof value === 'string' && /^\d+$/.test(value)) maxima.push(Number(value))
      else
        throw new WireSetupError(
          `max-package-pr ${version}: unexpected value ${JSON.stringify(value)}`,
        )
    }
  } finally {
    await connection.close()
  }
  return maxima
}

async function withConnections(
  host: string,
  port: number,
  work: (connection: WireConnection) => Promise<void>,
): Promise<void> {
  const connections = await Promise.all(
    Array.from({ length: SETUP_CONNECTION_COUNT }, () =>
      WireConnection.open(host, port, CONNECT_TIMEOUT_MS),
    ),
  )
  try {
    await Promise.all(connections.map(work))
  } finally {
    await Promise.all(connections.map((connection) => connection.close()))
  }
}

function parseReply(line: string): unknown {
  try {
    return JSON.parse(line)
  } catch (error: unknown) {
    throw new WireSetupError(`unparsable reply '${line.slice(0, 200)}': ${describeError(error)}`)
  }
}
