/**
 * The backend-independent contract of `PrStore` (src/services/prserv/pr-store.ts). Each
 * backend's runner (sqlite-pr-store.test.ts, postgres-pr-store.test.ts) calls
 * `runPrStoreContract` with a factory; every test opens its own fresh database.
 */
import { describe } from 'node:test'
import type { TestContext } from 'node:test'
import type { PrStore } from '../../src/services/prserv/pr-store.js'
import { registerConcurrencyTests } from './pr-store-concurrency.contract.js'
import { registerExportTests } from './pr-store-export.contract.js'
import { registerImportRowsTests } from './pr-store-import-rows.contract.js'
import { registerLocalAllocationTests } from './pr-store-local.contract.js'
import { registerUpstreamTests } from './pr-store-upstream.contract.js'

/** A store opened by a backend factory for one test. */
export interface ContractStoreHandle {
  readonly store: PrStore
  /**
   * Backend-specific name of the database (file path, database or schema name). Opaque to
   * the suite; the factory reads it back from `shareWith`.
   */
  readonly database: string
  /**
   * Closes the store. The handle that created the database also removes it: the suite calls
   * `cleanup` of the handles of one test in reverse order of opening, so stores sharing a
   * database are closed before its creator drops it.
   */
  readonly cleanup: () => Promise<void>
}

/** What the suite asks a backend factory for. */
export interface ContractStoreOptions {
  /** Open the store read-only. */
  readonly readOnly: boolean
  /**
   * Open on the database of this earlier handle (same test). Without it: a fresh database,
   * initialised empty (as a read-write store would leave it) even when `readOnly` is true.
   */
  readonly shareWith?: ContractStoreHandle
}

/** A backend's factory: opens a store as asked. */
export type ContractStoreFactory = (options: ContractStoreOptions) => Promise<ContractStoreHandle>

/**
 * What the contract tests use: opens a store for test `t` (cleaned up, LIFO, when it ends);
 * `shareWith` names an earlier store of the same test whose database to open.
 */
export type OpenStore = (
  t: TestContext,
  options: { readonly readOnly: boolean; readonly shareWith?: PrStore },
) => Promise<PrStore>

function createOpener(factory: ContractStoreFactory): OpenStore {
  const handles = new WeakMap<PrStore, ContractStoreHandle>()
  const perTest = new WeakMap<TestContext, ContractStoreHandle[]>()
  return async (t, { readOnly, shareWith }) => {
    const shared = shareWith === undefined ? undefined : handles.get(shareWith)
    if (shareWith !== undefined && shared === undefined) {
      throw new Error('shareWith: store not opened by this suite')
    }
    let opened = perTest.get(t)
    if (opened === undefined) {
      const list: ContractStoreHandle[] = []
      opened = list
      perTest.set(t, list)
      t.after(async () => {
        for (const handle of list.reverse()) await handle.cleanup()
      })
    }
    const handle = await factory(
      shared === undefined ? { readOnly } : { readOnly, shareWith: shared },
    )
    opened.push(handle)
    handles.set(handle.store, handle)
    return handle.store
  }
}

/**
 * Registers the whole PR store contract for one backend. `backendName` prefixes test names;
 * `createStore` must give each call without `shareWith` a fresh, empty database.
 */
export function runPrStoreContract(backendName: string, createStore: ContractStoreFactory): void {
  const open = createOpener(createStore)
  void describe(`${backendName} PR store contract`, () => {
    registerLocalAllocationTests(open)
    registerUpstreamTests(open)
    registerExportTests(open)
    registerImportRowsTests(open)
    registerConcurrencyTests(open)
  })
}
