// relay-wasm.mjs - the test relay (tests/peers/relay.mjs, same environment
// and output) with its signature check done by libsecp256k1 compiled to
// WebAssembly (nostr-wasm, already installed with tests/peers as a
// dependency of nostr-tools) instead of @noble/curves in JavaScript.
//
// The relay checks every event it receives: each NIP-46 request and each
// reply. With noble that costs about 2.5 ms of CPU per event on a server
// core, which makes the relay, not the bunker, the limit of an end-to-end
// run on a small machine; libsecp256k1 in WebAssembly takes about a sixth of
// that. Everything else the relay does is unchanged, and invalid
// signatures are still refused (bench/e2e.sh --relay-verify noble runs the
// plain relay instead).
import { createRequire } from 'node:module';

const relayUrl = new URL('../../tests/peers/relay.mjs', import.meta.url);
const require = createRequire(relayUrl);
const { EventUtils } = require('@nostr-relay/common');
const { initNostrWasm } = await import(require.resolve('nostr-wasm'));
const wasm = await initNostrWasm();

// The same contract as EventUtils.isSigValid: true when sig is the event's
// valid BIP-340 signature by its pubkey (verifyEvent checks the id too).
EventUtils.isSigValid = (event) => {
	try {
		wasm.verifyEvent(event);
		return true;
	} catch {
		return false;
	}
};

await import(relayUrl);
