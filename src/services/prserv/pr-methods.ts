/**
 * The PR service's wire methods (prserv.md §3), in BitBake's dispatch order, and the
 * RpcService that the RPC server runs.
 */
import { encodeJson } from '../../protocol/codec.js'
import { InvalidParamsError } from '../../protocol/errors.js'
import { defineMethod, StreamedResult } from '../../rpc/method.js'
import type { MethodDefinition, RpcService } from '../../rpc/method.js'
import type { Body } from '../../rpc/params.js'
import {
  optionalBoolean,
  optionalInteger,
  optionalString,
  parseBody,
  requireString,
} from '../../rpc/params.js'
import { DEFAULT_EXPORT_PAGE_ROWS } from './pr-export-stream.js'
import {
  fieldTextProblem,
  isFullHistoryExport,
  isUnfilteredExport,
  pageUnfilteredExport,
} from './pr-store.js'
import type { AuditedPrRow, ExportFilter, PackageKey, PrKey } from './pr-store.js'
import type { PrService } from './pr-service.js'
import { isRevision } from './revision.js'

/** Handshake name of the PR protocol. */
export const PR_PROTOCOL_NAME = 'PRSERVICE'

/** The PR-service version reported in export metadata (the BitBake release we follow). */
export const PR_CORE_VERSION = '2.19.0'

/** `export` metadata with `colinfo: true`: BitBake's PRMAIN column description (§7). */
export const PR_COLUMN_INFO = {
  tbl_name: 'PRMAIN',
  core_ver: PR_CORE_VERSION,
  col_info: [
    { name: 'version', type: 'TEXT', notnull: 1, dflt_value: null, pk: 1 },
    { name: 'pkgarch', type: 'TEXT', notnull: 1, dflt_value: null, pk: 2 },
    { name: 'checksum', type: 'TEXT', notnull: 1, dflt_value: null, pk: 3 },
    { name: 'value', type: 'TEXT', notnull: 0, dflt_value: null, pk: 4 },
  ],
} as const

/** Parsed `get-pr` / `test-pr` params. */
export interface PrQueryParams {
  readonly key: PrKey
  readonly history: boolean
}

/** Parsed `import-one` params; `sentValue` is echoed back exactly as received. */
export interface ImportOneParams {
  readonly key: PrKey
  readonly value: string
  readonly sentValue: string | number
}

/** Parsed `export` params. `audit` (our extension) adds `created` and `peer` to rows. */
export interface ExportParams {
  readonly filter: ExportFilter
  readonly colinfo: boolean
  readonly audit: boolean
  /** Our paging extension (`after`, `limit`): one page of a full export; null: all rows. */
  readonly page: ExportPageRequest | null
}

/** The rows at positions above `after`, at most `limit` of them. */
export interface ExportPageRequest {
  readonly after: number
  readonly limit: number
}

/** Most rows one page of a paged `export` may ask for. */
export const MAX_EXPORT_PAGE_ROWS = 10_000

/** The PR service has no per-connection state. */
export type PrSession = null

export function parsePackageKey(command: string, body: Body): PackageKey {
  return {
    version: requireField(command, 'version', body.version),
    pkgarch: requireField(command, 'pkgarch', body.pkgarch),
  }
}

function parsePrKey(command: string, body: Body): PrKey {
  return {
    version: requireField(command, 'version', body.version),
    pkgarch: requireField(command, 'pkgarch', body.pkgarch),
    checksum: requireField(command, 'checksum', body.checksum),
  }
}

/** A required key field: a string a store accepts (fieldTextProblem). */
function requireField(command: string, field: string, value: unknown): string {
  return checkField(command, field, requireString(command, field, value))
}

/** An optional filter field, as `optionalString`, that a store accepts when given. */
function optionalField(command: string, field: string, value: unknown): string | null {
  const text = optionalString(command, field, value)
  return text === null ? null : checkField(command, field, text)
}

function checkField(command: string, field: string, text: string): string {
  const problem = fieldTextProblem(text)
  if (problem !== null) throw new InvalidParamsError(`${command}: field "${field}" ${problem}`)
  return text
}

/** Parser for `get-pr`/`test-pr`: a missing `history` (clients before 2.10) takes the default. */
export function createPrQueryParser(
  command: string,
  defaultHistory: boolean,
): (body: unknown) => PrQueryParams {
  return (raw) => {
    const body = parseBody(command, raw)
    return {
      key: parsePrKey(command, body),
      history: optionalBoolean(command, 'history', body.history, defaultHistory),
    }
  }
}

/** Parser for `import-one`: the value must be a revision, as a string or a whole number. */
export function parseImportOneParams(raw: unknown): ImportOneParams {
  const command = 'import-one'
  const body = parseBody(command, raw)
  const sent = body.value
  let value: string
  if (typeof sent === 'string') value = sent
  else if (typeof sent === 'number' && Number.isSafeInteger(sent) && sent >= 0) value = `${sent}`
  else throw new InvalidParamsError(`${command}: field "value" must be a revision string`)
  checkField(command, 'value', value)
  if (!isRevision(value)) {
    throw new InvalidParamsError(
      `${command}: value ${JSON.stringify(value)} is not a revision (dot-separated numbers)`,
    )
  }
  return { key: parsePrKey(command, body), value, sentValue: sent }
}

/** Parser for `export`; missing filters mean "no restriction". */
export function createExportParser(defaultHistory: boolean): (body: unknown) => ExportParams {
  const command = 'export'
  return (raw) => {
    const body = parseBody(command, raw)
    const filter: ExportFilter = {
      version: optionalField(command, 'version', body.version),
      pkgarch: optionalField(command, 'pkgarch', body.pkgarch),
      checksum: optionalField(command, 'checksum', body.checksum),
      history: optionalBoolean(command, 'history', body.history, defaultHistory),
    }
    return {
      filter,
      colinfo: optionalBoolean(command, 'colinfo', body.colinfo, false),
      audit: optionalBoolean(command, 'audit', body.audit, false),
      page: parseExportPage(command, body, filter),
    }
  }
}

/** The paging extension: `limit` asks for a page (of a full history export only). */
function parseExportPage(
  command: string,
  body: Body,
  filter: ExportFilter,
): ExportPageRequest | null {
  const limit = optionalInteger(command, 'limit', body.limit, 1, MAX_EXPORT_PAGE_ROWS)
  const after = optionalInteger(command, 'after', body.after, 0, Number.MAX_SAFE_INTEGER)
  if (limit === null) {
    if (after !== null) throw new InvalidParamsError(`${command}: "after" needs "limit"`)
    return null
  }
  if (!isFullHistoryExport(filter)) {
    throw new InvalidParamsError(
      `${command}: a paged export ("limit") needs "history": true and no filter`,
    )
  }
  return { after: after ?? 0, limit }
}

function toWireRow(row: AuditedPrRow, audit: boolean): Record<string, string | null> {
  const wire = {
    version: row.version,
    pkgarch: row.pkgarch,
    checksum: row.checksum,
    value: row.value,
  }
  return audit ? { ...wire, created: row.createdAt, peer: row.peer } : wire
}

/**
 * The reply to an unpaged, unfiltered export (what BitBake's clients ask for), sent as its
 * pages are read so that a table of any size goes out in bounded memory: the text encodeJson
 * makes of `{ metainfo, datainfo }`, rows in insertion order. Each page is its own snapshot,
 * so rows stored while it is sent may or may not be in it.
 */
async function* unfilteredExportReply(
  pages: AsyncIterable<readonly AuditedPrRow[]>,
  metainfo: object,
  audit: boolean,
): AsyncGenerator<string> {
  yield `{"metainfo": ${encodeJson(metainfo)}, "datainfo": [`
  let separator = ''
  for await (const rows of pages) {
    yield separator + rows.map((row) => encodeJson(toWireRow(row, audit))).join(', ')
    separator = ', '
  }
  yield ']}'
}

const ignoreBody = (): null => null

/** Builds the method table in BitBake's dispatch order (prserv.md §3). */
export function createPrMethods(service: PrService): readonly MethodDefinition<PrSession>[] {
  return [
    defineMethod({ name: 'ping', parseParams: ignoreBody, handle: () => ({ alive: true }) }),
    defineMethod({
      name: 'get-pr',
      parseParams: createPrQueryParser('get-pr', service.defaultHistory),
      handle: async (p: PrQueryParams, ctx) => ({
        value: await service.getPr(p.key, p.history, { peer: ctx.peer }),
      }),
    }),
    defineMethod({
      name: 'test-pr',
      parseParams: createPrQueryParser('test-pr', service.defaultHistory),
      handle: async (p: PrQueryParams) => ({ value: await service.testPr(p.key, p.history) }),
    }),
    defineMethod({
      name: 'test-package',
      parseParams: (raw) => parsePackageKey('test-package', parseBody('test-package', raw)),
      handle: async (pkg: PackageKey) => ({ value: await service.testPackage(pkg) }),
    }),
    defineMethod({
      name: 'max-package-pr',
      parseParams: (raw) => parsePackageKey('max-package-pr', parseBody('max-package-pr', raw)),
      handle: async (pkg: PackageKey) => ({ value: await service.maxPackagePr(pkg) }),
    }),
    defineMethod({
      name: 'import-one',
      // A read-only server answers a bare null without reading the body (prserv.md §3).
      parseParams: (raw) => (service.isReadOnly ? null : parseImportOneParams(raw)),
      handle: async (p: ImportOneParams | null, ctx) => {
        if (p === null) return null
        const stored = await service.importOne(p.key, p.value, { peer: ctx.peer })
        return stored ? { value: p.sentValue } : null
      },
    }),
    defineMethod({
      name: 'export',
      parseParams: createExportParser(service.defaultHistory),
      handle: async (p: ExportParams) => {
        const metainfo = p.colinfo ? PR_COLUMN_INFO : {}
        if (p.page !== null) {
          const { rows, last } = await service.exportPage(p.page.after, p.page.limit)
          return { metainfo, datainfo: rows.map((row) => toWireRow(row, p.audit)), last }
        }
        if (isUnfilteredExport(p.filter)) {
          const pages = pageUnfilteredExport(service, p.filter.history, DEFAULT_EXPORT_PAGE_ROWS)
          return new StreamedResult(unfilteredExportReply(pages, metainfo, p.audit))
        }
        const rows = await service.exportRows(p.filter)
        return { metainfo, datainfo: rows.map((row) => toWireRow(row, p.audit)) }
      },
    }),
    defineMethod({
      name: 'is-readonly',
      parseParams: ignoreBody,
      handle: () => ({ readonly: service.isReadOnly }),
    }),
  ]
}

/** The PR service as the RPC server runs it. */
export function createPrRpcService(service: PrService): RpcService<PrSession> {
  return {
    protocolName: PR_PROTOCOL_NAME,
    // PRSERVICE accepts exactly (1, 0): "1.0", "01.0", "1.00" (asyncrpc.md §5.2).
    acceptsVersion: (version) => version.length === 2 && version[0] === 1 && version[1] === 0,
    methods: createPrMethods(service),
    createSession: () => null,
  }
}
