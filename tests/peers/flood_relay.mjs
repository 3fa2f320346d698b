// flood_relay.mjs - a hostile relay for keycastd's tests: it answers the
// WebSocket upgrade, then floods its client with pings and never reads
// again, so every pong the client queues for it stays queued. Plain
// node:net, no dependencies.
//
// Prints its ws:// URL on stdout once listening, then "connection N" for
// each client it floods. Stops by itself after FLOOD_SECONDS (default 60),
// or on SIGTERM / SIGINT. Its own memory stays bounded: it writes only
// while the socket accepts (it waits for 'drain', which a client that stops
// reading never gives).
import net from 'node:net';
import crypto from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const seconds = Number(process.env.FLOOD_SECONDS || 60);
const chunk = Buffer.alloc(64 * 1024);
for (let i = 0; i < chunk.length; i += 2) {
  chunk[i] = 0x89; // FIN + ping
  chunk[i + 1] = 0; // no payload
}
let clients = 0;

// Write pings while the socket takes them; resume on 'drain'.
function flood(sock) {
  const more = () => {
    while (!sock.destroyed && sock.write(chunk));
  };
  sock.on('drain', more);
  more();
}

// Answer the upgrade, stop reading, flood.
function upgrade(sock, head) {
  const m = /sec-websocket-key:\s*(\S+)/i.exec(head);
  if (!m) {
    sock.destroy();
    return;
  }
  const accept = crypto.createHash('sha1').update(m[1] + GUID).digest('base64');
  sock.removeAllListeners('data');
  sock.pause();
  sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n' +
    `Connection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  clients++;
  console.log(`connection ${clients}`);
  flood(sock);
}

const server = net.createServer((sock) => {
  let buf = '';
  sock.on('error', () => {});
  sock.on('data', (d) => {
    buf += d.toString('latin1');
    const end = buf.indexOf('\r\n\r\n');
    if (end >= 0)
      upgrade(sock, buf.slice(0, end));
    else if (buf.length > 8192)
      sock.destroy();
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(`ws://127.0.0.1:${server.address().port}/`);
});
setTimeout(() => process.exit(0), seconds * 1000);
for (const sig of ['SIGTERM', 'SIGINT'])
  process.on(sig, () => process.exit(0));
