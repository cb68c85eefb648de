/** Runs the PR store contract on SqlitePrStore, one temp directory per database. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSqlitePrStore } from '../../src/storage/sqlite/sqlite-pr-store.js'
import { runPrStoreContract } from './pr-store.contract.js'
import type { ContractStoreHandle } from './pr-store.contract.js'

runPrStoreContract('sqlite', async ({ readOnly, shareWith }): Promise<ContractStoreHandle> => {
  if (shareWith !== undefined) {
    const store = await openSqlitePrStore({ path: shareWith.database, readOnly })
    return { store, database: shareWith.database, cleanup: () => store.close() }
  }
  const dir = await mkdtemp(join(tmpdir(), 'prserv-sqlite-contract-'))
  const path = join(dir, 'prserv.sqlite3')
  // A read-only store needs an existing database: let a read-write store create it.
  if (readOnly) await (await openSqlitePrStore({ path, readOnly: false })).close()
  const store = await openSqlitePrStore({ path, readOnly })
  const cleanup = async (): Promise<void> => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
  return { store, database: path, cleanup }
})
