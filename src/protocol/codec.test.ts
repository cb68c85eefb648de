import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeJson, encodeJson, encodeJsonString } from './codec.js'
import { ProtocolError } from './errors.js'

test('codec: encodes with Python json.dumps spacing, escaping and key order', () => {
  const value = {
    a: [1, 'x', null, true, 1.5],
    b: {},
    c: [],
    é: '\u00e9\u{1F600}\u007f\u001f\n\t"\\/\u2028',
  }
  // Output of Python 3: json.dumps(<the same dict>)
  const python =
    '{"a": [1, "x", null, true, 1.5], "b": {}, "c": [], "\\u00e9": ' +
    '"\\u00e9\\ud83d\\ude00\\u007f\\u001f\\n\\t\\"\\\\/\\u2028"}'
  assert.equal(encodeJson(value), python)
})

test('codec: reproduces the reference replies byte for byte', () => {
  assert.equal(encodeJson({ alive: true }), '{"alive": true}')
  assert.equal(encodeJson({ 'chunk-stream': null }), '{"chunk-stream": null}')
  assert.equal(
    encodeJson({ 'invoke-error': { message: 'm' } }),
    '{"invoke-error": {"message": "m"}}',
  )
  assert.equal(encodeJson('ok'), '"ok"')
  assert.equal(encodeJson(null), 'null')
})

test('codec: the output is pure ASCII', () => {
  const encoded = encodeJson({ text: 'Grüße 你好 \u{1F680} \ud800' })
  assert.match(encoded, /^[\x20-\x7e]*$/)
  assert.deepEqual(decodeJson(encoded), { text: 'Grüße 你好 \u{1F680} \ud800' })
  assert.equal(encodeJsonString('\ud800'), '"\\ud800"')
})

test('codec: values without a JSON form behave like JSON.stringify', () => {
  assert.equal(encodeJson({ a: undefined, b: () => 1, c: 2 }), '{"c": 2}')
  assert.equal(encodeJson([undefined, Number.NaN, Infinity]), '[null, null, null]')
  assert.equal(encodeJson(undefined), 'null')
  assert.equal(encodeJson(new Date(Date.UTC(2026, 0, 2))), '"2026-01-02T00:00:00.000Z"')
  assert.equal(encodeJson(12345678901234567890n), '12345678901234567890')
})

test('codec: round-trips nested values', () => {
  const value = {
    list: [{ x: [[], {}, ''] }, -0.25, 1e21],
    empty: '',
    nested: { deep: { x: false } },
  }
  assert.deepEqual(decodeJson(encodeJson(value)), value)
})

test('codec: decodes any valid JSON, whitespace and escapes included', () => {
  assert.deepEqual(decodeJson(' {"b":1,\n"a" : [ "\\u00e9" ] } '), { b: 1, a: ['é'] })
  assert.equal(decodeJson('null'), null)
  assert.equal(decodeJson('"x"'), 'x')
})

test('codec: rejects invalid JSON with a ProtocolError', () => {
  for (const text of ['', '{', '{"a": }', "{'a': 1}", 'NaN', '{"a": 1}x']) {
    assert.throws(() => decodeJson(text), ProtocolError, text)
  }
})
