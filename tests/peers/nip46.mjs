// nip46.mjs - NIP-46 clients driving a running keycastd for
// tests/integration/signer.test: nostr-tools' BunkerSigner, plus a raw
// client (kind-24133 events published and read by hand) where BunkerSigner
// would hide what is checked: NIP-04 requests, and replies counted per
// request id (a duplicate reply is invisible through BunkerSigner).
//
// Each sub-command prints "ok - ..." / "not ok - ..." lines (the test's
// checks) and "# ..." diagnostics, and exits 0 when every check passed.
// Every wait is bounded.
//
//   methods URI USER_PK RELAY       every method, both encryption schemes,
//                                   and the refusals of one authorization
//   policy kinds|methods|rate URI   a refusal by the authorization's policy
//   expired URI EXPIRES_AT          connect, wait past EXPIRES_AT (unix s), refused
//   live KEY RELAY USER_PK          create an authorization while serve runs
//                                   ($KC_BIN), use it at once, revoke it
//   nostrconnect KEY RELAY USER_PK  the client-initiated flow (authz accept)
//   connect URI CLIENT_SK...        bind each client CLIENT_SK (hex) to its URI
//   handoff URI...                  per URI a new client: connect, then
//                                   5 get_public_key at once (replicas: the
//                                   binding must be known to all); logout,
//                                   then 5 more at once: all refused
//   until URI CLIENT_SK EXPECT SECS [RETRY_ON]
//                                   sign_event (a new request every 2 s while
//                                   none is answered) until a reply comes:
//                                   EXPECT "ok" (a signed event) or an error
//                                   substring; replies containing RETRY_ON
//                                   are retried too
//   load N METRICS_URLS URI CLIENT_SK...
//                                   N sign_events over the bound clients
//                                   (raw), in concurrent batches; each
//                                   answered exactly once; the daemons'
//                                   claims_total{result="won"} grow by N
//   inflight URI CLIENT_SK N        N sign_events at once; prints "sent" once
//                                   the relay has them, then each request's
//                                   event id and whether it was answered (the
//                                   test compares them with the claims table)
//
// Environment: KC_BIN (the daemon binary, for live / nostrconnect).
import WebSocket from 'ws';
import { execFileSync } from 'node:child_process';
import { SimplePool, useWebSocketImplementation } from 'nostr-tools/pool';
import { BunkerSigner, parseBunkerInput, createNostrConnectURI } from 'nostr-tools/nip46';
import { generateSecretKey, getPublicKey, finalizeEvent, verifyEvent } from 'nostr-tools/pure';
import * as nip04 from 'nostr-tools/nip04';
import * as nip44 from 'nostr-tools/nip44';
import { bytesToHex, hexToBytes } from 'nostr-tools/utils';

useWebSocketImplementation(WebSocket);

const pool = new SimplePool();
let failed = 0;

// Print one check; with todo, a known defect (TAP TODO: not a failure).
function check(ok, name, diag, todo) {
	console.log(`${ok ? 'ok' : 'not ok'} - ${name}${todo ? ` # TODO ${todo}` : ''}`);
	if (!ok && !todo) failed++;
	if (!ok && diag !== undefined) console.log(`# ${String(diag).split('\n').join('\n# ')}`);
	return ok;
}

// Print a diagnostic.
function diag(text) {
	console.log(`# ${text}`);
}

// Sleep ms.
function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

// Reject after ms unless p settles first.
function within(p, ms, what) {
	let t;
	const timeout = new Promise((_, reject) => {
		t = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
	});
	return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

// The text of a rejection (BunkerSigner rejects with the error string itself).
function why(e) {
	return typeof e === 'string' ? e : (e?.message ?? String(e));
}

// A check that p resolves to a value accepted by test (returns the value or undefined).
async function expectOk(p, name, test = () => true, ms = 10000) {
	try {
		const v = await within(p, ms, name);
		check(test(v), name, `got: ${v}`);
		return v;
	} catch (e) {
		check(false, name, `error: ${why(e)}`);
		return undefined;
	}
}

// A check that p is rejected with an error containing text.
async function expectError(p, text, name, ms = 10000) {
	try {
		const v = await within(p, ms, name);
		check(false, name, `answered instead: ${v}`);
	} catch (e) {
		check(why(e).includes(text), name, `error: ${why(e)}`);
	}
}

// A BunkerSigner for a bunker:// URI and a client secret key.
async function bunker(uri, sk) {
	const bp = await parseBunkerInput(uri);
	if (!bp) throw new Error(`not a bunker:// URI: ${uri}`);
	return { bp, signer: BunkerSigner.fromBunker(sk, bp, { pool }) };
}

// A note template.
function note(content, kind = 1) {
	return { kind, created_at: Math.floor(Date.now() / 1000), tags: [], content };
}

// Whether s is the JSON of a valid event signed by pubkey matching template t.
function signedMatches(s, pubkey, t) {
	const e = typeof s === 'string' ? JSON.parse(s) : s;
	return (
		verifyEvent(e) &&
		e.pubkey === pubkey &&
		e.kind === t.kind &&
		e.content === t.content &&
		JSON.stringify(e.tags) === JSON.stringify(t.tags ?? []) &&
		(t.created_at === undefined || e.created_at === t.created_at)
	);
}

// A client writing kind-24133 events by hand: replies kept per request id.
class RawClient {
	constructor(sk, bunkerPk, relays) {
		this.sk = sk;
		this.pk = getPublicKey(sk);
		this.bunker = bunkerPk;
		this.relays = relays;
		this.ck = nip44.getConversationKey(sk, bunkerPk);
		this.replies = new Map(); // id -> [{scheme, reply, event}]
		this.waiters = new Map(); // id -> resolve
		this.serial = 0;
		this.eventIds = new Map(); // request id -> request event id
		this.prefix = bytesToHex(generateSecretKey()).slice(0, 8);
	}

	// Subscribe to replies; resolves at EOSE (the relay has the subscription).
	open() {
		return within(
			new Promise((resolve) => {
				this.sub = pool.subscribe(
					this.relays,
					{ kinds: [24133], authors: [this.bunker], '#p': [this.pk], limit: 0 },
					{ onevent: (ev) => this.onEvent(ev), oneose: resolve },
				);
			}),
			10000,
			'subscription',
		);
	}

	// A reply: decrypt with the scheme its content has, file it by id.
	onEvent(ev) {
		const nip04Shaped = ev.content.includes('?iv=');
		let reply;
		try {
			const text = nip04Shaped
				? nip04.decrypt(this.sk, this.bunker, ev.content)
				: nip44.decrypt(ev.content, this.ck);
			reply = JSON.parse(text);
		} catch (e) {
			diag(`undecryptable reply ${ev.id}: ${why(e)}`);
			return;
		}
		const list = this.replies.get(reply.id) ?? [];
		list.push({ scheme: nip04Shaped ? 'nip04' : 'nip44', reply, event: ev });
		this.replies.set(reply.id, list);
		this.waiters.get(reply.id)?.(list[0]);
	}

	// Publish a request (scheme nip44 or nip04); resolves to its id once a relay took it.
	// Send a request; with ack false, do not wait for the relay's OK (it is then only written).
	async send(method, params, scheme = 'nip44', ack = true) {
		const id = `${this.prefix}-${++this.serial}`;
		const text = JSON.stringify({ id, method, params });
		const content =
			scheme === 'nip04' ? nip04.encrypt(this.sk, this.bunker, text) : nip44.encrypt(text, this.ck);
		const ev = finalizeEvent(
			{
				kind: 24133,
				created_at: Math.floor(Date.now() / 1000),
				tags: [['p', this.bunker]],
				content,
			},
			this.sk,
		);
		this.eventIds.set(id, ev.id);
		const out = within(Promise.any(pool.publish(this.relays, ev)), 10000, `publish ${method}`);
		if (ack) await out;
		else out.catch((e) => diag(why(e)));
		return id;
	}

	// The first reply to id, within ms.
	wait(id, ms) {
		const have = this.replies.get(id);
		if (have) return Promise.resolve(have[0]);
		return within(new Promise((r) => this.waiters.set(id, r)), ms, `reply to ${id}`);
	}

	// Send and wait for the reply.
	async call(method, params, scheme = 'nip44', ms = 10000) {
		return this.wait(await this.send(method, params, scheme), ms);
	}
}

// Everything one authorization's client can do, and the refusals around it.
async function methods(uri, userPk, relay) {
	const sk = generateSecretKey();
	const { bp, signer } = await bunker(uri, sk);
	await expectOk(
		signer.sendRequest('connect', [bp.pubkey, bp.secret, '', '{"name":"test"}']),
		'connect answers "ack"',
		(v) => v === 'ack',
	);
	await expectOk(
		signer.getPublicKey(),
		'get_public_key is the user key, not the bunker key',
		(v) => v === userPk && v !== bp.pubkey,
	);
	const third = generateSecretKey();
	const thirdPk = getPublicKey(third);
	const t = {
		kind: 1,
		created_at: Math.floor(Date.now() / 1000) - 7,
		tags: [
			['p', thirdPk],
			['t', 'keycastd', 'x'],
		],
		content: 'hello "quoted" \\ back\nslash, ünïcödé ✓',
	};
	await expectOk(
		signer.signEvent(t),
		'sign_event: verifies, by the user key, kind/content/tags/created_at as templated',
		(e) => signedMatches(e, userPk, t),
	);
	const bare = { kind: 7, content: '+' };
	await expectOk(
		signer.sendRequest('sign_event', [JSON.stringify(bare)]),
		'sign_event without tags and created_at: filled in (created_at near now)',
		(s) => {
			const e = JSON.parse(s);
			return signedMatches(e, userPk, bare) && Math.abs(e.created_at - Date.now() / 1000) < 600;
		},
	);
	await expectOk(signer.sendRequest('ping', []), 'ping answers "pong"', (v) => v === 'pong');
	await cryptoChecks(signer, third, thirdPk, userPk);
	await expectOk(
		signer.sendRequest('switch_relays', []),
		'switch_relays: a JSON string array of the relays',
		(v) => JSON.stringify(JSON.parse(v)) === JSON.stringify([relay]),
	);
	// BunkerSigner's own subscription would throw on a NIP-04 reply: closed
	// meanwhile (BunkerSigner opens it again on its next request).
	signer.subCloser?.close();
	signer.subCloser = undefined;
	await nip04Client(sk, bp, userPk);
	await expectError(
		signer.sendRequest('frobnicate', []),
		'unknown method',
		'an unknown method is refused: "unknown method"',
	);
	await expectError(
		signer.sendRequest('sign_event', ['{"kind":"one","content":1}']),
		'sign_event: params[0] is not an event template',
		'a malformed template is refused: "sign_event: params[0] is not an event template"',
	);
	await refusals(uri, sk, bp, signer);
}

// nip44/nip04 encrypt and decrypt as the user key, checked against nostr-tools.
async function cryptoChecks(signer, third, thirdPk, userPk) {
	const ck = nip44.getConversationKey(third, userPk);
	const pt = 'secret message: ünïcödé ✓ ' + 'x'.repeat(300);
	await expectOk(
		signer.nip44Encrypt(thirdPk, pt),
		"nip44_encrypt: the third party decrypts it with the user's pubkey",
		(c) => nip44.decrypt(c, ck) === pt,
	);
	await expectOk(
		signer.nip44Decrypt(thirdPk, nip44.encrypt(pt + ' back', ck)),
		'nip44_decrypt of what the third party encrypted to the user',
		(v) => v === pt + ' back',
	);
	await expectOk(
		signer.nip04Encrypt(thirdPk, pt),
		"nip04_encrypt: the third party decrypts it with the user's pubkey",
		(c) => c.includes('?iv=') && nip04.decrypt(third, userPk, c) === pt,
	);
	await expectOk(
		signer.nip04Decrypt(thirdPk, nip04.encrypt(third, userPk, pt + ' 04')),
		'nip04_decrypt of what the third party encrypted to the user',
		(v) => v === pt + ' 04',
	);
	await expectError(
		signer.nip44Encrypt('zz', pt),
		'is not a public key',
		'nip44_encrypt to a malformed pubkey is refused ("not a public key")',
	);
}

// The same bound client speaking NIP-04: the replies are NIP-04 too.
async function nip04Client(sk, bp, userPk) {
	const c = new RawClient(sk, bp.pubkey, bp.relays);
	try {
		await c.open();
		const r1 = await c.call('get_public_key', [], 'nip04');
		check(
			r1.scheme === 'nip04' && r1.event.content.includes('?iv='),
			'a NIP-04 request gets a NIP-04 reply (content has "?iv=")',
			JSON.stringify(r1.reply),
		);
		check(
			r1.reply.result === userPk,
			'NIP-04 get_public_key: the user key',
			JSON.stringify(r1.reply),
		);
		const t = note('signed over NIP-04');
		const r2 = await c.call('sign_event', [JSON.stringify(t)], 'nip04');
		check(
			r2.scheme === 'nip04' && !r2.reply.error && signedMatches(r2.reply.result, userPk, t),
			'NIP-04 sign_event: a NIP-04 reply with the signed event',
			JSON.stringify(r2.reply),
		);
		const r3 = await c.call('ping', []);
		check(
			r3.scheme === 'nip44' && r3.reply.result === 'pong',
			'the same client speaking NIP-44 again gets NIP-44',
			JSON.stringify(r3.reply),
		);
	} catch (e) {
		check(false, 'NIP-04 raw client', why(e));
	}
	c.sub?.close();
}

// Unbound client, reused secret, logout.
async function refusals(uri, sk, bp, signer) {
	const stranger = (await bunker(uri, generateSecretKey())).signer;
	await expectError(
		stranger.getPublicKey(),
		'not connected',
		'a client that never connected is refused: "not connected"',
	);
	const thief = (await bunker(uri, generateSecretKey())).signer;
	await expectError(
		thief.sendRequest('connect', [bp.pubkey, bp.secret]),
		'used already',
		'a second client with the first one\'s secret is refused: "used already"',
	);
	await expectError(thief.getPublicKey(), 'not connected', 'that second client stays unbound');
	await expectOk(
		signer.sendRequest('connect', [bp.pubkey, bp.secret]),
		'the bound client connecting again gets "ack"',
		(v) => v === 'ack',
	);
	await expectOk(signer.sendRequest('logout', []), 'logout answers "ack"', (v) => v === 'ack');
	await expectError(
		signer.sendRequest('get_public_key', []),
		'not connected',
		'after logout its requests are refused: "not connected"',
	);
	await expectError(
		signer.sendRequest('connect', [bp.pubkey, bp.secret]),
		'used already',
		'after logout the spent secret does not bind it again',
	);
}

// A refusal by policy (the authorization was created with the matching --policy).
async function policy(what, uri) {
	const { bp, signer } = await bunker(uri, generateSecretKey());
	await expectOk(
		signer.sendRequest('connect', [bp.pubkey, bp.secret]),
		'connect',
		(v) => v === 'ack',
	);
	if (what === 'kinds') {
		await expectOk(signer.signEvent(note('allowed kind')), 'kind 1 is signed', (e) => e.kind === 1);
		await expectError(
			signer.signEvent(note('dm', 4)),
			'kind 4 is not allowed',
			'kind 4 refused: "kind 4 is not allowed"',
		);
	} else if (what === 'methods') {
		await expectOk(signer.getPublicKey(), 'get_public_key allowed', (v) =>
			/^[0-9a-f]{64}$/.test(v),
		);
		await expectError(
			signer.nip44Encrypt(getPublicKey(generateSecretKey()), 'x'),
			'method nip44_encrypt is not allowed',
			'nip44_encrypt refused: "method nip44_encrypt is not allowed"',
		);
	} else if (what === 'rate') {
		// burst 2: connect took the first token
		await expectOk(signer.getPublicKey(), 'burst 2: the second request is answered', (v) =>
			/^[0-9a-f]{64}$/.test(v),
		);
		await expectError(
			signer.sendRequest('ping', []),
			'rate limit exceeded',
			'burst 2: the third request gets "rate limit exceeded"',
		);
	} else {
		throw new Error(`unknown policy scenario ${what}`);
	}
}

// Connect (retried: the authorization may still be on its way into the
// serving set, and a request nobody subscribed to is gone), then wait past
// the expiry: refused.
async function expired(uri, expiresAt) {
	const { bp, signer } = await bunker(uri, generateSecretKey());
	const ack = await retry(() => signer.sendRequest('connect', [bp.pubkey, bp.secret]), 1500, 10000);
	check(ack.ok && ack.value === 'ack', 'connect before it expires', ack.error);
	const wait = expiresAt * 1000 + 1200 - Date.now();
	if (wait > 0) await sleep(wait);
	await expectError(
		signer.getPublicKey(),
		'authorization expired',
		'after the expiry: "authorization expired"',
	);
}

// Call f every interval ms while nothing answers, at most total ms:
// {ok: true, value} or {ok: false, error} of the first answer.
async function retry(f, interval, total) {
	const deadline = Date.now() + total;
	const pending = [];
	let settled = null;
	while (!settled && Date.now() < deadline) {
		// A daemon's error reply rejects with its text; an Error is the client's own (publish).
		const p = f().then(
			(value) => ({ ok: true, value }),
			(e) =>
				typeof e === 'string'
					? { ok: false, error: e }
					: (diag(`client: ${why(e)}`), new Promise(() => {})),
		);
		p.then((r) => (settled ??= r));
		pending.push(p);
		const step = Math.min(interval, Math.max(1, deadline - Date.now()));
		await Promise.race([...pending, sleep(step)]);
	}
	return settled ?? { ok: false, error: `no answer in ${total} ms` };
}

// Run keycastd (KC_BIN) with args; its stdout.
function kc(args, input) {
	return execFileSync(process.env.KC_BIN, args, {
		input,
		encoding: 'utf8',
		stdio: ['pipe', 'pipe', 'inherit'],
	});
}

// An authorization created while serve runs is served at once; revoked, it is refused.
async function live(key, relay, userPk) {
	const out = JSON.parse(kc(['authz', 'create', key, '--relay', relay, '--format', 'json']));
	const { bp, signer } = await bunker(out.bunker_uri, generateSecretKey());
	// Re-sent every 250 ms: a request published before the daemon has
	// subscribed to the new bunker key is lost (kind 24133 is ephemeral).
	const r = await retry(() => signer.sendRequest('connect', [bp.pubkey, bp.secret]), 250, 2000);
	check(
		r.ok && r.value === 'ack',
		'served within 2 s of its creation: connect answered',
		r.error ?? r.value,
	);
	await expectOk(
		signer.signEvent(note('fresh')),
		'then sign_event answered (2 s client timeout)',
		(e) => e.pubkey === userPk,
		2000,
	);
	kc(['authz', 'revoke', String(out.id)]);
	const deadline = Date.now() + 20000;
	let last = '';
	while (Date.now() < deadline) {
		try {
			last = `answered: ${await within(signer.getPublicKey(), 3000, 'get_public_key')}`;
			signer.cachedPubKey = undefined; // ask the daemon again next time
		} catch (e) {
			last = why(e);
			if (last.includes('authorization revoked')) break;
		}
		await sleep(200);
	}
	check(
		last.includes('authorization revoked'),
		'revoked while serve runs: refused "authorization revoked" (polled)',
		last,
	);
}

// The client-initiated flow: the client waits, the operator accepts its URI.
async function nostrconnect(key, relay, userPk) {
	const sk = generateSecretKey();
	const secret = bytesToHex(generateSecretKey()).slice(0, 32);
	const uri = createNostrConnectURI({
		clientPubkey: getPublicKey(sk),
		relays: [relay],
		secret,
		name: 'test',
	});
	const waiting = BunkerSigner.fromURI(sk, uri, { pool }, 15000);
	await sleep(300); // let the client's subscription reach the relay
	const accepted = kc(['authz', 'accept', key, uri, '--format', 'json']);
	const a = JSON.parse(accepted);
	check(a.client_pubkey === getPublicKey(sk), "authz accept binds the URI's client", accepted);
	let signer;
	try {
		signer = await within(waiting, 20000, 'fromURI');
		check(
			signer.bp.pubkey === a.bunker_pubkey,
			'the client gets the connect reply with its secret, from the bunker key',
		);
	} catch (e) {
		check(false, 'the client gets the connect reply with its secret, from the bunker key', why(e));
		return;
	}
	await expectOk(signer.getPublicKey(), 'get_public_key is the user key', (v) => v === userPk);
	await expectOk(
		signer.signEvent(note('via nostrconnect')),
		'sign_event works',
		(e) => e.pubkey === userPk,
	);
}

// Bind the client CLIENT_SK (retried while the authorization may not be served yet).
async function connectOnly(pairs) {
	for (let i = 0; i + 1 < pairs.length; i += 2) {
		const { bp, signer } = await bunker(pairs[i], hexToBytes(pairs[i + 1]));
		const r = await retry(() => signer.sendRequest('connect', [bp.pubkey, bp.secret]), 2000, 20000);
		check(
			r.ok && r.value === 'ack',
			pairs.length > 2 ? `client ${i / 2 + 1} connected` : 'connect',
			r.error,
		);
	}
}

// Each client connects and asks get_public_key (five times) at once, as
// clients do: with several replicas these may go to another one than the
// connect did; it must know the binding all the same. Then it logs out and
// asks again at once: every replica must refuse it.
async function handoff(uris) {
	const refused = [];
	const served = [];
	for (const uri of uris) {
		const { bp, signer } = await bunker(uri, generateSecretKey());
		const five = () => Array.from({ length: 5 }, () => signer.sendRequest('get_public_key', []));
		try {
			await within(signer.sendRequest('connect', [bp.pubkey, bp.secret]), 10000, 'connect');
			// Several at once: the replicas race for each, so some go to the one that did not bind.
			await within(Promise.all(five()), 10000, 'get_public_key');
		} catch (e) {
			refused.push(why(e));
			continue;
		}
		const out = await within(signer.sendRequest('logout', []), 10000, 'logout').catch(why);
		if (out !== 'ack') served.push(`logout: ${out}`);
		const after = await Promise.allSettled(five().map((p) => within(p, 10000, 'get_public_key')));
		for (const r of after)
			if (r.status === 'fulfilled' || !why(r.reason).includes('not connected'))
				served.push(r.value ?? why(r.reason));
	}
	check(
		refused.length === 0,
		`connect, then 5 get_public_key at once, ${uris.length} clients: none refused`,
		`${refused.length} refused: ${refused[0]}`,
	);
	check(
		served.length === 0,
		`logout, then 5 get_public_key at once, ${uris.length} clients: all refused "not connected"`,
		`${served.length} not refused: ${served[0]}`,
	);
}

// sign_event until a reply comes (see the header); the first reply decides.
async function until(uri, skHex, expect, secs, retryOn) {
	const { signer } = await bunker(uri, hexToBytes(skHex));
	const deadline = Date.now() + secs * 1000;
	let r;
	for (;;) {
		r = await retry(
			() => signer.sendRequest('sign_event', [JSON.stringify(note('until'))]),
			2000,
			Math.max(1, deadline - Date.now()),
		);
		if (!retryOn || r.ok || !r.error.includes(retryOn) || Date.now() >= deadline) break;
		diag(`retrying after: ${r.error}`);
		await sleep(500);
	}
	if (expect === 'ok')
		check(r.ok && verifyEvent(JSON.parse(r.value)), 'sign_event answered', r.error ?? r.value);
	else
		check(
			!r.ok && r.error.includes(expect),
			`sign_event refused: "${expect}"`,
			r.error ?? `answered: ${r.value}`,
		);
}

// The daemons' claims_total{result="won"}, summed.
async function wonClaims(urls) {
	let sum = 0;
	const each = [];
	for (const u of urls) {
		const text = await within(
			fetch(u).then((r) => r.text()),
			10000,
			`GET ${u}`,
		);
		const m = text.match(/^keycastd_signer_claims_total\{result="won"\} (\d+)$/m);
		each.push(m ? +m[1] : 0);
		sum += m ? +m[1] : 0;
	}
	return { sum, each };
}

// N sign_events over several bound raw clients: each answered exactly once.
async function load(n, metricsUrls, pairs) {
	const clients = [];
	for (let i = 0; i + 1 < pairs.length; i += 2) {
		const bp = await parseBunkerInput(pairs[i]);
		const c = new RawClient(hexToBytes(pairs[i + 1]), bp.pubkey, bp.relays);
		await c.open();
		clients.push(c);
	}
	const urls = metricsUrls.split(',');
	const before = await wonClaims(urls);
	const sent = [];
	const batch = 25;
	for (let i = 0; i < n; i += batch) {
		const ids = await Promise.all(
			Array.from({ length: Math.min(batch, n - i) }, (_, k) => {
				const c = clients[(i + k) % clients.length];
				const t = note(`load #${i + k}`);
				return c.send('sign_event', [JSON.stringify(t)]).then((id) => ({ c, id, t }));
			}),
		);
		sent.push(...ids);
		await Promise.allSettled(ids.map(({ c, id }) => c.wait(id, 30000)));
	}
	await sleep(1000); // time for a duplicate to show
	let answered = 0,
		twice = 0,
		good = 0;
	const bad = [];
	for (const { c, id, t } of sent) {
		const list = c.replies.get(id) ?? [];
		answered += list.length > 0;
		twice += list.length > 1;
		const ok =
			list.length > 0 &&
			!list[0].reply.error &&
			signedMatches(list[0].reply.result, JSON.parse(list[0].reply.result).pubkey, t);
		good += ok;
		if (list.length > 0 && !ok)
			bad.push(`${c.eventIds.get(id)}: ${JSON.stringify(list[0].reply)} for ${JSON.stringify(t)}`);
	}
	for (const { c, id } of sent) console.log(`request ${c.eventIds.get(id)}`);
	const distinct = new Set(sent.map((s) => s.id)).size;
	check(
		distinct === n && answered === n,
		`${n} distinct requests, all answered (0 missing)`,
		`distinct ${distinct}, answered ${answered}`,
	);
	check(twice === 0, 'no request answered twice', `${twice} answered more than once`);
	check(
		good === n,
		'every reply is the signed event asked for',
		`${good} of ${n}\n${bad.slice(0, 3).join('\n')}`,
	);
	const after = await wonClaims(urls);
	const won = after.each.map((v, i) => v - before.each[i]);
	diag(`claims won per daemon during the load: ${won.join(' + ')}`);
	check(
		after.sum - before.sum === n,
		`the daemons' claims_total{result="won"} grew by ${n} in all`,
		`grew by ${after.sum - before.sum}`,
	);
}

// N requests at once; "sent" once the relay has them all. Ends when all are
// answered, or 1 s after SIGUSR2 (the daemon has exited: whatever it
// answered is at the relay by then); prints "request EVENT_ID answered|unanswered".
async function inflight(uri, skHex, n) {
	const bp = await parseBunkerInput(uri);
	const c = new RawClient(hexToBytes(skHex), bp.pubkey, bp.relays);
	let stop;
	const stopped = new Promise((r) => (stop = r));
	process.on('SIGUSR2', () => sleep(1000).then(stop));
	await c.open();
	// Not waiting for the relay's OKs (it may acknowledge late): "sent" once written.
	const ids = await Promise.all(
		Array.from({ length: n }, (_, i) =>
			c.send('sign_event', [JSON.stringify(note(`in flight #${i}`))], 'nip44', false),
		),
	);
	await sleep(100);
	console.log('sent');
	await within(
		Promise.race([Promise.allSettled(ids.map((id) => c.wait(id, 60000))), stopped]),
		60000,
		'in flight',
	).catch((e) => diag(why(e)));
	await sleep(300); // time for a duplicate to show
	const answered = ids.filter((id) => c.replies.has(id));
	for (const id of ids)
		console.log(`request ${c.eventIds.get(id)} ${c.replies.has(id) ? 'answered' : 'unanswered'}`);
	diag(`${answered.length} of ${n} answered`);
	check(
		answered.every(
			(id) =>
				!c.replies.get(id)[0].reply.error &&
				verifyEvent(JSON.parse(c.replies.get(id)[0].reply.result)),
		),
		'every answer is a signed event',
	);
	check(
		ids.every((id) => (c.replies.get(id)?.length ?? 0) <= 1),
		'none answered twice',
	);
}

// nostr-tools throws from inside its event handlers on replies it cannot read.
process.on('unhandledRejection', (e) => diag(`client library: ${why(e)}`));
process.on('uncaughtException', (e) => diag(`client library: ${why(e)}`));

const [cmd, ...args] = process.argv.slice(2);
const commands = {
	methods: () => methods(args[0], args[1], args[2]),
	policy: () => policy(args[0], args[1]),
	expired: () => expired(args[0], +args[1]),
	live: () => live(args[0], args[1], args[2]),
	nostrconnect: () => nostrconnect(args[0], args[1], args[2]),
	connect: () => connectOnly(args),
	handoff: () => handoff(args),
	until: () => until(args[0], args[1], args[2], +args[3], args[4]),
	load: () => load(+args[0], args[1], args.slice(2)),
	inflight: () => inflight(args[0], args[1], +args[2]),
};
if (!commands[cmd]) {
	console.error(
		'usage: node nip46.mjs methods|policy|expired|live|nostrconnect|connect|handoff|until|load|inflight ARGS...',
	);
	process.exit(2);
}
try {
	await commands[cmd]();
} catch (e) {
	check(false, `${cmd}: ${why(e)}`);
}
process.exit(failed ? 1 : 0);
