// ekv's DynamoDB front door driven by the real AWS SDK for JavaScript v3
// (@aws-sdk/client-dynamodb and @aws-sdk/lib-dynamodb), against a running 3-node cluster.
//
//   node sdk_test.js PORT_N1 PORT_N2 PORT_N3
//
// Every check prints PASS or FAIL; the last line is "dynamo-sdk: N passed, M failed" and the
// exit code is non-zero when anything failed. The SDK signs requests with SigV4 using the
// fake credentials below; ekv accepts them without checking (auth is not verified yet).
"use strict";

const {
  DynamoDBClient, CreateTableCommand, DescribeTableCommand, ListTablesCommand,
  DeleteTableCommand, GetItemCommand, waitUntilTableExists,
} = require("@aws-sdk/client-dynamodb");
const {
  DynamoDBDocumentClient, PutCommand, GetCommand, UpdateCommand, DeleteCommand, QueryCommand,
  ScanCommand, BatchWriteCommand, BatchGetCommand,
} = require("@aws-sdk/lib-dynamodb");

const ports = process.argv.slice(2).map(Number);
if (ports.length !== 3 || ports.some((p) => !(p > 0))) {
  console.error("usage: node sdk_test.js PORT_N1 PORT_N2 PORT_N3");
  process.exit(2);
}

function client(port) {
  const raw = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    credentials: { accessKeyId: "fakeMyKeyId", secretAccessKey: "fakeSecretAccessKey" },
    maxAttempts: 5,
  });
  return { raw, doc: DynamoDBDocumentClient.from(raw) };
}
const [n1, n2, n3] = ports.map(client);
const TABLE = `orders_${Date.now()}`;
const STRINGS = `strings_${Date.now()}`;

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`PASS ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}
function assertEqual(got, want, what = "") {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what} got ${g}, want ${w}`);
}
async function expectError(promise, name, status = 400) {
  try {
    await promise;
  } catch (e) {
    if (e.name !== name) throw new Error(`error ${e.name} (${e.message}), want ${name}`);
    if (e.$metadata.httpStatusCode !== status) {
      throw new Error(`HTTP ${e.$metadata.httpStatusCode}, want ${status}`);
    }
    return e;
  }
  throw new Error(`no error, want ${name}`);
}
// All pages of a Query or Scan, following LastEvaluatedKey through the given clients in turn.
async function allPages(makeCommand, clients) {
  const items = [];
  let start;
  let pages = 0;
  do {
    const out = await clients[pages % clients.length].doc.send(makeCommand(start));
    items.push(...out.Items);
    start = out.LastEvaluatedKey;
    pages++;
    if (pages > 100) throw new Error("pagination does not end");
  } while (start);
  return { items, pages };
}

async function main() {
  await check("CreateTable (HASH S + RANGE N, PAY_PER_REQUEST) answers CREATING, the SDK's " +
              "waiter sees it ACTIVE", async () => {
    const out = await n1.raw.send(new CreateTableCommand({
      TableName: TABLE,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: "customer", KeyType: "HASH" },
                  { AttributeName: "seq", KeyType: "RANGE" }],
      AttributeDefinitions: [{ AttributeName: "customer", AttributeType: "S" },
                             { AttributeName: "seq", AttributeType: "N" }],
    }));
    // As DynamoDB answers CreateTable; the waiter polls DescribeTable until ACTIVE.
    assertEqual(out.TableDescription.TableStatus, "CREATING");
    const waited = await waitUntilTableExists({ client: n3.raw, maxWaitTime: 60, minDelay: 1 },
                                              { TableName: TABLE });
    assertEqual(waited.state, "SUCCESS");
    await n2.raw.send(new CreateTableCommand({
      TableName: STRINGS,
      ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" },
                             { AttributeName: "sk", AttributeType: "S" }],
    }));
  });

  await check("DescribeTable and ListTables through other nodes", async () => {
    const described = await n3.raw.send(new DescribeTableCommand({ TableName: TABLE }));
    assertEqual(described.Table.KeySchema, [{ AttributeName: "customer", KeyType: "HASH" },
                                            { AttributeName: "seq", KeyType: "RANGE" }]);
    const listed = await n2.raw.send(new ListTablesCommand({}));
    if (!listed.TableNames.includes(TABLE) || !listed.TableNames.includes(STRINGS)) {
      throw new Error(`ListTables: ${JSON.stringify(listed.TableNames)}`);
    }
  });

  await check("CreateTable of an existing table -> ResourceInUseException", async () => {
    await expectError(n3.raw.send(new CreateTableCommand({
      TableName: TABLE, BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: "customer", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "customer", AttributeType: "S" }],
    })), "ResourceInUseException");
  });

  await check("PutItem on n1, GetItem on n2 and n3 (nested types survive)", async () => {
    const item = { customer: "alice", seq: 1, note: "first", tags: new Set(["a", "b"]),
                   nested: { list: [1, "two", null, true], map: { x: 1.5 } } };
    await n1.doc.send(new PutCommand({ TableName: TABLE, Item: item }));
    for (const c of [n2, n3]) {
      const got = await c.doc.send(new GetCommand({ TableName: TABLE, Key: { customer: "alice", seq: 1 } }));
      assertEqual(got.Item.note, "first");
      assertEqual([...got.Item.tags].sort(), ["a", "b"]);
      assertEqual(got.Item.nested, { list: [1, "two", null, true], map: { x: 1.5 } });
    }
    const missing = await n2.doc.send(new GetCommand({ TableName: TABLE, Key: { customer: "bob", seq: 1 } }));
    assertEqual(missing.Item, undefined);
  });

  await check("UpdateItem SET/REMOVE with names and values, ReturnValues ALL_NEW", async () => {
    const out = await n2.doc.send(new UpdateCommand({
      TableName: TABLE, Key: { customer: "alice", seq: 1 },
      UpdateExpression: "SET #n = :n, visits = if_not_exists(visits, :zero) + :one REMOVE tags",
      ExpressionAttributeNames: { "#n": "note" },
      ExpressionAttributeValues: { ":n": "updated", ":zero": 0, ":one": 1 },
      ReturnValues: "ALL_NEW",
    }));
    assertEqual(out.Attributes.note, "updated");
    assertEqual(out.Attributes.visits, 1);
    assertEqual(out.Attributes.tags, undefined);
    const got = await n3.doc.send(new GetCommand({ TableName: TABLE, Key: { customer: "alice", seq: 1 } }));
    assertEqual(got.Item.note, "updated");
  });

  await check("conditional PutItem/UpdateItem/DeleteItem -> ConditionalCheckFailedException", async () => {
    await expectError(n1.doc.send(new PutCommand({
      TableName: TABLE, Item: { customer: "alice", seq: 1 },
      ConditionExpression: "attribute_not_exists(customer)",
    })), "ConditionalCheckFailedException");
    await expectError(n2.doc.send(new UpdateCommand({
      TableName: TABLE, Key: { customer: "alice", seq: 1 }, UpdateExpression: "SET note = :x",
      ConditionExpression: "visits > :v", ExpressionAttributeValues: { ":x": "no", ":v": 5 },
    })), "ConditionalCheckFailedException");
    await expectError(n3.doc.send(new DeleteCommand({
      TableName: TABLE, Key: { customer: "alice", seq: 1 },
      ConditionExpression: "note = :other AND NOT attribute_exists(gone)",
      ExpressionAttributeValues: { ":other": "other" },
    })), "ConditionalCheckFailedException");
    const got = await n1.doc.send(new GetCommand({ TableName: TABLE, Key: { customer: "alice", seq: 1 } }));
    assertEqual(got.Item.note, "updated", "nothing changed:");
  });

  await check("concurrent ADD through all three nodes is atomic (30 increments -> 30)", async () => {
    const key = { customer: "counter", seq: 0 };
    const writes = [];
    for (let i = 0; i < 30; i++) {
      writes.push([n1, n2, n3][i % 3].doc.send(new UpdateCommand({
        TableName: TABLE, Key: key, UpdateExpression: "ADD hits :one",
        ExpressionAttributeValues: { ":one": 1 },
      })));
    }
    await Promise.all(writes);
    const got = await n2.doc.send(new GetCommand({ TableName: TABLE, Key: key }));
    assertEqual(got.Item.hits, 30);
  });

  await check("DeleteItem with ReturnValues ALL_OLD, conditional delete that holds", async () => {
    await n1.doc.send(new PutCommand({ TableName: TABLE, Item: { customer: "carol", seq: 9, v: "x" } }));
    const out = await n2.doc.send(new DeleteCommand({
      TableName: TABLE, Key: { customer: "carol", seq: 9 }, ReturnValues: "ALL_OLD",
      ConditionExpression: "v = :x", ExpressionAttributeValues: { ":x": "x" },
    }));
    assertEqual(out.Attributes, { customer: "carol", seq: 9, v: "x" });
    const got = await n3.doc.send(new GetCommand({ TableName: TABLE, Key: { customer: "carol", seq: 9 } }));
    assertEqual(got.Item, undefined);
  });

  const seqs = [-5, 0, 1.5, 2, 3, 7, 10, 11, 20, 100, 1000];
  await check("Query range conditions (numeric order, negative and fractional keys)", async () => {
    await Promise.all(seqs.map((seq, i) => [n1, n2, n3][i % 3].doc.send(
      new PutCommand({ TableName: TABLE, Item: { customer: "dave", seq, i } }))));
    await n1.doc.send(new PutCommand({ TableName: TABLE, Item: { customer: "dav", seq: 1 } }));
    await n1.doc.send(new PutCommand({ TableName: TABLE, Item: { customer: "davey", seq: 1 } }));
    const q = async (cond, values, extra = {}) => (await n3.doc.send(new QueryCommand({
      TableName: TABLE, KeyConditionExpression: cond,
      ExpressionAttributeValues: { ":c": "dave", ...values }, ...extra,
    }))).Items.map((it) => it.seq);
    assertEqual(await q("customer = :c", {}), seqs, "all:");
    assertEqual(await q("customer = :c AND seq BETWEEN :a AND :b", { ":a": 2, ":b": 11 }), [2, 3, 7, 10, 11]);
    assertEqual(await q("customer = :c AND seq < :a", { ":a": 2 }), [-5, 0, 1.5]);
    assertEqual(await q("customer = :c AND seq <= :a", { ":a": 2 }), [-5, 0, 1.5, 2]);
    assertEqual(await q("customer = :c AND seq > :a", { ":a": 11 }), [20, 100, 1000]);
    assertEqual(await q("customer = :c AND seq >= :a", { ":a": 11 }), [11, 20, 100, 1000]);
    assertEqual(await q("customer = :c AND seq = :a", { ":a": 7 }), [7]);
    assertEqual(await q("customer = :c", {}, { ScanIndexForward: false }), [...seqs].reverse());
    const counted = await n1.doc.send(new QueryCommand({
      TableName: TABLE, KeyConditionExpression: "customer = :c", Select: "COUNT",
      ExpressionAttributeValues: { ":c": "dave" } }));
    assertEqual(counted.Count, seqs.length);
  });

  await check("Query begins_with on a string range key", async () => {
    for (const sk of ["user#1", "user#2", "user", "usex", "admin#1"]) {
      await n2.doc.send(new PutCommand({ TableName: STRINGS, Item: { pk: "p", sk } }));
    }
    const out = await n1.doc.send(new QueryCommand({
      TableName: STRINGS, KeyConditionExpression: "pk = :p AND begins_with(sk, :pre)",
      ExpressionAttributeValues: { ":p": "p", ":pre": "user#" } }));
    assertEqual(out.Items.map((it) => it.sk), ["user#1", "user#2"]);
  });

  await check("Query pagination (Limit 4, ExclusiveStartKey through n1/n2/n3), both directions", async () => {
    for (const forward of [true, false]) {
      const { items, pages } = await allPages((start) => new QueryCommand({
        TableName: TABLE, KeyConditionExpression: "customer = :c", Limit: 4,
        ScanIndexForward: forward, ExclusiveStartKey: start,
        ExpressionAttributeValues: { ":c": "dave" } }), [n1, n2, n3]);
      assertEqual(items.map((it) => it.seq), forward ? seqs : [...seqs].reverse());
      assertEqual(pages, 3, "pages:");
    }
  });

  await check("Scan pagination (Limit 3) sees every item exactly once", async () => {
    const { items } = await allPages((start) => new ScanCommand({
      TableName: TABLE, Limit: 3, ExclusiveStartKey: start }), [n3, n2, n1]);
    const keys = items.map((it) => `${it.customer}/${it.seq}`);
    assertEqual(new Set(keys).size, keys.length, "duplicates:");
    // alice/1, counter/0, dav/1, davey/1 and dave's 11.
    assertEqual(keys.length, 4 + seqs.length);
    const filtered = await n1.doc.send(new ScanCommand({
      TableName: TABLE, FilterExpression: "customer = :c AND seq > :s",
      ExpressionAttributeValues: { ":c": "dave", ":s": 10 } }));
    assertEqual(filtered.Items.map((it) => it.seq).sort((a, b) => a - b), [11, 20, 100, 1000]);
  });

  await check("errors: unknown table, validation, key schema mismatch", async () => {
    const e = await expectError(n1.doc.send(new GetCommand({ TableName: "no_such_table", Key: { a: "x" } })),
                                "ResourceNotFoundException");
    if (!/not found/i.test(e.message)) throw new Error(`message: ${e.message}`);
    await expectError(n2.doc.send(new GetCommand({ TableName: TABLE, Key: { customer: "alice" } })),
                      "ValidationException");
    await expectError(n3.doc.send(new PutCommand({ TableName: TABLE, Item: { customer: "x", seq: "not a number" } })),
                      "ValidationException");
    await expectError(n1.doc.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: "seq = :s",
                                                     ExpressionAttributeValues: { ":s": 1 } })),
                      "ValidationException");
    await expectError(n1.doc.send(new UpdateCommand({ TableName: TABLE, Key: { customer: "alice", seq: 1 },
                                                      UpdateExpression: "SET seq = :s",
                                                      ExpressionAttributeValues: { ":s": 2 } })),
                      "ValidationException");
  });

  await check("error shape on the wire: HTTP 400, JSON {__type, message}", async () => {
    const post = (target, body) => fetch(`http://127.0.0.1:${ports[1]}/`, {
      method: "POST",
      headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target,
                 "Authorization": "AWS4-HMAC-SHA256 Credential=fake/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00" },
      body: JSON.stringify(body),
    });
    let r = await post("DynamoDB_20120810.DescribeTable", { TableName: "no_such_table" });
    assertEqual(r.status, 400);
    assertEqual(r.headers.get("content-type"), "application/x-amz-json-1.0");
    assertEqual(await r.json(), {
      __type: "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
      message: "Requested resource not found: Table: no_such_table not found" });
    r = await post("DynamoDB_20120810.NoSuchOperation", {});
    assertEqual(r.status, 400);
    const body = await r.json();
    if (!body.__type.endsWith("#UnknownOperationException")) throw new Error(JSON.stringify(body));
  });

  await check("BatchWriteItem: 25 puts and deletes, UnprocessedItems {}; limits and duplicates refused", async () => {
    const BATCH = "batch_" + TABLE;
    const puts = [];
    for (let i = 0; i < 25; i++) {
      puts.push({ PutRequest: { Item: { customer: BATCH, seq: i, doc: { tags: ["a", "b", "c"], n: i } } } });
    }
    let out = await n2.doc.send(new BatchWriteCommand({ RequestItems: { [TABLE]: puts } }));
    assertEqual(out.UnprocessedItems, {});
    out = await n3.doc.send(new BatchWriteCommand({ RequestItems: { [TABLE]: [
      { DeleteRequest: { Key: { customer: BATCH, seq: 24 } } },
      { DeleteRequest: { Key: { customer: BATCH, seq: 23 } } }] } }));
    assertEqual(out.UnprocessedItems, {});
    const { items } = await allPages((start) => new QueryCommand({
      TableName: TABLE, KeyConditionExpression: "customer = :c",
      ExpressionAttributeValues: { ":c": BATCH }, ExclusiveStartKey: start }), [n1]);
    assertEqual(items.length, 23, "items after the batches");
    const tooMany = puts.concat([{ PutRequest: { Item: { customer: BATCH, seq: 99 } } }]);
    let e = await expectError(n1.doc.send(new BatchWriteCommand({ RequestItems: { [TABLE]: tooMany } })),
                              "ValidationException");
    assertEqual(e.message, "1 validation error detected: Value '{" + TABLE + "=[...]}' at 'requestItems' " +
      "failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less " +
      "than or equal to 25, Member must have length greater than or equal to 1]");
    e = await expectError(n1.doc.send(new BatchWriteCommand({ RequestItems: {
      [TABLE]: tooMany.slice(0, 13), ["other_" + TABLE]: tooMany.slice(13) } })), "ValidationException");
    assertEqual(e.message, "Too many items requested for the BatchWriteItem call");
    e = await expectError(n1.doc.send(new BatchWriteCommand({ RequestItems: { [TABLE]: [
      { PutRequest: { Item: { customer: BATCH, seq: 1 } } },
      { DeleteRequest: { Key: { customer: BATCH, seq: 1 } } }] } })), "ValidationException");
    assertEqual(e.message, "Provided list of item keys contains duplicates");
  });

  await check("BatchGetItem with projections of nested paths, from every node", async () => {
    const BATCH = "batch_" + TABLE;
    const keys = [0, 1, 2, 50].map((seq) => ({ customer: BATCH, seq }));
    for (const c of [n1, n2, n3]) {
      const out = await c.doc.send(new BatchGetCommand({ RequestItems: { [TABLE]: {
        Keys: keys, ConsistentRead: true, ProjectionExpression: "seq, #d.tags[1], #d.n",
        ExpressionAttributeNames: { "#d": "doc" } } } }));
      assertEqual(out.UnprocessedKeys, {});
      const got = out.Responses[TABLE].sort((a, b) => a.seq - b.seq);
      // Attributes come back in name order (JSON object order is not part of the API).
      assertEqual(got, [0, 1, 2].map((i) => ({ doc: { n: i, tags: ["b"] }, seq: i })));
    }
    const one = await n2.doc.send(new GetCommand({ TableName: TABLE, Key: { customer: BATCH, seq: 3 },
                                                    ProjectionExpression: "doc.tags[2]" }));
    assertEqual(one.Item, { doc: { tags: ["c"] } });
  });

  await check("BatchGetItem over 16 MB answers UnprocessedKeys; resending them reads the rest", async () => {
    const BIG = "big_" + TABLE;
    const blob = "x".repeat(380 * 1024);
    for (let start = 0; start < 50; start += 10) {
      const puts = [];
      for (let i = start; i < start + 10; i++) puts.push({ PutRequest: { Item: { customer: BIG, seq: i, blob } } });
      const out = await n1.doc.send(new BatchWriteCommand({ RequestItems: { [TABLE]: puts } }));
      assertEqual(out.UnprocessedItems, {});
    }
    let request = { [TABLE]: { Keys: [...Array(50).keys()].map((seq) => ({ customer: BIG, seq })),
                               ProjectionExpression: "seq" } };
    const seen = new Set();
    let rounds = 0;
    while (request && Object.keys(request).length > 0) {
      if (++rounds > 10) throw new Error("UnprocessedKeys never drains");
      const out = await n3.doc.send(new BatchGetCommand({ RequestItems: request }));
      for (const item of out.Responses[TABLE] || []) seen.add(item.seq);
      request = out.UnprocessedKeys;
    }
    assertEqual(seen.size, 50, "items read");
    if (rounds < 2) throw new Error("19 MB of items came back in one answer");
  });

  await check("parallel Scan: 4 segments together return every item exactly once", async () => {
    const all = await allPages((start) => new ScanCommand({ TableName: TABLE, ExclusiveStartKey: start,
                                                             ProjectionExpression: "customer, seq" }), [n1]);
    const seen = [];
    for (let segment = 0; segment < 4; segment++) {
      const { items } = await allPages((start) => new ScanCommand({
        TableName: TABLE, Segment: segment, TotalSegments: 4, Limit: 7, ExclusiveStartKey: start,
        ProjectionExpression: "customer, seq" }), [n1, n2, n3]);
      seen.push(...items.map((i) => `${i.customer}/${i.seq}`));
    }
    assertEqual(seen.length, all.items.length, "items over all segments");
    assertEqual(new Set(seen).size, all.items.length, "distinct items over all segments");
  });

  await check("reserved words: refused bare with DynamoDB's message, accepted through #placeholders", async () => {
    const key = { customer: "words", seq: 1 };
    await n1.doc.send(new PutCommand({ TableName: TABLE, Item: { ...key, status: "new", size: 3 } }));
    const e = await expectError(n2.doc.send(new UpdateCommand({
      TableName: TABLE, Key: key, UpdateExpression: "SET status = :s",
      ExpressionAttributeValues: { ":s": "done" } })), "ValidationException");
    assertEqual(e.message,
                "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status");
    const f = await expectError(n3.doc.send(new ScanCommand({
      TableName: TABLE, FilterExpression: "Size > :z", ExpressionAttributeValues: { ":z": 0 } })),
                                "ValidationException");
    assertEqual(f.message,
                "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: Size");
    const out = await n3.doc.send(new UpdateCommand({
      TableName: TABLE, Key: key, UpdateExpression: "SET #s = :s ADD #z :one",
      ConditionExpression: "#s = :was", ExpressionAttributeNames: { "#s": "status", "#z": "size" },
      ExpressionAttributeValues: { ":s": "done", ":one": 1, ":was": "new" }, ReturnValues: "ALL_NEW" }));
    assertEqual(out.Attributes, { customer: "words", seq: 1, size: 4, status: "done" });
    await n1.doc.send(new DeleteCommand({ TableName: TABLE, Key: key }));
  });

  await check("DeleteTable, then the table is gone everywhere", async () => {
    const out = await n3.raw.send(new DeleteTableCommand({ TableName: STRINGS }));
    assertEqual(out.TableDescription.TableStatus, "DELETING");
    await expectError(n1.raw.send(new DescribeTableCommand({ TableName: STRINGS })), "ResourceNotFoundException");
    await expectError(n2.raw.send(new GetItemCommand({ TableName: STRINGS, Key: { pk: { S: "p" }, sk: { S: "user" } } })),
                      "ResourceNotFoundException");
  });

  console.log(`dynamo-sdk: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.log(`FAIL unexpected: ${e && e.stack ? e.stack : e}`);
  console.log(`dynamo-sdk: ${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
