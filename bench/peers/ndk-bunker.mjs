// ndk-bunker.mjs - a peer bunker for keycastd's end-to-end benchmark:
// NDK's NIP-46 backend (NDKNip46Backend of @nostr-dev-kit/ndk, the engine
// nsecbunkerd is built on), serving one user key on one relay.
//
//   node ndk-bunker.mjs [--bound] RELAY-URL CLIENTS-FILE N
//
// Makes a fresh user key and N client apps, and writes CLIENTS-FILE in
// bench/loadgen's format: one line "bunker://USER-PUBKEY?relay=URL&secret=S
// CLIENT-SECRET-HEX" per client, each with a connect secret of its own.
// Then it serves: `connect` with a known secret binds the client's pubkey
// (NDK's applyToken), and every other request is permitted for a bound
// client only (NDK's permit callback), the way nsecbunkerd checks its
// policy table. With --bound every client is permitted from the start, as
// if loaded from such a table (no connect needed). Like nsecbunkerd, the bunker key is the user key: client
// apps are told apart by their pubkeys, not by a bunker key each.
//
// Prints "ready" on stdout once its subscription is up. SIGTERM or SIGINT
// ends it. Nothing else is printed unless DEBUG=ndk:* is set.
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import NDK, { NDKNip46Backend, NDKPrivateKeySigner } from '@nostr-dev-kit/ndk';

// Node 20 has no global WebSocket; NDK's relays use the global one.
globalThis.WebSocket ??= WebSocket;

const args = process.argv.slice(2);
const preBound = args[0] === '--bound';
const [url, clientsFile, nArg] = preBound ? args.slice(1) : args;
const n = Number.parseInt(nArg ?? '', 10);
if (!url || !clientsFile || !(n > 0)) {
	process.stderr.write('usage: node ndk-bunker.mjs [--bound] RELAY-URL CLIENTS-FILE N\n');
	process.exit(2);
}

const hex = (len) => randomBytes(len).toString('hex');
const signer = new NDKPrivateKeySigner(hex(32));
const user = await signer.user();
const secrets = new Set(); // connect secrets not yet used
const bound = new Set(); // client pubkeys bound by connect
const lines = [];
for (let i = 0; i < n; i++) {
	const secret = hex(16);
	const client = new NDKPrivateKeySigner(hex(32));
	if (preBound) bound.add(client.pubkey);
	else secrets.add(secret);
	lines.push(`bunker://${user.pubkey}?relay=${encodeURIComponent(url)}&secret=${secret} ${client.privateKey}`);
}
writeFileSync(clientsFile, lines.join('\n') + '\n');

const ndk = new NDK({ explicitRelayUrls: [url] });
await ndk.connect(10000);

// The permit callback: a bound client may do anything, a stranger nothing.
const permit = async ({ pubkey }) => bound.has(pubkey);
const backend = new NDKNip46Backend(ndk, signer, permit, [url]);
// connect's secret binds the client (once); an unknown one is refused.
backend.applyToken = async (pubkey, token) => {
	if (!secrets.delete(token) && !bound.has(pubkey)) throw new Error('unknown connect secret');
	bound.add(pubkey);
};
await backend.start();
process.stdout.write('ready\n');

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
