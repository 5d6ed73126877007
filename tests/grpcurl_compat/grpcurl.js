#!/usr/bin/env node
// A small grpcurl stand-in for ekv's compatibility test (grpcurl itself is not installable here).
//
//   node grpcurl.js -plaintext [-d JSON|@] [-emit-defaults] [-max-time S] [-connect-timeout S]
//                   [-H 'name: value']... HOST:PORT SERVICE/METHOD
//   node grpcurl.js -plaintext HOST:PORT list [SERVICE]
//
// Like grpcurl it knows no .proto files: every descriptor comes from the server's reflection
// service (grpc.reflection.v1, falling back to v1alpha). Request and response JSON follow the
// protobuf JSON mapping (protobufjs/ext/protojson): camelCase field names (proto names are
// accepted on input), bytes as base64, 64-bit integers as strings, enums by name, fields with
// default values left out unless -emit-defaults. Output is indented by two spaces.
//
// Exit status, as grpcurl: 0 on success; 64 + the gRPC status code when the RPC fails (the status
// goes to stderr as "ERROR:\n  Code: <Name>\n  Message: <text>"); 1 on any other error; 2 on usage.
'use strict';

const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const protobuf = require('protobufjs');
const protojson = require('protobufjs/ext/protojson');
const { GrpcReflection } = require('grpc-js-reflection-client');

const STATUS_CODE_OFFSET = 64;
// Go's codes.Code.String(), which is what grpcurl prints.
const CODE_NAMES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound',
  'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted',
  'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];

const USAGE = `Usage:
  node grpcurl.js -plaintext [flags] HOST:PORT SERVICE/METHOD
  node grpcurl.js -plaintext [flags] HOST:PORT list [SERVICE]
Flags:
  -plaintext            use plain-text HTTP/2 (required: TLS is not supported here)
  -d DATA               request JSON; '@' reads it from stdin (default: empty message)
  -emit-defaults        print fields that hold default values too
  -H 'name: value'      request metadata (repeatable)
  -max-time SECONDS     deadline of the whole operation
  -connect-timeout SECONDS  time allowed to connect (default 10)`;

class UsageError extends Error {}
class FatalError extends Error {}

function parseArgs(argv) {
  const opts = { plaintext: false, data: undefined, emitDefaults: false, headers: [],
    maxTime: undefined, connectTimeout: 10, positional: [] };
  const valueFlags = new Set(['d', 'H', 'max-time', 'connect-timeout']);
  const boolFlags = new Set(['plaintext', 'emit-defaults']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (opts.positional.length > 0 || !arg.startsWith('-') || arg === '-') {
      opts.positional.push(arg);
      continue;
    }
    let name = arg.replace(/^--?/, '');
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) { value = name.slice(eq + 1); name = name.slice(0, eq); }
    if (name === 'help' || name === 'h') { process.stdout.write(USAGE + '\n'); process.exit(0); }
    if (boolFlags.has(name)) {
      const on = value === undefined || value === 'true';
      if (name === 'plaintext') opts.plaintext = on; else opts.emitDefaults = on;
      continue;
    }
    if (!valueFlags.has(name)) throw new UsageError(`flag provided but not defined: -${name}`);
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
      value = argv[++i];
    }
    if (name === 'd') opts.data = value;
    else if (name === 'H') opts.headers.push(value);
    else {
      const seconds = Number(value);
      if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`invalid value for -${name}: ${value}`);
      if (name === 'max-time') opts.maxTime = seconds; else opts.connectTimeout = seconds;
    }
  }
  if (!opts.plaintext) throw new UsageError('only -plaintext connections are supported');
  if (opts.positional.length < 2) throw new UsageError('too few arguments');
  return opts;
}

function metadataOf(headers) {
  const md = new grpc.Metadata();
  for (const h of headers) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError(`invalid header (want 'name: value'): ${h}`);
    md.add(h.slice(0, colon).trim().toLowerCase(), h.slice(colon + 1).trim());
  }
  return md;
}

function deadlineAfter(seconds) {
  return seconds === undefined ? Infinity : new Date(Date.now() + seconds * 1000);
}

async function waitConnected(address, seconds) {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    await new Promise((resolve, reject) => client.waitForReady(deadlineAfter(seconds), (err) => (err ? reject(err) : resolve())));
  } catch (e) {
    throw new FatalError(`Failed to dial target host "${address}": context deadline exceeded`);
  } finally {
    client.close();
  }
}

function isUnimplemented(e) {
  return /UNIMPLEMENTED|\b12\b/.test(String(e && e.message));
}

// Runs fn(reflectionClient) against reflection v1, and against v1alpha if the server lacks v1.
async function withReflection(address, fn) {
  let lastError;
  for (const version of ['v1', 'v1alpha']) {
    const refl = new GrpcReflection(address, grpc.credentials.createInsecure(), {}, version);
    try {
      return await fn(refl);
    } catch (e) {
      lastError = e;
      if (!isUnimplemented(e)) break;
    }
  }
  throw new FatalError(`server reflection failed: ${lastError && lastError.message}`);
}

async function listServices(address) {
  const names = await withReflection(address, (r) => r.listServices());
  return [...names].sort();
}

async function resolveService(address, serviceName) {
  const root = await withReflection(address, async (r) => {
    const services = await r.listServices();
    if (!services.includes(serviceName)) return null;
    return (await r.getDescriptorBySymbol(serviceName)).getProtobufJsRoot();
  });
  if (!root) throw new FatalError(`target server does not expose service "${serviceName}"`);
  if (!(root instanceof protobuf.Root)) throw new FatalError('reflection client uses a different protobufjs than grpcurl.js');
  const service = root.lookupService(serviceName);
  service.resolveAll();
  return service;
}

function defaultJsonValue(field) {
  if (field.map) return {};
  if (field.repeated) return [];
  if (field.resolvedType instanceof protobuf.Type) return null;
  if (field.resolvedType instanceof protobuf.Enum) {
    const name = field.resolvedType.valuesById[0];
    return name === undefined ? 0 : name;
  }
  switch (field.type) {
    case 'string': case 'bytes': return '';
    case 'bool': return false;
    case 'int64': case 'uint64': case 'sint64': case 'fixed64': case 'sfixed64': return '0';
    default: return 0;
  }
}

// protojson leaves default-valued fields out, as grpcurl does; -emit-defaults puts them back
// (in field order), recursing into present sub-messages.
function withDefaults(type, json) {
  const out = {};
  for (const field of type.fieldsArray) {
    const key = field.jsonName;
    const sub = field.resolvedType instanceof protobuf.Type ? field.resolvedType : null;
    if (Object.prototype.hasOwnProperty.call(json, key)) {
      let v = json[key];
      if (sub && !sub.fullName.startsWith('.google.protobuf.')) {
        if (field.map) v = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withDefaults(sub, x)]));
        else if (field.repeated) v = v.map((x) => withDefaults(sub, x));
        else v = withDefaults(sub, v);
      }
      out[key] = v;
    } else if (!field.partOf) {
      out[key] = defaultJsonValue(field);
    }
  }
  return out;
}

function readRequestJson(data) {
  let text = data === '@' ? fs.readFileSync(0, 'utf8') : (data === undefined ? '' : data);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FatalError(`error getting request data: ${e.message}`);
  }
}

async function invoke(opts, address, target) {
  const m = /^\/?([^/]+)[/.]([^/.]+)$/.exec(target);
  if (!m) throw new UsageError(`invalid method name "${target}" (want SERVICE/METHOD)`);
  const [, serviceName, methodName] = m;
  const service = await resolveService(address, serviceName);
  const method = service.methods[methodName];
  if (!method) throw new FatalError(`service "${serviceName}" does not include a method named "${methodName}"`);
  if (method.requestStream || method.responseStream) throw new FatalError('only unary methods are supported');
  const reqType = method.resolvedRequestType;
  const respType = method.resolvedResponseType;

  let request;
  try {
    request = protojson.fromJson(reqType, readRequestJson(opts.data));
  } catch (e) {
    if (e instanceof FatalError) throw e;
    throw new FatalError(`error getting request data: ${e.message}`);
  }

  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    const response = await new Promise((resolve, reject) => {
      client.makeUnaryRequest(`/${serviceName}/${methodName}`,
        (msg) => Buffer.from(reqType.encode(msg).finish()),
        (buf) => respType.decode(buf),
        request, metadataOf(opts.headers), { deadline: deadlineAfter(opts.maxTime) },
        (err, resp) => (err ? reject(err) : resolve(resp)));
    });
    let json = protojson.toJson(respType, response);
    if (opts.emitDefaults) json = withDefaults(respType, json);
    return json;
  } finally {
    client.close();
  }
}

async function main(opts) {
  const [address, verb, ...rest] = opts.positional;
  await waitConnected(address, opts.connectTimeout);
  if (verb === 'list') {
    if (rest.length === 0) return (await listServices(address)).join('\n') + '\n';
    const service = await resolveService(address, rest[0]);
    return Object.keys(service.methods).map((n) => `${rest[0]}.${n}`).sort().join('\n') + '\n';
  }
  if (rest.length > 0) throw new UsageError('too many arguments');
  return JSON.stringify(await invoke(opts, address, verb), null, 2) + '\n';
}

function finish(code, out, err) {
  if (err) process.stderr.write(err);
  // Exit only after stdout drained (it may be a pipe); open channels would keep node alive.
  process.stdout.write(out || '', () => process.exit(code));
}

function run() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    return finish(2, '', `${e.message}\n${USAGE}\n`);
  }
  if (opts.maxTime !== undefined) {
    setTimeout(() => finish(STATUS_CODE_OFFSET + 4, '',
      'ERROR:\n  Code: DeadlineExceeded\n  Message: context deadline exceeded\n'), opts.maxTime * 1000).unref();
  }
  main(opts).then((out) => finish(0, out), (e) => {
    if (e instanceof UsageError) return finish(2, '', `${e.message}\n${USAGE}\n`);
    if (typeof e.code === 'number' && e.details !== undefined) {
      const name = CODE_NAMES[e.code] || `Code(${e.code})`;
      return finish(STATUS_CODE_OFFSET + e.code, '', `ERROR:\n  Code: ${name}\n  Message: ${e.details}\n`);
    }
    return finish(1, '', `Error: ${e.message}\n`);
  });
}

run();
