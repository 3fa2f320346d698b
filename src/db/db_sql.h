/*
 * db_sql.h - every SQL statement of keycastd, defined once.
 *
 * The daemon's asynchronous store (db_store.c) and the synchronous admin
 * commands (db_admin.c, db_migrate.c) run these same texts, always with
 * bound parameters ($1, $2, ...), never with interpolated values. Binary
 * values (sealed secrets, hashes) travel as hex text through
 * decode($n, 'hex') / encode(col, 'hex'); lists as JSON text.
 */
#ifndef KC_DB_SQL_H
#define KC_DB_SQL_H

/* Migrations: the advisory lock key is ("keyc", 1). */
#define DB_SQL_MIGRATE_TRY_LOCK "SELECT pg_try_advisory_lock(1801812323, 1)"
/* Who holds the migration lock: the backend pid of each holder (none: released meanwhile). */
#define DB_SQL_MIGRATE_LOCK_HOLDER                                                                 \
	"SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"                         \
	" AND classid = 1801812323 AND objid = 1 AND objsubid = 2"
#define DB_SQL_MIGRATE_UNLOCK "SELECT pg_advisory_unlock(1801812323, 1)"
#define DB_SQL_SCHEMA_CREATE                                                                       \
	"CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY,"                  \
	" name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
/* Whether the schema_version table exists. */
#define DB_SQL_SCHEMA_EXISTS "SELECT to_regclass('schema_version') IS NOT NULL"
/* The highest applied version (NULL if none). */
#define DB_SQL_SCHEMA_VERSION "SELECT max(version) FROM schema_version"
#define DB_SQL_SCHEMA_RECORD  "INSERT INTO schema_version (version, name) VALUES ($1::int, $2)"

/* Keys: $1 pubkey hex, $2 name, $3 sealed hex, $4 key version. No row: name or pubkey taken. */
#define DB_SQL_KEY_INSERT                                                                          \
	"INSERT INTO keys (pubkey, name, sealed_secret, key_version)"                              \
	" VALUES ($1, $2, decode($3, 'hex'), $4::int) ON CONFLICT DO NOTHING RETURNING id"
/* $1 pubkey hex, $2 name: the keys that hold either (name, pubkey). */
#define DB_SQL_KEY_TAKEN "SELECT name, pubkey FROM keys WHERE pubkey = $1 OR name = $2"
/* id, pubkey, name, key_version, created_at, live authorizations. */
#define DB_SQL_KEY_LIST                                                                            \
	"SELECT k.id, k.pubkey, k.name, k.key_version,"                                            \
	" to_char(k.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"             \
	" (SELECT count(*) FROM authorizations a WHERE a.key_id = k.id"                            \
	" AND a.revoked_at IS NULL) FROM keys k ORDER BY k.id"
/* $1 name or pubkey hex: id, pubkey, name. */
#define DB_SQL_KEY_FIND "SELECT id, pubkey, name FROM keys WHERE name = $1 OR pubkey = $1"
/* $1 name or pubkey hex (its authorizations go with it). */
#define DB_SQL_KEY_DELETE "DELETE FROM keys WHERE name = $1 OR pubkey = $1 RETURNING id"

/*
 * Authorizations: $1 key id, $2 bunker pubkey, $3 sealed bunker secret
 * hex, $4 key version, $5 SHA-256 of the connect secret hex, $6 relays
 * JSON array, $7 policy JSON, $8 label, $9 lifetime in seconds or NULL.
 */
#define DB_SQL_AUTHZ_INSERT                                                                        \
	"INSERT INTO authorizations (key_id, bunker_pubkey, bunker_sealed_secret,"                 \
	" bunker_key_version, secret_hash, relays, policy, label, expires_at)"                     \
	" VALUES ($1::bigint, $2, decode($3, 'hex'), $4::int, decode($5, 'hex'),"                  \
	" ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), $7::jsonb, $8,"                      \
	" now() + make_interval(secs => $9::bigint)) RETURNING id"
/* id, key name, key pubkey, bunker pubkey, label, client pubkey, secret used,
 * relays JSON, expires, revoked, created (timestamps as ISO 8601 UTC). */
#define DB_SQL_AUTHZ_LIST                                                                          \
	"SELECT a.id, k.name, k.pubkey, a.bunker_pubkey, a.label, a.client_pubkey,"                \
	" a.secret_used_at IS NOT NULL, array_to_json(a.relays)::text,"                            \
	" to_char(a.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"             \
	" to_char(a.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"             \
	" to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"              \
	" FROM authorizations a JOIN keys k ON k.id = a.key_id ORDER BY a.id"
/*
 * nostrconnect: an authorization already bound to its client. $1..$9 as for
 * DB_SQL_AUTHZ_INSERT ($5 hashes a secret nobody knows: it is spent at
 * once), $10 client pubkey, $11 the client's secret sealed, hex.
 */
#define DB_SQL_AUTHZ_ACCEPT                                                                        \
	"INSERT INTO authorizations (key_id, bunker_pubkey, bunker_sealed_secret,"                 \
	" bunker_key_version, secret_hash, relays, policy, label, expires_at, client_pubkey,"      \
	" secret_used_at, connect_reply_sealed)"                                                   \
	" VALUES ($1::bigint, $2, decode($3, 'hex'), $4::int, decode($5, 'hex'),"                  \
	" ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), $7::jsonb, $8,"                      \
	" now() + make_interval(secs => $9::bigint), $10, now(), decode($11, 'hex')) RETURNING id"
/* $1 id: revoke once. */
#define DB_SQL_AUTHZ_REVOKE                                                                        \
	"UPDATE authorizations SET revoked_at = now() WHERE id = $1::bigint"                       \
	" AND revoked_at IS NULL RETURNING id"

/*
 * The serving set in one consistent snapshot: every live authorization with
 * its key, and those revoked or expired within the last 24 hours (so the
 * signer can still tell their clients why it refuses). Columns:
 * authorization id, key id, key pubkey, sealed key hex, key version, bunker
 * pubkey, sealed bunker secret hex, bunker key version, secret hash hex,
 * secret used, client pubkey, relays JSON, policy JSON, expiry (Unix
 * seconds or NULL), revoked, sealed connect reply hex (NULL unless the row
 * is live and its reply is still to be sent).
 */
#define DB_SQL_SERVING                                                                             \
	"SELECT a.id, k.id, k.pubkey, encode(k.sealed_secret, 'hex'), k.key_version,"              \
	" a.bunker_pubkey, encode(a.bunker_sealed_secret, 'hex'), a.bunker_key_version,"           \
	" encode(a.secret_hash, 'hex'), a.secret_used_at IS NOT NULL, a.client_pubkey,"            \
	" array_to_json(a.relays)::text, a.policy::text,"                                          \
	" extract(epoch FROM a.expires_at)::bigint, a.revoked_at IS NOT NULL,"                     \
	" CASE WHEN a.revoked_at IS NULL AND (a.expires_at IS NULL OR a.expires_at > now())"       \
	" AND a.connect_reply_sent_at IS NULL THEN encode(a.connect_reply_sealed, 'hex') END"      \
	" FROM authorizations a JOIN keys k ON k.id = a.key_id"                                    \
	" WHERE (a.revoked_at IS NULL OR a.revoked_at > now() - interval '24 hours')"              \
	" AND (a.expires_at IS NULL OR a.expires_at > now() - interval '24 hours')"                \
	" ORDER BY k.id, a.id"

/* The serving set's generation: bumped by every change to keys or authorizations. */
#define DB_SQL_SERVING_GENERATION "SELECT generation FROM serving_generation"

/*
 * Connect: consume the single-use secret and bind the client, atomically:
 * $1 authorization id, $2 SHA-256 of the presented secret hex, $3 client
 * pubkey. One row back for exactly one caller.
 */
#define DB_SQL_AUTHZ_CONSUME                                                                       \
	"UPDATE authorizations SET secret_used_at = now(), client_pubkey = $3"                     \
	" WHERE id = $1::bigint AND secret_hash = decode($2, 'hex')"                               \
	" AND secret_used_at IS NULL AND revoked_at IS NULL"                                       \
	" AND (expires_at IS NULL OR expires_at > now())"                                          \
	" AND (client_pubkey IS NULL OR client_pubkey = $3) RETURNING id"
/* Bind a client to a live (not revoked, not expired) authorization: $1 id, $2 client pubkey. */
#define DB_SQL_AUTHZ_BIND                                                                          \
	"UPDATE authorizations SET client_pubkey = $2 WHERE id = $1::bigint"                       \
	" AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"                   \
	" AND (client_pubkey IS NULL OR client_pubkey = $2) RETURNING id"

/* Logout: unbind client $2 from authorization $1. One row back if it was bound. */
#define DB_SQL_AUTHZ_UNBIND                                                                        \
	"UPDATE authorizations SET client_pubkey = NULL WHERE id = $1::bigint"                     \
	" AND client_pubkey = $2 RETURNING id"
/* nostrconnect: claim the right to send live authorization $1's connect reply (one winner). */
#define DB_SQL_CONNECT_REPLY_CLAIM                                                                 \
	"UPDATE authorizations SET connect_reply_sent_at = now() WHERE id = $1::bigint"            \
	" AND connect_reply_sealed IS NOT NULL AND connect_reply_sent_at IS NULL"                  \
	" AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) RETURNING id"
/* nostrconnect: the reply of authorization $1 was not delivered: let it be claimed again. */
#define DB_SQL_CONNECT_REPLY_RELEASE                                                               \
	"UPDATE authorizations SET connect_reply_sent_at = NULL WHERE id = $1::bigint"             \
	" AND connect_reply_sealed IS NOT NULL AND connect_reply_sent_at IS NOT NULL RETURNING id"

/*
 * Claim a request: $1 event id hex, $2 instance, $3 the authorization it is
 * for, $4 the requesting client's pubkey. One row back for the winner only,
 * holding whether that client is bound to that authorization now: the
 * statement's snapshot sees every connect and logout that committed before
 * the request was sent, whichever replica made it.
 */
#define DB_SQL_CLAIM                                                                               \
	"WITH c AS (INSERT INTO request_claims (event_id, instance_id) VALUES ($1, $2)"            \
	" ON CONFLICT (event_id) DO NOTHING RETURNING event_id)"                                   \
	" SELECT EXISTS (SELECT 1 FROM authorizations WHERE id = $3::bigint"                       \
	" AND client_pubkey = $4) FROM c"
/* Drop claims older than $1 seconds. */
#define DB_SQL_CLAIMS_EXPIRE                                                                       \
	"DELETE FROM request_claims WHERE claimed_at < now() - make_interval(secs => $1::bigint)"

/* Audit: $1 instance, $2 authorization id, $3 key pubkey, $4 client pubkey,
 * $5 method, $6 event kind, $7 event id, $8 outcome, $9 detail. */
#define DB_SQL_AUDIT_APPEND                                                                        \
	"INSERT INTO audit_log (instance_id, authorization_id, key_pubkey, client_pubkey,"         \
	" method, event_kind, event_id, outcome, detail)"                                          \
	" VALUES ($1, $2::bigint, $3, $4, $5, $6::int, $7, $8, $9)"
/*
 * Audit, many entries in one statement: $1 instance, $2 a JSON array of
 * objects whose members are the columns of DB_SQL_AUDIT_APPEND ($2..$9;
 * null for none), appended in array order.
 */
#define DB_SQL_AUDIT_BATCH                                                                         \
	"INSERT INTO audit_log (instance_id, authorization_id, key_pubkey, client_pubkey,"         \
	" method, event_kind, event_id, outcome, detail)"                                          \
	" SELECT $1, x.authorization_id, x.key_pubkey, x.client_pubkey, x.method, x.event_kind,"   \
	" x.event_id, x.outcome, coalesce(x.detail, '')"                                           \
	" FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (authorization_id bigint,"              \
	" key_pubkey text, client_pubkey text, method text, event_kind integer, event_id text,"    \
	" outcome text, detail text)) WITH ORDINALITY AS x(authorization_id, key_pubkey,"          \
	" client_pubkey, method, event_kind, event_id, outcome, detail, n) ORDER BY x.n"

/*
 * API tokens (0005): $1 authorization id, $2 SHA-256 of the token hex, $3
 * its prefix, $4 label. A row back only for a live authorization (not
 * revoked, not expired): id.
 */
#define DB_SQL_TOKEN_INSERT                                                                        \
	"INSERT INTO api_tokens (authorization_id, token_hash, prefix, label)"                     \
	" SELECT a.id, decode($2, 'hex'), $3, $4 FROM authorizations a WHERE a.id = $1::bigint"    \
	" AND a.revoked_at IS NULL AND (a.expires_at IS NULL OR a.expires_at > now())"             \
	" RETURNING id"
/* $1 authorization id: whether it exists (revoked, expired), to tell why a token was refused. */
#define DB_SQL_TOKEN_AUTHZ_STATE                                                                   \
	"SELECT revoked_at IS NOT NULL, expires_at IS NOT NULL AND expires_at <= now()"            \
	" FROM authorizations WHERE id = $1::bigint"
/* id, authorization id, prefix, label, created, revoked; $1 authorization id or NULL: all. */
#define DB_SQL_TOKEN_LIST                                                                          \
	"SELECT t.id, t.authorization_id, t.prefix, t.label,"                                      \
	" to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"             \
	" to_char(t.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"              \
	" FROM api_tokens t WHERE $1::bigint IS NULL OR t.authorization_id = $1::bigint"           \
	" ORDER BY t.id"
/* $1 token id: revoke once. */
#define DB_SQL_TOKEN_REVOKE                                                                        \
	"UPDATE api_tokens SET revoked_at = now() WHERE id = $1::bigint AND revoked_at IS NULL"    \
	" RETURNING id"
/*
 * The tokens of the serving set: those of authorizations the serving set
 * holds (live, or revoked or expired within the last 24 hours). Columns:
 * token id, authorization id, SHA-256 hex, prefix, revoked.
 */
#define DB_SQL_TOKEN_SERVING                                                                       \
	"SELECT t.id, t.authorization_id, encode(t.token_hash, 'hex'), t.prefix,"                  \
	" t.revoked_at IS NOT NULL FROM api_tokens t JOIN authorizations a"                        \
	" ON a.id = t.authorization_id"                                                            \
	" WHERE (a.revoked_at IS NULL OR a.revoked_at > now() - interval '24 hours')"              \
	" AND (a.expires_at IS NULL OR a.expires_at > now() - interval '24 hours')"                \
	" AND (t.revoked_at IS NULL OR t.revoked_at > now() - interval '24 hours') ORDER BY t.id"
/*
 * An API request's check, as of now: one row back when token $1 and its
 * authorization are live (a revocation through any replica counts at once).
 */
#define DB_SQL_TOKEN_LIVE                                                                          \
	"SELECT 1 FROM api_tokens t JOIN authorizations a ON a.id = t.authorization_id"            \
	" WHERE t.id = $1::bigint AND t.revoked_at IS NULL AND a.revoked_at IS NULL"               \
	" AND (a.expires_at IS NULL OR a.expires_at > now())"

#endif /* KC_DB_SQL_H */
