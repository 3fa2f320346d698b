-- 0003_signer.sql - the connect reply of a client-initiated (nostrconnect://) authorization.
--
-- `keycastd authz accept KEY nostrconnect://...` stores an authorization
-- already bound to the client, whose secret the signer must send back in
-- its connect reply. connect_reply_sealed holds that secret sealed like
-- the other secrets (src/db/db_seal.h), its associated data the row's
-- identity "keycastd:connect-reply:<bunker_pubkey>:v<bunker_key_version>";
-- NULL for an authorization made by `authz create`. connect_reply_sent_at
-- is set by the one replica that claims the right to send the reply (an
-- UPDATE ... WHERE connect_reply_sent_at IS NULL: exactly one wins), and
-- cleared again when no relay took the reply, so it is sent again. Both
-- changes bump the serving generation (0002's row trigger), so every
-- replica reloads and sees whether the reply is still to be sent.
ALTER TABLE authorizations
	ADD COLUMN connect_reply_sealed bytea,
	ADD COLUMN connect_reply_sent_at timestamptz;
