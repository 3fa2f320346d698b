-- 0001_init.sql - keys, authorizations, request claims, audit log.
--
-- Secrets are never stored in clear: sealed_secret columns hold
-- AES-256-GCM sealed values (src/db/db_seal.h) whose associated data is
-- the row's identity, and connect secrets are stored as SHA-256 hashes.

-- Users' Nostr keys: the public key, an admin's name for it, the sealed
-- secret key and the master key version it was sealed under.
CREATE TABLE keys (
	id bigserial PRIMARY KEY,
	pubkey text NOT NULL UNIQUE CHECK (pubkey ~ '^[0-9a-f]{64}$'),
	name text NOT NULL UNIQUE CHECK (name <> ''),
	sealed_secret bytea NOT NULL,
	key_version integer NOT NULL DEFAULT 1 CHECK (key_version > 0),
	created_at timestamptz NOT NULL DEFAULT now()
);

-- A client app's right to sign with a key through one bunker keypair.
-- The connect secret is single-use: secret_used_at is set, and the
-- client's pubkey bound, by the first successful connect.
CREATE TABLE authorizations (
	id bigserial PRIMARY KEY,
	key_id bigint NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
	bunker_pubkey text NOT NULL UNIQUE CHECK (bunker_pubkey ~ '^[0-9a-f]{64}$'),
	bunker_sealed_secret bytea NOT NULL,
	bunker_key_version integer NOT NULL DEFAULT 1 CHECK (bunker_key_version > 0),
	secret_hash bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
	secret_used_at timestamptz,
	client_pubkey text CHECK (client_pubkey ~ '^[0-9a-f]{64}$'),
	relays text[] NOT NULL CHECK (cardinality(relays) > 0),
	policy jsonb NOT NULL DEFAULT '{}'::jsonb,
	label text NOT NULL DEFAULT '',
	expires_at timestamptz,
	revoked_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX authorizations_key_id ON authorizations (key_id);

-- One row per NIP-46 request event some replica answers: the first
-- INSERT wins, every other replica's ON CONFLICT DO NOTHING loses.
CREATE TABLE request_claims (
	event_id text PRIMARY KEY CHECK (event_id ~ '^[0-9a-f]{64}$'),
	instance_id text NOT NULL,
	claimed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX request_claims_claimed_at ON request_claims (claimed_at);

-- What was done for whom: never a secret, never a plaintext.
CREATE TABLE audit_log (
	id bigserial PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	instance_id text NOT NULL,
	authorization_id bigint REFERENCES authorizations (id) ON DELETE SET NULL,
	key_pubkey text NOT NULL,
	client_pubkey text,
	method text NOT NULL,
	event_kind integer,
	event_id text,
	outcome text NOT NULL,
	detail text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
