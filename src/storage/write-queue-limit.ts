/**
 * The one default bound of a store's write queue (`--max-pending-writes`): operations waiting
 * for a batch, across all connections, before new ones fail with "database overloaded". Every
 * store and the configuration use it, so a store opened without a configuration (the data
 * tools, tests) behaves like a configured server.
 */
export const DEFAULT_MAX_PENDING_WRITES = 10_000
