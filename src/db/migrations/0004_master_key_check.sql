-- 0004_master_key_check.sql - a sealed canary per master key version.
--
-- Every secret in the database is sealed under the master key (see
-- src/db/db_seal.h). A replica or an admin command started with another
-- master key could not unseal them, and worse, would seal new rows that
-- no other replica can unseal. So the database keeps, per key version, a
-- known text sealed under the master key of that version, its associated
-- data "keycastd:keycheck:master:v<key_version>": each command that needs
-- the key, and `serve` at boot, unseal it first and refuse a key that
-- does not open it. The first one to run with a key stores the canary
-- (after checking the key against a sealed key row, when there is one).
CREATE TABLE master_key_check (
	key_version integer PRIMARY KEY CHECK (key_version > 0),
	sealed bytea NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
