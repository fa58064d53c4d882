// Node `ws` 8 as a server for ferrosocket's client checks.
// usage: node node_server.mjs PORT
//   /echo         echoes every message (permessage-deflate accepted when offered)
//   /close-first  sends "bye" then closes with 4000 "server done"
//   /reject       refuses the upgrade with 401 and a body
import http from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
const server = http.createServer();
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true });

server.on('upgrade', (req, socket, head) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/reject') {
    socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nno token here');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (path === '/close-first') {
      ws.send('bye');
      ws.close(4000, 'server done');
      return;
    }
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
});
server.listen(port, '127.0.0.1', () => console.log(`node ws server listening on ${port}`));
