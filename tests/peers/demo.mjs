// demo.mjs - the NIP-46 client of scripts/demo.sh: nostr-tools' BunkerSigner
// against a running keycastd, through a real relay.
//
//   node demo.mjs round-trip 'bunker://...'   connect, get_public_key,
//       sign_event; prints the signed event and whether it verifies
//   node demo.mjs in-flight 'bunker://...'    connect, then ten sign_events at
//       once: prints "sent" once they are out, then how many were answered
//
// Exit status 0 when every answer came and checked out.
import WebSocket from 'ws';
import { SimplePool, useWebSocketImplementation } from 'nostr-tools/pool';
import { BunkerSigner, parseBunkerInput } from 'nostr-tools/nip46';
import { generateSecretKey, verifyEvent } from 'nostr-tools/pure';
import { hexToBytes } from 'nostr-tools/utils';

useWebSocketImplementation(WebSocket);

// Reject after ms unless p settles first.
function within(p, ms, what) {
	return Promise.race([
		p,
		new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)),
	]);
}

// A connected signer for the bunker URI; the client's key from DEMO_CLIENT_KEY (hex) if set,
// so that a second run is the same, already bound client.
async function connect(uri, pool) {
	const bp = await parseBunkerInput(uri);
	if (!bp) throw new Error('not a bunker:// URI');
	const key = process.env.DEMO_CLIENT_KEY ? hexToBytes(process.env.DEMO_CLIENT_KEY) : generateSecretKey();
	const signer = BunkerSigner.fromBunker(key, bp, { pool });
	await within(signer.connect(), 10000, 'connect');
	console.log('connect        -> ack');
	return signer;
}

// A kind-1 note template.
function note(text) {
	return { kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content: text };
}

// connect, get_public_key, sign_event; print what came back.
async function roundTrip(uri, pool) {
	const signer = await connect(uri, pool);
	const pubkey = await within(signer.getPublicKey(), 10000, 'get_public_key');
	console.log(`get_public_key -> ${pubkey}`);
	const signed = await within(signer.signEvent(note('hello from keycastd')), 10000, 'sign_event');
	console.log(`sign_event     -> ${JSON.stringify(signed)}`);
	const ok = verifyEvent(signed) && signed.pubkey === pubkey;
	console.log(`signed event verifies and is by the user's key: ${ok ? 'yes' : 'NO'}`);
	return ok;
}

// Ten sign_events at once; their replies arrive while the daemon shuts down.
// "sent" is printed once all ten are handed to the relay connection.
async function inFlight(uri, pool) {
	const signer = await connect(uri, pool);
	const publish = pool.publish.bind(pool);
	let published = 0;
	pool.publish = (relays, event) => {
		const r = publish(relays, event);
		if (++published === 10) setTimeout(() => console.log('sent 10 sign_event requests'), 100);
		return r;
	};
	const pending = [];
	for (let i = 1; i <= 10; i++)
		pending.push(within(signer.signEvent(note(`signed during the shutdown #${i}`)), 20000, 'sign_event'));
	const signed = await Promise.all(pending);
	const good = signed.filter((e) => verifyEvent(e)).length;
	console.log(`answered: ${signed.length} of 10, ${good} verify`);
	return good === 10;
}

const [mode, uri] = process.argv.slice(2);
const pool = new SimplePool();
const run = { 'round-trip': roundTrip, 'in-flight': inFlight }[mode];
if (!run || !uri) {
	console.error('usage: node demo.mjs round-trip|in-flight BUNKER_URI');
	process.exit(2);
}
try {
	const ok = await run(uri, pool);
	process.exit(ok ? 0 : 1);
} catch (e) {
	console.error(`demo client: ${e.message ?? e}`);
	process.exit(1);
}
