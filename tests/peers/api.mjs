// api.mjs - clients of keycastd's HTTP signing API (POST /api/nostr) for
// tests/integration/api.test. Each sub-command prints "ok - ..." /
// "not ok - ..." lines (the test's checks) and "# ..." diagnostics, and
// exits 0 when every check passed. Every wait is bounded.
//
//   methods API TOKEN USER_PK      every method with a valid token: the
//                                  signed event verifies, the encryptions
//                                  round-trip with a third party's key
//   same API TOKEN BUNKER_URI      a policy refusal (kind 4 under kinds [1])
//                                  reads the same over HTTP and over NIP-46
//   burst API TOKEN N              N sign_event requests at once, each on
//                                  its own connection; one line per answer:
//                                  "answer STATUS", or "error CODE"
import WebSocket from 'ws';
import http from 'node:http';
import { SimplePool, useWebSocketImplementation } from 'nostr-tools/pool';
import { BunkerSigner, parseBunkerInput } from 'nostr-tools/nip46';
import { generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure';
import * as nip04 from 'nostr-tools/nip04';
import * as nip44 from 'nostr-tools/nip44';

useWebSocketImplementation(WebSocket);
let failed = 0;

// Print one check.
function check(ok, name, diag) {
	console.log(`${ok ? 'ok' : 'not ok'} - ${name}`);
	if (!ok) failed++;
	if (!ok && diag !== undefined) console.log(`# ${String(diag).split('\n').join('\n# ')}`);
	return ok;
}

// POST {method, params} to api with token on a connection of its own: {status, headers, body}.
function call(api, token, method, params, timeoutMs = 60000) {
	const body = JSON.stringify({ method, params });
	return new Promise((resolve, reject) => {
		const req = http.request(
			api,
			{
				method: 'POST',
				agent: false,
				timeout: timeoutMs,
				headers: {
					'Content-Type': 'application/json',
					'Content-Length': Buffer.byteLength(body),
					...(token ? { Authorization: `Bearer ${token}` } : {}),
				},
			},
			(res) => {
				let text = '';
				res.setEncoding('utf8');
				res.on('data', (d) => (text += d));
				res.on('end', () => {
					let json;
					try {
						json = JSON.parse(text);
					} catch {
						json = undefined;
					}
					resolve({ status: res.statusCode, headers: res.headers, json, text });
				});
			},
		);
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', reject);
		req.end(body);
	});
}

// A check that method answers 200 with a result accepted by test; the result.
async function ok(api, token, method, params, name, test) {
	try {
		const r = await call(api, token, method, params);
		check(r.status === 200 && r.json && test(r.json.result), name, `${r.status} ${r.text}`);
		return r.json?.result;
	} catch (e) {
		check(false, name, e.message);
		return undefined;
	}
}

// Every method with a valid token.
async function methods(api, token, userPk) {
	const third = generateSecretKey();
	const thirdPk = getPublicKey(third);
	const text = 'secret note \u00e9\u{1f511}';
	await ok(api, token, 'ping', [], 'ping answers "pong"', (v) => v === 'pong');
	await ok(api, token, 'get_public_key', [], 'get_public_key is the user key', (v) => v === userPk);
	const tmpl = { kind: 1, content: 'hello over http', tags: [['t', 'api']], created_at: 1700000000 };
	const ev1 = await ok(api, token, 'sign_event', [tmpl], 'sign_event (template object): verifies with nostr-tools',
		(e) => typeof e === 'object' && verifyEvent(e) && e.pubkey === userPk && e.content === tmpl.content &&
			e.created_at === tmpl.created_at);
	await ok(api, token, 'sign_event', [JSON.stringify({ kind: 1, content: 'as a string' })],
		'sign_event (template as a JSON string): verifies, created_at now',
		(e) => verifyEvent(e) && e.pubkey === userPk && Math.abs(e.created_at - Date.now() / 1000) < 600);
	if (ev1 === undefined) console.log('# sign_event failed');
	const c44 = await ok(api, token, 'nip44_encrypt', [thirdPk, text], 'nip44_encrypt: the third party decrypts it',
		(v) => nip44.decrypt(v, nip44.getConversationKey(third, userPk)) === text);
	const from44 = nip44.encrypt(text, nip44.getConversationKey(third, userPk));
	await ok(api, token, 'nip44_decrypt', [thirdPk, from44], "nip44_decrypt: the third party's message",
		(v) => v === text);
	if (c44 !== undefined)
		await ok(api, token, 'nip44_decrypt', [thirdPk, c44], 'nip44: encrypt then decrypt round-trips', (v) => v === text);
	await ok(api, token, 'nip04_encrypt', [thirdPk, text], 'nip04_encrypt: the third party decrypts it',
		(v) => nip04.decrypt(third, userPk, v) === text);
	const from04 = nip04.encrypt(third, userPk, text);
	await ok(api, token, 'nip04_decrypt', [thirdPk, from04], "nip04_decrypt: the third party's message",
		(v) => v === text);
}

// A policy refusal over HTTP and over NIP-46: the same words.
async function same(api, token, uri) {
	const tmpl = { kind: 4, content: 'dm', tags: [], created_at: Math.floor(Date.now() / 1000) };
	const r = await call(api, token, 'sign_event', [tmpl]);
	check(r.status === 403, 'HTTP: kind 4 refused with 403', `${r.status} ${r.text}`);
	const pool = new SimplePool();
	const bp = await parseBunkerInput(uri);
	const signer = BunkerSigner.fromBunker(generateSecretKey(), bp, { pool });
	let nip46 = '';
	try {
		await signer.sendRequest('connect', [bp.pubkey, bp.secret]);
		await signer.signEvent(tmpl);
	} catch (e) {
		nip46 = typeof e === 'string' ? e : (e?.message ?? String(e));
	}
	check(nip46 !== '' && nip46 === r.json?.error, 'the refusal reads the same on both paths',
		`http: ${r.json?.error} / nip46: ${nip46}`);
	console.log(`# refusal: ${nip46}`);
	await signer.close();
	pool.destroy();
}

// N sign_event requests at once, one connection each.
async function burst(api, token, n) {
	const all = [];
	for (let i = 0; i < n; i++)
		all.push(call(api, token, 'sign_event', [{ kind: 1, content: `burst ${i}` }], 120000).then(
			(r) => console.log(`answer ${r.status}${r.status === 200 && verifyEvent(r.json.result) ? ' verified' : ''}`),
			(e) => console.log(`error ${e.code ?? e.message}`),
		));
	console.log('sent');
	await Promise.all(all);
}

const [cmd, ...args] = process.argv.slice(2);
const run = { methods: () => methods(args[0], args[1], args[2]),
	same: () => same(args[0], args[1], args[2]),
	burst: () => burst(args[0], args[1], +args[2]) }[cmd];
if (!run) {
	console.error('usage: node api.mjs methods|same|burst ARGS...');
	process.exit(2);
}
await run();
process.exit(failed > 0 ? 1 : 0);
