/**
 * Datasets: either the `server.datasets` list of the config file, or one dataset named
 * `default` built from the single-dataset keys. Checks that names, databases and listen
 * addresses are not shared.
 */
import { ConfigError } from '../protocol/errors.js'
import {
  DEFAULT_BIND_ADDRESS,
  DEFAULT_DATABASE_PATH,
  DEFAULT_DATASET_NAME,
  DEFAULT_HISTORY,
  DEFAULT_IS_READ_ONLY,
} from './config.js'
import type { DatasetConfig, StorageConfig, TcpAddress } from './config.js'
import type { ConfigFile } from './config-file.js'
import {
  buildFileLayer,
  DEFAULT_SOURCE,
  parseDefault,
  resolveDefaultHistory,
  resolveSetting,
} from './config-layers.js'
import type { Layer } from './config-layers.js'
import { formatValue, parseBoolean, parseDatasetName, parseStorage } from './config-values.js'
import type { Fail } from './config-values.js'
import { parseListenAddresses, parseTcpAddress, toListenKey } from './network-address.js'

/** What dataset resolution needs. */
export interface ResolveDatasetsInput {
  /** The config file, or null when none was read. */
  readonly file: ConfigFile | null
  /** The server section of the file, the environment and the flags, lowest first. */
  readonly layers: readonly [file: Layer, env: Layer, flags: Layer]
  /** Directory relative paths are resolved against. */
  readonly cwd: string
  /** Receives problems that do not stop startup. */
  readonly warnings: string[]
}

/** A dataset plus where its name, database and listen addresses came from. */
interface TrackedDataset {
  readonly dataset: DatasetConfig
  readonly sources: { readonly name: string; readonly database: string; readonly bind: string }
}

/** Only the dataset list decides these; a server-wide value would be ambiguous. */
const PER_DATASET_KEYS = ['database', 'bind_addr'] as const
const REQUIRED_KEYS = ['name', ...PER_DATASET_KEYS] as const

/** Every dataset, validated and checked for shared names, databases and listen addresses. */
export function resolveDatasets(input: ResolveDatasetsInput): DatasetConfig[] {
  const { file } = input
  const tracked =
    file === null || file.datasets === null
      ? [resolveDataset(DEFAULT_DATASET_NAME, DEFAULT_SOURCE, input.layers, input)]
      : resolveDeclared(file.datasets, file.path, input)
  checkDistinct(tracked)
  return tracked.map((entry) => entry.dataset)
}

function resolveDeclared(
  entries: readonly Readonly<Record<string, unknown>>[],
  path: string,
  input: ResolveDatasetsInput,
): TrackedDataset[] {
  for (const key of PER_DATASET_KEYS) {
    for (const layer of input.layers) {
      const candidate = layer.get(key)
      if (candidate !== undefined) {
        throw new ConfigError(
          `Invalid ${key} ${formatValue(candidate.raw)} from ${candidate.source}: ` +
            `server.datasets in ${path} is set, so give ${key} on each dataset instead`,
        )
      }
    }
  }
  const [fileLayer, envLayer, flagLayer] = input.layers
  return entries.map((entry, index) => {
    const label = `server.datasets[${index}]`
    const entryLayer = buildFileLayer(entry, label, path)
    for (const key of REQUIRED_KEYS) {
      if (!entryLayer.has(key)) throw new ConfigError(`Missing ${label}.${key} in ${path}`)
    }
    const name = resolveSetting('name', [entryLayer], parseDatasetName, '')
    const layers = [fileLayer, entryLayer, envLayer, flagLayer]
    return resolveDataset(name.value, name.source, layers, input)
  })
}

function resolveDataset(
  name: string,
  nameSource: string,
  layers: readonly Layer[],
  input: ResolveDatasetsInput,
): TrackedDataset {
  const { cwd } = input
  const toStorage = (raw: unknown, fail: Fail) => parseStorage(raw, cwd, fail)
  const toListen = (raw: unknown, fail: Fail) => parseListenAddresses(raw, cwd, fail)
  const defaultStorage = parseDefault('database', DEFAULT_DATABASE_PATH, toStorage)
  const storage = resolveSetting<StorageConfig>('database', layers, toStorage, defaultStorage)
  const defaultListen = parseDefault('bind_addr', DEFAULT_BIND_ADDRESS, toListen)
  const listen = resolveSetting('bind_addr', layers, toListen, defaultListen)
  const isReadOnly = resolveSetting('read_only', layers, parseBoolean, DEFAULT_IS_READ_ONLY)
  const upstream = resolveSetting<TcpAddress | null>('upstream', layers, parseTcpAddress, null)
  const defaultHistory = resolveDefaultHistory(layers, DEFAULT_HISTORY)
  for (const address of listen.value) {
    if (address.kind === 'websocket' && address.isSecure) {
      input.warnings.push(
        `bind_addr ${formatValue(address.text)} from ${listen.source} listens without TLS; ` +
          'terminate TLS in a proxy in front of it',
      )
    }
  }
  const dataset: DatasetConfig = {
    name,
    storage: storage.value,
    listen: listen.value,
    isReadOnly: isReadOnly.value,
    upstream: upstream.value,
    defaultHistory: defaultHistory.value,
  }
  return { dataset, sources: { name: nameSource, database: storage.source, bind: listen.source } }
}

/** What two datasets must not share; null for a database that cannot collide. */
function toStorageKey(storage: StorageConfig): string | null {
  if (storage.kind === 'sqlite') return storage.path === ':memory:' ? null : storage.path
  const url = new URL(storage.url)
  const port = url.port === '' ? '5432' : url.port
  return `postgres:${url.hostname.toLowerCase()}:${port}${url.pathname}`
}

interface Claim {
  readonly dataset: string
  readonly source: string
}

function checkDistinct(tracked: readonly TrackedDataset[]): void {
  const names = new Map<string, Claim>()
  const databases = new Map<string, Claim>()
  const listeners = new Map<string, Claim>()
  for (const { dataset, sources } of tracked) {
    const owner = (source: string): Claim => ({ dataset: dataset.name, source })
    claim(names, dataset.name, `name ${formatValue(dataset.name)}`, owner(sources.name))
    const storageText =
      dataset.storage.kind === 'sqlite' ? dataset.storage.path : dataset.storage.url
    const databaseLabel = `database ${formatValue(storageText)}`
    claim(databases, toStorageKey(dataset.storage), databaseLabel, owner(sources.database))
    for (const address of dataset.listen) {
      const label = `bind_addr ${formatValue(address.text)}`
      claim(listeners, toListenKey(address), label, owner(sources.bind))
    }
  }
}

function claim(seen: Map<string, Claim>, key: string | null, label: string, owner: Claim): void {
  if (key === null) return
  const previous = seen.get(key)
  if (previous !== undefined) {
    throw new ConfigError(
      `Duplicate ${label}: dataset "${previous.dataset}" (${previous.source}) and ` +
        `dataset "${owner.dataset}" (${owner.source}) must not share it`,
    )
  }
  seen.set(key, owner)
}
