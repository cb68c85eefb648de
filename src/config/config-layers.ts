/**
 * Precedence. Each source of settings (config file section, environment, flags) becomes a
 * `Layer` keyed by the snake-case option key; a setting is resolved from a list of layers,
 * lowest precedence first, after every present value has been validated.
 */
import { failFor, formatValue, parseBoolean } from './config-values.js'
import type { Candidate, Fail } from './config-values.js'
import type { OptionSpec } from './config-options.js'
import { ConfigError } from '../protocol/errors.js'

/** One source of settings: option key → raw value and its source label. */
export type Layer = ReadonlyMap<string, Candidate>

/** A validated setting and where it came from (`default` when no layer had it). */
export interface Resolved<T> {
  readonly value: T
  readonly source: string
}

/** Source label of the built-in default. */
export const DEFAULT_SOURCE = 'default'

/** The flags layer: every flag that was given, labelled with its long name. */
export function buildFlagLayer<F>(specs: readonly OptionSpec<F>[], flags: F): Layer {
  const layer = new Map<string, Candidate>()
  for (const spec of specs) {
    const raw: unknown = flags[spec.flagKey]
    const isEmptyList = Array.isArray(raw) && raw.length === 0
    if (raw !== undefined && !isEmptyList) layer.set(spec.key, { raw, source: spec.long })
  }
  return layer
}

/** The environment layer: every variable that is set and not blank, labelled with its name. */
export function buildEnvLayer<F>(
  specs: readonly OptionSpec<F>[],
  env: Readonly<Record<string, string | undefined>>,
): Layer {
  const layer = new Map<string, Candidate>()
  for (const spec of specs) {
    const raw = spec.envName === null ? undefined : env[spec.envName]
    if (spec.envName !== null && raw !== undefined && raw.trim() !== '') {
      layer.set(spec.key, { raw, source: spec.envName })
    }
  }
  return layer
}

/** A config file layer for one mapping, labelled `<label>.<key> in <path>`. */
export function buildFileLayer(
  mapping: Readonly<Record<string, unknown>>,
  label: string,
  path: string,
): Layer {
  const entries = Object.entries(mapping).map(([key, raw]): [string, Candidate] => [
    key,
    { raw, source: `${label}.${key} in ${path}` },
  ])
  return new Map(entries)
}

/** Validates every layer's value for `key` and returns the highest one, or the fallback. */
export function resolveSetting<T>(
  key: string,
  layers: readonly Layer[],
  parse: (raw: unknown, fail: Fail) => T,
  fallback: T,
): Resolved<T> {
  let resolved: Resolved<T> = { value: fallback, source: DEFAULT_SOURCE }
  for (const layer of layers) {
    const candidate = layer.get(key)
    if (candidate !== undefined) {
      resolved = { value: parse(candidate.raw, failFor(key, candidate)), source: candidate.source }
    }
  }
  return resolved
}

/**
 * The default history mode from the `history` and `nohist` keys. Within one layer both may be
 * given only if they agree (`history: true` with `nohist: false`); `false` selects the other.
 */
export function resolveDefaultHistory(
  layers: readonly Layer[],
  fallback: boolean,
): Resolved<boolean> {
  let resolved: Resolved<boolean> = { value: fallback, source: DEFAULT_SOURCE }
  for (const layer of layers) {
    const history = layer.get('history')
    const nohist = layer.get('nohist')
    const isHistory =
      history === undefined ? undefined : parseBoolean(history.raw, failFor('history', history))
    const isNohist =
      nohist === undefined ? undefined : parseBoolean(nohist.raw, failFor('nohist', nohist))
    if (history !== undefined && nohist !== undefined && isHistory === isNohist) {
      throw new ConfigError(
        `Conflicting history ${formatValue(history.raw)} from ${history.source} and nohist ` +
          `${formatValue(nohist.raw)} from ${nohist.source}: they are mutually exclusive`,
      )
    }
    if (history !== undefined) resolved = { value: isHistory === true, source: history.source }
    else if (nohist !== undefined) resolved = { value: isNohist === false, source: nohist.source }
  }
  return resolved
}

/** Parses a built-in default through the same validation as user values. */
export function parseDefault<T>(
  key: string,
  raw: unknown,
  parse: (raw: unknown, fail: Fail) => T,
): T {
  return parse(raw, failFor(key, { raw, source: DEFAULT_SOURCE }))
}
