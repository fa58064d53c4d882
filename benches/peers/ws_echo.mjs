// Node ws 8 as an echo server with permessage-deflate on (`perMessageDeflate: true`: zlib at
// its default level, context takeover, 1 KiB threshold), for `benches/deflate_load.rs`.
// usage: node ws_echo.mjs HOST:PORT   (ws comes from tests/interop/node_modules)
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/interop/package.json', import.meta.url));
const { WebSocketServer } = require('ws');

const [host, port] = process.argv[2].split(':');
const wss = new WebSocketServer({ host, port: Number(port), perMessageDeflate: true, clientTracking: false });
wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => console.log(`ws echo (permessage-deflate) listening on ws://${host}:${port}`));
