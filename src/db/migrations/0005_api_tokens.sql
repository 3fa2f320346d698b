-- 0005_api_tokens.sql - bearer tokens of the HTTP signing API.
--
-- `keycastd authz token create AUTHZ` makes a random token, prints it once
-- and stores only its SHA-256 (token_hash) and its first characters
-- (prefix, to tell tokens apart in `authz token list`). A token acts for
-- its authorization: that authorization's key, policy and rate limit.
-- Every change bumps the serving generation (0002's function), so the
-- daemons pick up a new or revoked token with the next reload. Revoking an
-- authorization revokes its tokens in the same transaction (the trigger
-- below); its name sorts before "serving_bump_authorizations", so the
-- locks are taken in the order every writer takes them: the
-- authorization, then its tokens, then the counter row.
CREATE TABLE api_tokens (
	id bigserial PRIMARY KEY,
	authorization_id bigint NOT NULL REFERENCES authorizations (id) ON DELETE CASCADE,
	token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
	prefix text NOT NULL CHECK (prefix <> ''),
	label text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL DEFAULT now(),
	revoked_at timestamptz
);
CREATE INDEX api_tokens_authorization_id ON api_tokens (authorization_id);

CREATE TRIGGER serving_bump_api_tokens AFTER INSERT OR UPDATE OR DELETE ON api_tokens
	FOR EACH ROW EXECUTE FUNCTION serving_generation_bump();
CREATE TRIGGER serving_bump_api_tokens_truncate AFTER TRUNCATE ON api_tokens
	FOR EACH STATEMENT EXECUTE FUNCTION serving_generation_bump();

CREATE FUNCTION api_tokens_revoke_with_authorization() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE api_tokens SET revoked_at = NEW.revoked_at
		WHERE authorization_id = NEW.id AND revoked_at IS NULL;
	RETURN NULL;
END
$$;

CREATE TRIGGER api_tokens_revoke AFTER UPDATE OF revoked_at ON authorizations
	FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
	EXECUTE FUNCTION api_tokens_revoke_with_authorization();
