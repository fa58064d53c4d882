// Node `ws` sends one message one byte over the server's limit while the server is reading:
// the server must fail the connection with 1009 and keep reading until ws answers, so ws
// reads the code instead of a reset (1006).
// usage: node node_oversize.mjs ws://127.0.0.1:PORT LIMIT_BYTES
import WebSocket from 'ws';

const [url, limit] = [process.argv[2], Number(process.argv[3])];
const ws = new WebSocket(url, { perMessageDeflate: false });
const timer = setTimeout(() => { console.log('FAIL node-ws: oversized message: no close within 60 s'); process.exit(1); }, 60000);
ws.on('error', () => {}); // the close event reports the outcome
ws.on('open', () => ws.send(Buffer.alloc(limit + 1)));
ws.on('close', (code) => {
  clearTimeout(timer);
  if (code === 1009) {
    console.log(`PASS node-ws: ${limit + 1}-byte message to a ${limit}-byte limit closes with 1009`);
    process.exit(0);
  }
  console.log(`FAIL node-ws: ${limit + 1}-byte message to a ${limit}-byte limit: closed with ${code}, want 1009`);
  process.exit(1);
});
