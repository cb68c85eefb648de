/**
 * Finds, reads and structurally checks the config file: YAML for `.yaml`/`.yml`, JSON
 * otherwise; `server:` and `client:` sections; unknown keys are errors. Values are checked later,
 * by the loader, so their errors can say which layer won.
 */
import { extname, isAbsolute, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { ConfigError } from '../protocol/errors.js'
import { DEFAULT_CONFIG_FILE } from './config.js'
import { CLIENT_OPTIONS, DATASET_KEYS, SERVER_OPTIONS } from './config-options.js'
import { isRecord, parseText } from './config-values.js'
import type { Layer } from './config-layers.js'
import { DEFAULT_SOURCE, resolveSetting } from './config-layers.js'

/** A config file after structural checks. Keys whose value is null are dropped (= absent). */
export interface ConfigFile {
  /** Absolute path, used in every message about a value from this file. */
  readonly path: string
  /** The `server:` section without `datasets`. */
  readonly server: Readonly<Record<string, unknown>>
  /** The entries of `server.datasets`, or null when the key is absent. */
  readonly datasets: readonly Readonly<Record<string, unknown>>[] | null
  /** The `client:` section. */
  readonly client: Readonly<Record<string, unknown>>
}

/** What locating and reading the config file needs. */
export interface ReadConfigFileInput {
  /** The env and flag layers, lowest first; only their `config` key is used. */
  readonly layers: readonly Layer[]
  /** Reads a UTF-8 file; throws an error with `code: 'ENOENT'` when it does not exist. */
  readonly readFile: (path: string) => string
  /** Directory relative paths are resolved against. */
  readonly cwd: string
}

const SECTION_KEYS = {
  server: [...SERVER_OPTIONS.filter((o) => o.isFileKey).map((o) => o.key), 'datasets'],
  client: CLIENT_OPTIONS.filter((o) => o.isFileKey).map((o) => o.key),
} as const

/**
 * Reads the file named by `--config`/`PRSERV_CONFIG`, or `prserv.json` in `cwd`. Returns null
 * when the default file does not exist; an explicitly named missing file is a ConfigError.
 */
export function readConfigFile(input: ReadConfigFileInput): ConfigFile | null {
  const { value, source } = resolveSetting('config', input.layers, parseText, DEFAULT_CONFIG_FILE)
  const path = isAbsolute(value) ? value : resolve(input.cwd, value)
  const text = readText(path, source, input.readFile)
  if (text === null) return null
  const document = parseDocument(path, text)
  const server = checkSection(document['server'], 'server', path)
  const datasets = checkDatasets(server['datasets'], path)
  const client = checkSection(document['client'], 'client', path)
  return { path, server: omitKey(server, 'datasets'), datasets, client }
}

function readText(path: string, source: string, readFile: (path: string) => string): string | null {
  try {
    return readFile(path)
  } catch (error: unknown) {
    const isMissing = isRecord(error) && error['code'] === 'ENOENT'
    if (isMissing && source === DEFAULT_SOURCE) return null
    const reason = isMissing ? 'does not exist' : `cannot be read (${describeError(error)})`
    throw new ConfigError(`Config file ${path} from ${source} ${reason}`, { cause: error })
  }
}

function parseDocument(path: string, text: string): Readonly<Record<string, unknown>> {
  if (text.trim() === '') return {}
  const isYaml = ['.yaml', '.yml'].includes(extname(path).toLowerCase())
  let document: unknown
  try {
    document = isYaml ? parseYaml(text) : JSON.parse(text)
  } catch (error: unknown) {
    const format = isYaml ? 'YAML' : 'JSON'
    throw new ConfigError(`Config file ${path} is not valid ${format}: ${describeError(error)}`, {
      cause: error,
    })
  }
  const top = checkMapping(document, 'the document', path)
  checkKeys(top, ['server', 'client'], '', path)
  return top
}

function checkSection(
  value: unknown,
  section: keyof typeof SECTION_KEYS,
  path: string,
): Readonly<Record<string, unknown>> {
  const mapping = checkMapping(value, section, path)
  checkKeys(mapping, SECTION_KEYS[section], `${section}.`, path)
  return mapping
}

function checkDatasets(value: unknown, path: string): Readonly<Record<string, unknown>>[] | null {
  if (value === undefined) return null
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigError(`Invalid server.datasets in ${path}: expected a non-empty list`)
  }
  return value.map((entry: unknown, index) => {
    const label = `server.datasets[${index}]`
    const mapping = checkMapping(entry, label, path)
    checkKeys(mapping, DATASET_KEYS, `${label}.`, path)
    return mapping
  })
}

/** A mapping with null-valued keys dropped; a missing or null section is empty. */
function checkMapping(
  value: unknown,
  label: string,
  path: string,
): Readonly<Record<string, unknown>> {
  if (value === undefined || value === null) return {}
  if (!isRecord(value)) {
    throw new ConfigError(`Invalid ${label} in ${path}: expected a mapping of keys to values`)
  }
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== null))
}

function checkKeys(
  mapping: Readonly<Record<string, unknown>>,
  allowed: readonly string[],
  prefix: string,
  path: string,
): void {
  for (const key of Object.keys(mapping)) {
    if (!allowed.includes(key)) {
      const expected = allowed.join(', ')
      throw new ConfigError(`Unknown key ${prefix}${key} in ${path} (expected one of: ${expected})`)
    }
  }
}

function omitKey(
  mapping: Readonly<Record<string, unknown>>,
  omitted: string,
): Readonly<Record<string, unknown>> {
  return Object.fromEntries(Object.entries(mapping).filter(([key]) => key !== omitted))
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
