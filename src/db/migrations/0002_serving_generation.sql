-- 0002_serving_generation.sql - a counter that every change to the serving set bumps.
--
-- Replicas poll serving_generation (one row, one integer) and reload the
-- serving set when it moves: an admin's `key remove` or `authz revoke`, a
-- new authorization, a connect spending a secret. The bump is an UPDATE
-- in the changing transaction, so a replica sees the new generation only
-- once the change is committed and visible. Row triggers: a statement that
-- changes nothing (a lost connect race) bumps nothing. The triggers'
-- names sort after PostgreSQL's "RI_ConstraintTrigger_*", so a cascading
-- delete locks the authorization rows before the counter row, in the same
-- order as every other writer.
CREATE TABLE serving_generation (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	generation bigint NOT NULL
);
INSERT INTO serving_generation (generation) VALUES (1);

CREATE FUNCTION serving_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE serving_generation SET generation = generation + 1;
	RETURN NULL;
END
$$;

CREATE TRIGGER serving_bump_keys AFTER INSERT OR UPDATE OR DELETE ON keys
	FOR EACH ROW EXECUTE FUNCTION serving_generation_bump();
CREATE TRIGGER serving_bump_keys_truncate AFTER TRUNCATE ON keys
	FOR EACH STATEMENT EXECUTE FUNCTION serving_generation_bump();
CREATE TRIGGER serving_bump_authorizations AFTER INSERT OR UPDATE OR DELETE ON authorizations
	FOR EACH ROW EXECUTE FUNCTION serving_generation_bump();
CREATE TRIGGER serving_bump_authorizations_truncate AFTER TRUNCATE ON authorizations
	FOR EACH STATEMENT EXECUTE FUNCTION serving_generation_bump();
