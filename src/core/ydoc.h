/*
 * ydoc.h - YAML files loaded as libyaml documents, with positions.
 *
 * A thin layer over libyaml's document API: load every document of a file
 * (or a string), report a syntax error as file:line:col into a diag, and
 * look nodes up by key. Each node keeps libyaml's start_mark, so every
 * later finding can name its position (ydoc_line/ydoc_col are 1-based).
 */
#ifndef KC_YDOC_H
#define KC_YDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

struct diag;

/* The documents of one YAML source. */
struct ydoc_file {
	char *name;	       /* file name used in findings, owned */
	yaml_document_t *docs; /* loaded documents, owned */
	size_t n;
};

/* Load every document of path. Returns 0, or -1 with a finding in d. */
int ydoc_load_file(struct ydoc_file *yf, const char *path, struct diag *d)
	__attribute__((warn_unused_result));

/* Load every document of text[0..len), named name. 0, or -1 with a finding. */
int ydoc_load_string(struct ydoc_file *yf, const char *name, const char *text, size_t len,
		     struct diag *d) __attribute__((warn_unused_result));

/* Release every document. Safe on a zeroed or already freed ydoc_file. */
void ydoc_free(struct ydoc_file *yf);

/* The root node of document doc, or NULL if it is empty. */
yaml_node_t *ydoc_root(yaml_document_t *doc);

/* The value under key in mapping map, or NULL (also if map is no mapping). */
yaml_node_t *ydoc_get(yaml_document_t *doc, yaml_node_t *map, const char *key);

/* The text of a scalar node, or NULL if node is not a scalar. */
const char *ydoc_scalar(const yaml_node_t *node);

/* Whether a scalar node was written plain (not quoted): null, numbers, bools. */
bool ydoc_is_plain(const yaml_node_t *node);

/* 1-based line of a node. */
unsigned ydoc_line(const yaml_node_t *node);

/* 1-based column of a node. */
unsigned ydoc_col(const yaml_node_t *node);

/* A short name of the node's type ("mapping", "sequence", "scalar"). */
const char *ydoc_type_name(const yaml_node_t *node);

#endif /* KC_YDOC_H */
