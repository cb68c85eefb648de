// The bench scenarios as data, and the per-connection request source that plays one.
import {
  PING_LINE,
  formatChecksum,
  formatGetPrLine,
  formatMaxPackagePrLine,
  formatTestPrLine,
  type RequestKind,
} from './pr-requests.js'

/**
 * Every scenario, in the order runs play them (whatever order `--scenarios` lists them in).
 * `ping` runs right before `lookup` because `lookup / ping` compares them: on a shared machine
 * whose speed drifts over minutes, measurements taken a minute apart differ by more than the
 * effect under test.
 */
export const SCENARIO_NAMES = [
  'alloc-1',
  'alloc-64',
  'ping',
  'lookup',
  'mixed',
  'alloc-1-big',
] as const
export type ScenarioName = (typeof SCENARIO_NAMES)[number]

export function isScenarioName(value: string): value is ScenarioName {
  return SCENARIO_NAMES.some((name) => name === value)
}

/** Which database a scenario needs: the shared empty one, or one with a huge package. */
export type DatabaseKind = 'shared' | 'big'

/** One scenario: what every connection sends, in a closed loop. */
export interface ScenarioDefinition {
  readonly name: ScenarioName
  readonly description: string
  readonly database: DatabaseKind
  /** Request kinds each connection sends in turn; a fixed cycle gives exact proportions. */
  readonly cycle: readonly RequestKind[]
  /** Packages the allocations spread over (0: the scenario never allocates). */
  readonly allocPackageCount: number
  /** Whether the lookup packages must be pre-populated first. */
  readonly needsLookupSeed: boolean
}

/** 80% lookup, 15% allocation, 5% read-only probes (test-pr and max-package-pr). */
const MIXED_CYCLE: readonly RequestKind[] = [
  ...repeat<RequestKind>(['lookup', 'lookup', 'lookup', 'lookup', 'lookup', 'alloc'], 6),
  ...repeat<RequestKind>(['lookup', 'lookup', 'test-pr', 'max-package-pr'], 1),
]

export const SCENARIOS: Readonly<Record<ScenarioName, ScenarioDefinition>> = {
  ping: {
    name: 'ping',
    description: 'ping only: the protocol and loopback ceiling of the server',
    database: 'shared',
    cycle: ['ping'],
    allocPackageCount: 0,
    needsLookupSeed: false,
  },
  'alloc-1': {
    name: 'alloc-1',
    description: 'get-pr with a new checksum every request, all on one package',
    database: 'shared',
    cycle: ['alloc'],
    allocPackageCount: 1,
    needsLookupSeed: false,
  },
  'alloc-64': {
    name: 'alloc-64',
    description: 'get-pr with a new checksum every request, spread over 64 packages',
    database: 'shared',
    cycle: ['alloc'],
    allocPackageCount: 64,
    needsLookupSeed: false,
  },
  lookup: {
    name: 'lookup',
    description: 'get-pr for known checksums holding their package maximum: no write',
    database: 'shared',
    cycle: ['lookup'],
    allocPackageCount: 0,
    needsLookupSeed: true,
  },
  mixed: {
    name: 'mixed',
    description: '80% lookup, 15% alloc over 64 packages, 5% test-pr/max-package-pr',
    database: 'shared',
    cycle: MIXED_CYCLE,
    allocPackageCount: 64,
    needsLookupSeed: true,
  },
  'alloc-1-big': {
    name: 'alloc-1-big',
    description: 'alloc-1 on a package that already holds a million rows',
    database: 'big',
    cycle: ['alloc'],
    allocPackageCount: 1,
    needsLookupSeed: false,
  },
}

/** Everything a load process needs to play a scenario; plain data, sent over IPC. */
export interface RunSpec {
  readonly scenario: ScenarioName
  /** Versions (packages) that allocations go to, in order. */
  readonly allocVersions: readonly string[]
  readonly lookupPackageCount: number
}

/** One request ready to send. */
export interface BenchRequest {
  readonly kind: RequestKind
  readonly line: string
}

/** The version of lookup package `index`; each holds one row: its checksum with value "0". */
export function formatLookupVersion(index: number): string {
  return `bench-lookup-${index}`
}

export function formatLookupChecksum(index: number): string {
  return formatChecksum('', index)
}

/**
 * Returns a function producing the next request of one connection. Checksums for allocations
 * are `checksumPrefixHex` plus a counter, so the prefix must be unique per connection.
 */
export function createRequestSource(
  spec: RunSpec,
  connectionIndex: number,
  checksumPrefixHex: string,
): () => BenchRequest {
  const { cycle } = SCENARIOS[spec.scenario]
  let sentCount = 0
  let allocCount = 0
  // Start each connection at a different lookup package, so they do not walk in step.
  let lookupIndex = (connectionIndex * 7919) % Math.max(spec.lookupPackageCount, 1)
  const nextLookup = (): number => {
    lookupIndex = (lookupIndex + 1) % spec.lookupPackageCount
    return lookupIndex
  }
  return () => {
    const kind = elementAt(cycle, sentCount)
    sentCount += 1
    switch (kind) {
      case 'ping':
        return { kind, line: PING_LINE }
      case 'alloc': {
        const version = elementAt(spec.allocVersions, connectionIndex + allocCount)
        const checksum = formatChecksum(checksumPrefixHex, allocCount)
        allocCount += 1
        return { kind, line: formatGetPrLine(version, checksum) }
      }
      case 'lookup': {
        const index = nextLookup()
        return {
          kind,
          line: formatGetPrLine(formatLookupVersion(index), formatLookupChecksum(index)),
        }
      }
      case 'test-pr': {
        const index = nextLookup()
        return {
          kind,
          line: formatTestPrLine(formatLookupVersion(index), formatLookupChecksum(index)),
        }
      }
      case 'max-package-pr':
        return { kind, line: formatMaxPackagePrLine(formatLookupVersion(nextLookup())) }
      default: {
        const unreachable: never = kind
        return unreachable
      }
    }
  }
}

/** `items[index % items.length]`; throws on an empty list (a bug in a scenario table). */
function elementAt<T>(items: readonly T[], index: number): T {
  const item = items[index % items.length]
  if (item === undefined) throw new RangeError('empty list in a scenario')
  return item
}

function repeat<T>(items: readonly T[], times: number): T[] {
  return Array.from({ length: times }, () => items).flat()
}
