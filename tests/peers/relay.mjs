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
//                   EVENTs get "auth-required:" until the client authenticated
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
const server = tls
	? https.createServer({
			cert: fs.readFileSync(process.env.RELAY_TLS_CERT),
			key: fs.readFileSync(process.env.RELAY_TLS_KEY),
		})
	: http.createServer();
const wss = new WebSocketServer({ server });

// Handle one client message; in AUTH mode refuse EVENTs until authenticated.
async function onMessage(ws, data) {
	try {
		const msg = await validator.validateIncomingMessage(data);
		if (auth && msg[0] === 'EVENT' && !relay.isAuthorized(ws)) {
			ws.send(JSON.stringify(['OK', msg[1].id, false, 'auth-required: please AUTH']));
			return;
		}
		await relay.handleMessage(ws, msg);
	} catch (e) {
		ws.send(JSON.stringify(['NOTICE', 'invalid: ' + e.message]));
	}
}

wss.on('connection', (ws, req) => {
	relay.handleConnection(ws, req.socket.remoteAddress);
	ws.on('message', (data) => onMessage(ws, data));
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
