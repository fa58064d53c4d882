// Node `ws` 8 as a client against a ferrosocket echo server.
// usage: node node_client.mjs ws://127.0.0.1:PORT
// Prints one PASS/FAIL line per check; exits non-zero if any failed.
import WebSocket from 'ws';

const url = process.argv[2];
let failed = 0;
const pass = (name) => console.log(`PASS node-ws: ${name}`);
const fail = (name, why) => { failed++; console.log(`FAIL node-ws: ${name}: ${why}`); };

function open(options = {}, protocols = []) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { maxPayload: 64 << 20, ...options });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws) {
  return new Promise((resolve, reject) => {
    ws.once('message', (data, isBinary) => resolve({ data, isBinary }));
    ws.once('close', (code) => reject(new Error(`closed with ${code}`)));
  });
}

async function check(name, fn) {
  try { await fn(); pass(name); } catch (e) { fail(name, e.message); }
}

function assert(cond, why) { if (!cond) throw new Error(why); }

async function echo(ws, payload, binary) {
  const reply = nextMessage(ws);
  ws.send(payload, { binary });
  const { data, isBinary } = await reply;
  assert(isBinary === binary, `type: sent binary=${binary}, got binary=${isBinary}`);
  const expected = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  assert(Buffer.compare(data, expected) === 0, `payload of ${expected.length} bytes differs`);
}

for (const deflate of [false, true]) {
  const mode = deflate ? 'deflate' : 'plain';
  let ws;
  try {
    ws = await open({ perMessageDeflate: deflate }, ['chat', 'superchat']);
    pass(`${mode}: connect`);
  } catch (e) { fail(`${mode}: connect`, e.message); continue; }
  await check(`${mode}: subprotocol`, async () => assert(ws.protocol === 'chat', `got ${ws.protocol}`));
  await check(`${mode}: extension negotiated`, async () => {
    const has = ws.extensions.includes('permessage-deflate');
    assert(has === deflate, `extensions '${ws.extensions}'`);
  });
  for (const size of [0, 125, 126, 65535, 65536, 16 << 20]) {
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 31 + 7) & 0xff;
    await check(`${mode}: binary ${size} B`, () => echo(ws, data, true));
  }
  await check(`${mode}: text 1 MiB of JSON`, () =>
    echo(ws, JSON.stringify(Array.from({ length: 20000 }, (_, i) => ({ id: i, name: 'ferrosocket' }))), false));
  await check(`${mode}: multi-byte UTF-8`, () => echo(ws, 'κόσμε 𝄞 € ✓ '.repeat(500), false));
  await check(`${mode}: ping/pong`, () => new Promise((resolve, reject) => {
    ws.once('pong', (data) => data.toString() === 'hb' ? resolve() : reject(new Error(`pong '${data}'`)));
    ws.ping('hb');
  }));
  await check(`${mode}: close code and reason`, () => new Promise((resolve, reject) => {
    ws.once('close', (code, reason) =>
      code === 4001 && reason.toString() === 'bye now' ? resolve() : reject(new Error(`closed ${code} '${reason}'`)));
    ws.close(4001, 'bye now');
  }));
}

await check('concurrent: 20 connections', async () => {
  const sockets = await Promise.all(Array.from({ length: 20 }, () => open({ perMessageDeflate: true })));
  await Promise.all(sockets.map((ws, i) => echo(ws, `hello from ${i} `.repeat(200), false)));
  sockets.forEach((ws) => ws.close(1000));
});

process.exit(failed ? 1 : 0);
