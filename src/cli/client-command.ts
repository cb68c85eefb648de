/**
 * `prserv client <command>`: one PR request per invocation. Prints plain values by default and
 * the reply as JSON with `--json`; any error exits non-zero.
 */
import type { Command } from 'commander'
import { parseClientFlags } from '../config/config-flags.js'
import { CLIENT_OPTIONS } from '../config/config-options.js'
import { loadClientConfig } from '../config/load-config.js'
import { PrClient } from '../client/pr-client.js'
import { createLogger } from '../observability/logger.js'
import { addOptions } from './cli-options.js'
import { EXPORT_MAX_REPLY_BYTES } from './server-export.js'

/** Process facts the client command needs, injected by main.ts. */
export interface ClientCommandEnv {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly readFile: (path: string) => string
  readonly cwd: string
  readonly stdout: (text: string) => void
}

/** A subcommand: its usage, and how it turns arguments into a printed result. */
interface ClientAction {
  readonly name: string
  readonly args: readonly string[]
  readonly description: string
  readonly hasHistoryFlag?: boolean
  readonly run: (client: PrClient, args: readonly string[], opts: ActionOpts) => Promise<unknown>
  /** Plain-text rendering of the result; JSON output uses the result as is. */
  readonly toText: (result: unknown) => string
}

interface ActionOpts {
  readonly history: boolean
  readonly version?: string
  readonly pkgarch?: string
  readonly checksum?: string
  readonly colinfo: boolean
  readonly audit: boolean
}

const showValue = (result: unknown): string =>
  typeof result === 'string' ? result : JSON.stringify(result)

function key(args: readonly string[]): { version: string; pkgarch: string; checksum: string } {
  return { version: args[0] ?? '', pkgarch: args[1] ?? '', checksum: args[2] ?? '' }
}

function showRows(result: unknown): string {
  if (typeof result !== 'object' || result === null || !('datainfo' in result)) return ''
  const rows: unknown = result.datainfo
  if (!Array.isArray(rows)) return ''
  return rows
    .map((row: unknown): unknown[] =>
      typeof row === 'object' && row !== null ? Object.values(row) : [],
    )
    .map((fields) => fields.map((f) => (typeof f === 'string' ? f : '-')).join('\t'))
    .join('\n')
}

const ACTIONS: readonly ClientAction[] = [
  {
    name: 'get-pr',
    args: ['version', 'pkgarch', 'checksum'],
    description: 'allocate (or look up) the revision of a build',
    hasHistoryFlag: true,
    run: (client, args, opts) => client.getPr(key(args), opts.history),
    toText: showValue,
  },
  {
    name: 'test-pr',
    args: ['version', 'pkgarch', 'checksum'],
    description: "show a checksum's revision without allocating (null if unknown)",
    hasHistoryFlag: true,
    run: (client, args, opts) => client.testPr(key(args), opts.history),
    toText: showValue,
  },
  {
    name: 'test-package',
    args: ['version', 'pkgarch'],
    description: 'whether the package has any revision (true/false)',
    run: (client, args) => client.testPackage(key(args)),
    toText: showValue,
  },
  {
    name: 'max-package-pr',
    args: ['version', 'pkgarch'],
    description: "the package's largest revision (null if none)",
    run: (client, args) => client.maxPackagePr(key(args)),
    toText: showValue,
  },
  {
    name: 'import-one',
    args: ['version', 'pkgarch', 'checksum', 'value'],
    description: 'store a revision verbatim (prints null on a read-only server)',
    run: (client, args) => client.importOne(key(args), args[3] ?? ''),
    toText: showValue,
  },
  {
    name: 'export',
    args: [],
    description: 'print rows as tab-separated version, pkgarch, checksum, value',
    hasHistoryFlag: true,
    run: (client, _args, opts) =>
      client.export({
        version: opts.version ?? null,
        pkgarch: opts.pkgarch ?? null,
        checksum: opts.checksum ?? null,
        colinfo: opts.colinfo,
        history: opts.history,
        audit: opts.audit,
      }),
    toText: showRows,
  },
  {
    name: 'is-readonly',
    args: [],
    description: 'whether the server is read-only (true/false)',
    run: (client) => client.isReadOnly(),
    toText: showValue,
  },
  {
    name: 'ping',
    args: [],
    description: 'check that the server answers (prints alive)',
    run: async (client) => ((await client.ping()) ? 'alive' : 'not alive'),
    toText: showValue,
  },
]

function readActionOpts(values: Readonly<Record<string, unknown>>): ActionOpts {
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
  const version = text(values.version)
  const pkgarch = text(values.pkgarch)
  const checksum = text(values.checksum)
  return {
    history: values.history === true,
    colinfo: values.colinfo === true,
    audit: values.audit === true,
    ...(version === undefined ? {} : { version }),
    ...(pkgarch === undefined ? {} : { pkgarch }),
    ...(checksum === undefined ? {} : { checksum }),
  }
}

/** Adds `client` and its subcommands to the program. */
export function registerClientCommand(program: Command, env: ClientCommandEnv): void {
  const client = program
    .command('client')
    .description('send one request to a PR server and print the answer')
    .option('--json', 'print the reply as JSON')
  addOptions(client, CLIENT_OPTIONS)
  for (const action of ACTIONS) {
    const sub = client.command(action.name).description(action.description)
    for (const arg of action.args) sub.argument(`<${arg}>`)
    if (action.hasHistoryFlag === true) sub.option('--history', 'use history mode')
    if (action.name === 'export') {
      sub
        .option('--version <version>', 'only this version')
        .option('--pkgarch <pkgarch>', 'only this package architecture')
        .option('--checksum <checksum>', 'only this checksum')
        .option('--colinfo', 'include column information (JSON output)')
        .option('--audit', 'include when and for whom each value was first stored')
    }
    sub.action(async (...received: unknown[]) => {
      const args = received.slice(0, action.args.length).map(String)
      const globals = sub.optsWithGlobals()
      const config = loadClientConfig({
        flags: parseClientFlags(globals),
        env: env.env,
        readFile: env.readFile,
        cwd: env.cwd,
      })
      const prClient = new PrClient({
        address: config.serverAddress.text,
        timeoutMs: config.timeoutMs,
        // An unfiltered `export` is one reply of every row.
        maxMessageBytes: EXPORT_MAX_REPLY_BYTES,
        logger: createLogger(config.logLevel),
      })
      try {
        const result = await action.run(prClient, args, readActionOpts(globals))
        const text = globals.json === true ? JSON.stringify(result) : action.toText(result)
        env.stdout(`${text}\n`)
      } finally {
        await prClient.close()
      }
    })
  }
}
