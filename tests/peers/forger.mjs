// forger.mjs - a hostile relay for tests/integration/forged.test: it sends
// keycastd forged copies of NIP-46 requests (a genuine id under a bad
// signature, which any relay can make) before the genuine request reaches
// keycastd through an honest relay.
//
//   node forger.mjs BUNKER_URI HONEST_RELAY METRICS_FILE
//
// It listens on a free loopback port and prints "url ws://..." at once.
// Once keycastd has subscribed to it for kind 24133 it sends, on that
// subscription: a forged copy of a connect request (the secret of
// BUNKER_URI) and a forged request that never exists genuinely; waits
// until keycastd's /metrics counts both as invalid for this relay;
// then publishes the genuine connect request to HONEST_RELAY and waits for
// the reply there. METRICS_FILE holds keycastd's /metrics URL (read when
// needed: keycastd starts after this relay, whose URL it needs). Prints "forged ID" and "forged_only ID" (for the test
// to look up in the claims table), "ok - ..." / "not ok - ..." checks and
// "# ..." diagnostics; exits 0 when every check passed. Every wait is
// bounded.
import WebSocket, { WebSocketServer } from 'ws';
import { parseBunkerInput } from 'nostr-tools/nip46';
import { generateSecretKey, getPublicKey, finalizeEvent } from 'nostr-tools/pure';
import * as nip44 from 'nostr-tools/nip44';
import { readFileSync } from 'node:fs';

const [uri, honest, metricsFile] = process.argv.slice(2);
let failed = 0;
const subs = new Map(); // keycastd's socket -> its kind-24133 subscription ids

// One check line.
function check(ok, name, diag) {
	if (!ok) failed++;
	console.log(`${ok ? 'ok' : 'not ok'} - ${name}`);
	if (!ok && diag) console.log(`# ${diag}`);
}

// Resolves when test() holds, polled every 50 ms, at most ms; false on timeout.
async function until(test, ms) {
	for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50)))
		if (await test()) return true;
	return false;
}

// The copy of ev with one bit of its signature flipped: the id stays genuine.
function forge(ev) {
	const sig = (parseInt(ev.sig[10], 16) ^ 1).toString(16);
	return { ...ev, sig: ev.sig.slice(0, 10) + sig + ev.sig.slice(11) };
}

// A request event from sk to bunker (NIP-44).
function request(sk, bunker, method, params) {
	const ck = nip44.getConversationKey(sk, bunker);
	const content = nip44.encrypt(JSON.stringify({ id: `forged-test-${method}`, method, params }), ck);
	return finalizeEvent(
		{ kind: 24133, created_at: Math.floor(Date.now() / 1000), tags: [['p', bunker]], content },
		sk,
	);
}

// The relay side: keep keycastd's REQs for kind 24133, end them at once, take its events.
function serve(ws) {
	subs.set(ws, new Set());
	ws.on('message', (data) => {
		let m;
		try {
			m = JSON.parse(data.toString());
		} catch {
			return;
		}
		if (m[0] === 'REQ') {
			if (m.slice(2).some((f) => (f.kinds ?? []).includes(24133))) subs.get(ws).add(m[1]);
			ws.send(JSON.stringify(['EOSE', m[1]]));
		} else if (m[0] === 'CLOSE') {
			subs.get(ws).delete(m[1]);
		} else if (m[0] === 'EVENT' && m[1]?.id) {
			ws.send(JSON.stringify(['OK', m[1].id, true, '']));
		}
	});
	ws.on('close', () => subs.delete(ws));
	ws.on('error', () => {});
}

// Send ev to keycastd on every kind-24133 subscription it holds here.
function push(ev) {
	for (const [ws, ids] of subs)
		for (const id of ids) ws.send(JSON.stringify(['EVENT', id, ev]));
}

// keycastd's events_invalid_total for this relay (url), or 0.
async function invalid(url) {
	try {
		const metricsUrl = readFileSync(metricsFile, 'utf8').trim();
		const text = await (await fetch(metricsUrl)).text();
		const line = text.split('\n').find((l) => l.startsWith(`keycastd_relay_events_invalid_total{relay="${url}"}`));
		return line ? Number(line.split(' ').pop()) : 0;
	} catch {
		return 0;
	}
}

// Publish ev to the honest relay and resolve to the first reply from bunker to pk (or null).
function publish(ev, bunker, pk, ms) {
	return new Promise((resolve) => {
		const ws = new WebSocket(honest);
		const timer = setTimeout(() => {
			ws.terminate();
			resolve(null);
		}, ms);
		ws.on('open', () => {
			ws.send(JSON.stringify(['REQ', 'r', { kinds: [24133], authors: [bunker], '#p': [pk], limit: 0 }]));
		});
		ws.on('message', (data) => {
			const m = JSON.parse(data.toString());
			if (m[0] === 'EOSE') ws.send(JSON.stringify(['EVENT', ev]));
			if (m[0] === 'EVENT' && m[1] === 'r') {
				clearTimeout(timer);
				ws.close();
				resolve(m[2]);
			}
		});
		ws.on('error', (e) => console.log(`# honest relay: ${e.message}`));
	});
}

async function main() {
	const bp = await parseBunkerInput(uri);
	const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
	await new Promise((r) => wss.on('listening', r));
	const url = `ws://127.0.0.1:${wss.address().port}`;
	console.log(`url ${url}`);
	wss.on('connection', serve);

	const subscribed = await until(() => [...subs.values()].some((s) => s.size > 0), 30000);
	check(subscribed, 'keycastd subscribes to the forging relay for kind 24133');
	const sk = generateSecretKey();
	const pk = getPublicKey(sk);
	const genuine = request(sk, bp.pubkey, 'connect', [bp.pubkey, bp.secret]);
	const only = forge(request(sk, bp.pubkey, 'ping', []));
	console.log(`forged ${genuine.id}`);
	console.log(`forged_only ${only.id}`);
	push(forge(genuine));
	push(only);
	const refused = await until(async () => (await invalid(url)) >= 2, 30000);
	check(refused, 'both forged requests are counted invalid for the forging relay', `events_invalid_total ${await invalid(url)}`);

	const reply = await publish(genuine, bp.pubkey, pk, 20000);
	let result = null;
	try {
		result = reply && JSON.parse(nip44.decrypt(reply.content, nip44.getConversationKey(sk, bp.pubkey)));
	} catch (e) {
		console.log(`# undecryptable reply: ${e.message}`);
	}
	check(
		result?.id === 'forged-test-connect' && result.result === 'ack',
		'the genuine connect request, sent after a forged copy of it, is answered (ack)',
		`reply: ${JSON.stringify(result)}`,
	);
	wss.close();
	for (const ws of subs.keys()) ws.terminate();
	process.exit(failed ? 1 : 0);
}

main().catch((e) => {
	console.log(`not ok - forger: ${e.stack}`);
	process.exit(1);
});
