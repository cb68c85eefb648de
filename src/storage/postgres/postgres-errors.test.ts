import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { StorageError } from '../../protocol/errors.js'
import { isUnavailableError, timeoutError, toStorageError } from './postgres-errors.js'

/** An error shaped like the driver's: a PostgresError with a SQLSTATE, or a coded Error. */
function driverError(name: string, code: string): Error {
  return Object.assign(new Error(`${name} ${code}`), { name, code })
}

void test('postgres errors: unreachable, restarting and overloaded servers are "unavailable"', () => {
  for (const error of [
    driverError('Error', 'ECONNREFUSED'),
    driverError('Error', 'ECONNRESET'),
    driverError('Error', 'CONNECTION_CLOSED'),
    driverError('Error', 'CONNECT_TIMEOUT'),
    driverError('PostgresError', '57P01'),
    driverError('PostgresError', '57P03'),
    driverError('PostgresError', '08006'),
    driverError('PostgresError', '53300'),
    timeoutError('get-pr', 100),
  ]) {
    assert.equal(isUnavailableError(error), true, error.message)
  }
  for (const error of [
    driverError('PostgresError', '23505'),
    driverError('PostgresError', '42P01'),
    driverError('Error', 'UNDEFINED_VALUE'),
    new Error('plain'),
    'not an error',
  ]) {
    assert.equal(isUnavailableError(error), false, String(error))
  }
})

void test('postgres errors: messages name the failure without SQL or addresses', () => {
  const refused = toStorageError(driverError('Error', 'ECONNREFUSED'), 'get-pr')
  assert.equal(refused.message, 'database unavailable (ECONNREFUSED) during get-pr')
  assert.ok(refused.cause instanceof Error)
  const lock = toStorageError(driverError('PostgresError', '55P03'), 'allocation')
  assert.equal(lock.message, 'database busy: package lock wait timed out during allocation')
  const other = toStorageError(driverError('PostgresError', '42P01'), 'export')
  assert.equal(other.message, 'database error (SQLSTATE 42P01) during export')
  const own = new StorageError('store closed during get-pr')
  assert.equal(toStorageError(own, 'x'), own)
  assert.equal(
    timeoutError('get-pr', 250).message,
    'database unavailable (no answer within 250 ms) during get-pr',
  )
})
