// Node ws 8 as a broadcast server, with the loop from ws's README ("Server broadcast"):
// every message a client sends goes to every open client, the sender included.
// usage: node ws_broadcast.mjs HOST:PORT   (ws comes from tests/interop/node_modules)
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/interop/package.json', import.meta.url));
const { WebSocketServer, WebSocket } = require('ws');

const [host, port] = process.argv[2].split(':');
const wss = new WebSocketServer({ host, port: Number(port), clientTracking: true });
wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    wss.clients.forEach((client) => {
      if (client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    });
  });
});
wss.on('listening', () => console.log(`ws broadcast listening on ws://${host}:${port}`));
