// relay.mjs - a real Nostr relay on loopback for keycastd's tests.
//
// @nostr-relay/{core,common,validator} 0.0.40 over ws 8.18.3 with a small
// in-memory event repository. Prints its URL (ws:// or wss://) on stdout
// once listening.
//
// Environment:
//   RELAY_PORT      port to listen on (default 0: the kernel picks)
//   RELAY_TLS_CERT  with RELAY_TLS_KEY: serve wss:// with this PEM cert/key
//   RELAY_AUTH=1    NIP-42: the relay sends AUTH on connect (domain 127.0.0.1);
//                   it restricts by pubkey: an EVENT gets "auth-required:"
//                   until its author has authenticated on the connection, a
//                   REQ gets CLOSED "auth-required:" until anyone has
//   RELAY_UPSTREAM_MATCH=1  leave the upstream #p live-filter bug in place
//                   (to show that the tests notice it)
//   RELAY_OK_DELAY_MS  answer every EVENT's OK this much later (the event
//                   itself is delivered at once), as a distant relay would:
//                   a publisher's acknowledgement stays pending meanwhile
// A REQ whose subscription id starts with "hostile" is first answered with
// malformed messages and forged events (bad id, bad signature), so the
// client's validation can be checked against a real peer.
// With TLS, the SNI server name each client sends is logged on stderr.
// Signals: SIGUSR1 drops every client at once (no close frame), for
// reconnect tests; SIGTERM / SIGINT stop the relay.
//
// Upstream bug worked around: @nostr-relay/common 0.0.40 ignores tag
// filters (#p) when matching live events; the match is ANDed with
// nostr-tools' matchFilter.
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import core from '@nostr-relay/core';
import common from '@nostr-relay/common';
import validatorPkg from '@nostr-relay/validator';
import { matchFilter } from 'nostr-tools/filter';
import { WebSocketServer } from 'ws';

const { NostrRelay } = core;
const { EventRepository, EventUtils } = common;
const { Validator } = validatorPkg;

// The #p live-filter workaround: both matchers must agree.
const upstreamMatch = EventUtils.isMatchingFilter.bind(EventUtils);
if (process.env.RELAY_UPSTREAM_MATCH !== '1')
	EventUtils.isMatchingFilter = (event, filter) =>
		upstreamMatch(event, filter) && matchFilter(filter, event);

// An in-memory repository: regular events kept, ephemeral ones (20000-29999)
// never stored, as real relays do.
class MemoryRepository extends EventRepository {
	constructor() {
		super();
		this.events = new Map();
	}
	isSearchSupported() {
		return false;
	}
	upsert(event) {
		if (event.kind >= 20000 && event.kind < 30000) return { isDuplicate: false };
		if (this.events.has(event.id)) return { isDuplicate: true };
		this.events.set(event.id, event);
		return { isDuplicate: false };
	}
	find(filter) {
		const out = [...this.events.values()]
			.filter((e) => matchFilter(filter, e))
			.sort((a, b) => b.created_at - a.created_at);
		return filter.limit !== undefined ? out.slice(0, filter.limit) : out;
	}
	async destroy() {}
}

const auth = process.env.RELAY_AUTH === '1';
const relay = new NostrRelay(new MemoryRepository(), auth ? { domain: '127.0.0.1' } : {});
const validator = new Validator();
const tls = process.env.RELAY_TLS_CERT && process.env.RELAY_TLS_KEY;
// With TLS: log the SNI name, then serve the one certificate.
function sniCallback(servername, cb) {
	console.error(`relay: tls servername ${servername}`);
	cb(null, undefined);
}
const server = tls
	? https.createServer({
			cert: fs.readFileSync(process.env.RELAY_TLS_CERT),
			key: fs.readFileSync(process.env.RELAY_TLS_KEY),
			SNICallback: sniCallback,
		})
	: http.createServer();
const wss = new WebSocketServer({ server });
// A TLS client that sent no SNI at all (SNICallback only sees names).
server.on('secureConnection', (socket) => {
	if (!socket.servername) console.error('relay: tls servername (none)');
});

// AUTH mode: whether msg must be refused for want of authentication.
function authRefusal(ws, msg) {
	if (msg[0] === 'EVENT' && !ws.authed.has(msg[1].pubkey)) {
		ws.send(JSON.stringify(['OK', msg[1].id, false, 'auth-required: please AUTH']));
		return true;
	}
	if (msg[0] === 'REQ' && ws.authed.size === 0) {
		ws.send(JSON.stringify(['CLOSED', msg[1], 'auth-required: please AUTH']));
		return true;
	}
	return false;
}

// The last event the relay accepted, for sendHostile to forge.
let lastAccepted = null;

// A valid event with its id (or, with sig, its signature) spoiled.
function forged(event, sig) {
	const e = { ...event };
	if (sig) e.sig = (e.sig[0] === '0' ? '1' : '0') + e.sig.slice(1);
	else e.id = (e.id[0] === '0' ? '1' : '0') + e.id.slice(1);
	return e;
}

// A "hostile…" REQ: garbage and forged copies of stored events first.
function sendHostile(ws, sub) {
	for (const m of ['not json', '{"EVENT":1}', '["EVENT"]', '["OK","x",true]', '["EOSE",7]'])
		ws.send(m);
	if (!lastAccepted) return;
	ws.send(JSON.stringify(['EVENT', sub, forged(lastAccepted, false)]));
	ws.send(JSON.stringify(['EVENT', sub, forged(lastAccepted, true)]));
}

// Handle one client message; in AUTH mode refuse what needs authentication.
async function onMessage(ws, data) {
	try {
		const msg = await validator.validateIncomingMessage(data);
		if (auth && authRefusal(ws, msg)) return;
		if (msg[0] === 'REQ' && String(msg[1]).startsWith('hostile')) sendHostile(ws, msg[1]);
		const result = await relay.handleMessage(ws, msg);
		if (msg[0] === 'EVENT' && result?.success) lastAccepted = msg[1];
		if (msg[0] === 'AUTH' && result?.success) ws.authed.add(msg[1].pubkey);
	} catch (e) {
		ws.send(JSON.stringify(['NOTICE', 'invalid: ' + e.message]));
	}
}

const okDelay = Number(process.env.RELAY_OK_DELAY_MS || 0);

// Hold back OK messages on ws by okDelay milliseconds.
function delayOks(ws) {
	const send = ws.send.bind(ws);
	ws.send = (data, ...rest) => {
		if (String(data).startsWith('["OK"')) setTimeout(() => send(data, ...rest), okDelay);
		else send(data, ...rest);
	};
}

wss.on('connection', (ws, req) => {
	ws.authed = new Set();
	if (okDelay > 0) delayOks(ws);
	relay.handleConnection(ws, req.socket.remoteAddress);
	// One message at a time, in order, as a relay on one socket does.
	let queue = Promise.resolve();
	ws.on('message', (data) => {
		queue = queue.then(() => onMessage(ws, data));
	});
	ws.on('close', (code) => {
		console.error(`relay: client closed with code ${code}`);
		relay.handleDisconnect(ws);
	});
	ws.on('error', () => {});
});

process.on('SIGUSR1', () => {
	for (const ws of wss.clients) ws.terminate();
	console.error('relay: dropped all clients');
});
const stop = () => {
	for (const ws of wss.clients) ws.terminate();
	wss.close();
	server.close(() => process.exit(0));
	setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

server.listen(Number(process.env.RELAY_PORT || 0), '127.0.0.1', () => {
	const { port } = server.address();
	console.log(`${tls ? 'wss' : 'ws'}://127.0.0.1:${port}`);
});
