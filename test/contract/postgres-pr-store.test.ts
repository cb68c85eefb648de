/**
 * Runs the PR store contract on PostgresPrStore against a real PostgreSQL (test/support/
 * postgres.ts): one fresh database per contract test, dropped when the test ends.
 */
import { openPostgresPrStore } from '../../src/storage/postgres/postgres-pr-store.js'
import { createTestDatabase } from '../support/postgres.js'
import { runPrStoreContract } from './pr-store.contract.js'
import type { ContractStoreHandle } from './pr-store.contract.js'

const MAX_CONNECTIONS = 4

runPrStoreContract('postgres', async ({ readOnly, shareWith }): Promise<ContractStoreHandle> => {
  if (shareWith !== undefined) {
    const url = shareWith.database
    const store = await openPostgresPrStore({ url, readOnly, maxConnections: MAX_CONNECTIONS })
    return { store, database: url, cleanup: () => store.close() }
  }
  const database = await createTestDatabase()
  const { url } = database
  // A read-only store needs the schema: let a read-write store create it.
  if (readOnly) {
    await (await openPostgresPrStore({ url, readOnly: false, maxConnections: 1 })).close()
  }
  const store = await openPostgresPrStore({ url, readOnly, maxConnections: MAX_CONNECTIONS })
  const cleanup = async (): Promise<void> => {
    await store.close()
    await database.drop()
  }
  return { store, database: url, cleanup }
})
