#!/usr/bin/env node
// node expect.js ACTUAL_FILE EXPECTED_JSON [--sort FIELD:KEY]...
// Compares the JSON in ACTUAL_FILE with EXPECTED_JSON exactly (same members, same values, same
// array order): a field the expectation leaves out must be absent, as grpcurl leaves out fields
// holding default values. An expected string "~REGEX" matches any string that REGEX matches.
// --sort routes:start first sorts the array member `routes` of the actual object by the bytes of
// its elements' base64 member `start` (key order).
// Exit 0 when equal; otherwise prints both sides and the first difference, exit 1.
'use strict';

const fs = require('fs');

function fail(msg) {
  process.stderr.write(msg + '\n');
  process.exit(1);
}

const [actualFile, expectedText, ...rest] = process.argv.slice(2);
if (!actualFile || expectedText === undefined) fail('usage: node expect.js ACTUAL_FILE EXPECTED_JSON [--sort FIELD:KEY]');
let actual;
let expected;
try { actual = JSON.parse(fs.readFileSync(actualFile, 'utf8')); } catch (e) { fail(`actual output is not JSON: ${e.message}`); }
try { expected = JSON.parse(expectedText); } catch (e) { fail(`expectation is not JSON: ${e.message}`); }

for (let i = 0; i < rest.length; i++) {
  if (rest[i] !== '--sort' || !rest[i + 1]) fail(`bad option ${rest[i]}`);
  const [field, key] = rest[++i].split(':');
  if (Array.isArray(actual[field])) {
    const bytes = (x) => Buffer.from(String(x[key] ?? ''), 'base64');
    actual[field].sort((a, b) => Buffer.compare(bytes(a), bytes(b)));
  }
}

function diff(path, exp, act) {
  if (typeof exp === 'string' && exp.startsWith('~')) {
    return typeof act === 'string' && new RegExp(exp.slice(1)).test(act) ? null : `${path}: want match of /${exp.slice(1)}/, got ${JSON.stringify(act)}`;
  }
  if (Array.isArray(exp)) {
    if (!Array.isArray(act)) return `${path}: want an array, got ${JSON.stringify(act)}`;
    if (exp.length !== act.length) return `${path}: want ${exp.length} elements, got ${act.length}`;
    for (let i = 0; i < exp.length; i++) {
      const d = diff(`${path}[${i}]`, exp[i], act[i]);
      if (d) return d;
    }
    return null;
  }
  if (exp !== null && typeof exp === 'object') {
    if (act === null || typeof act !== 'object' || Array.isArray(act)) return `${path}: want an object, got ${JSON.stringify(act)}`;
    for (const k of Object.keys(exp)) {
      if (!(k in act)) return `${path}.${k}: missing (want ${JSON.stringify(exp[k])})`;
      const d = diff(`${path}.${k}`, exp[k], act[k]);
      if (d) return d;
    }
    for (const k of Object.keys(act)) {
      if (!(k in exp)) return `${path}.${k}: unexpected member ${JSON.stringify(act[k])}`;
    }
    return null;
  }
  return exp === act ? null : `${path}: want ${JSON.stringify(exp)}, got ${JSON.stringify(act)}`;
}

const d = diff('$', expected, actual);
if (d) fail(`mismatch: ${d}\n  want: ${JSON.stringify(expected)}\n  got:  ${JSON.stringify(actual)}`);
