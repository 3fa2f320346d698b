/*
 * db_hex.h - hex text for binary values (sealed secrets, hashes) in SQL.
 */
#ifndef KC_DB_HEX_H
#define KC_DB_HEX_H

#include <stddef.h>

/* Write in[0..n) as lower-case hex into out (room for 2n+1). -1 if too small. */
int db_hex_encode(char *out, size_t cap, const unsigned char *in, size_t n)
	__attribute__((warn_unused_result));

/* Decode hex into out (room for cap bytes); *n gets the length. -1 if malformed. */
int db_hex_decode(unsigned char *out, size_t cap, const char *hex, size_t *n)
	__attribute__((warn_unused_result));

#endif /* KC_DB_HEX_H */
