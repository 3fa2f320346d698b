/*
 * ydoc.c - loading YAML documents with libyaml, behind ydoc.h.
 */
#include "core/ydoc.h"

#include "core/diag.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int ydoc_load_parser(struct ydoc_file *yf, yaml_parser_t *parser, struct diag *d);

/* Load every document of path. Returns 0, or -1 with a finding in d. */
int ydoc_load_file(struct ydoc_file *yf, const char *path, struct diag *d)
{
	yaml_parser_t parser;
	FILE *f;
	int rc;

	*yf = (struct ydoc_file){0};
	f = fopen(path, "rb");
	if (f == NULL) {
		diag_add(d, DIAG_ERROR, path, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	yf->name = strdup(path);
	if (yf->name == NULL || !yaml_parser_initialize(&parser)) {
		fclose(f);
		diag_add(d, DIAG_ERROR, path, 0, 0, "out of memory");
		free(yf->name);
		yf->name = NULL;
		return -1;
	}
	yaml_parser_set_input_file(&parser, f);
	rc = ydoc_load_parser(yf, &parser, d);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

/* Load every document of text[0..len), named name. 0, or -1 with a finding. */
int ydoc_load_string(struct ydoc_file *yf, const char *name, const char *text, size_t len,
		     struct diag *d)
{
	yaml_parser_t parser;
	int rc;

	*yf = (struct ydoc_file){0};
	yf->name = strdup(name);
	if (yf->name == NULL || !yaml_parser_initialize(&parser)) {
		diag_add(d, DIAG_ERROR, name, 0, 0, "out of memory");
		free(yf->name);
		yf->name = NULL;
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	rc = ydoc_load_parser(yf, &parser, d);
	yaml_parser_delete(&parser);
	return rc;
}

/* Pull documents from parser until the stream ends or an error occurs. */
static int ydoc_load_parser(struct ydoc_file *yf, yaml_parser_t *parser, struct diag *d)
{
	for (;;) {
		yaml_document_t doc;
		yaml_document_t *docs;

		if (!yaml_parser_load(parser, &doc)) {
			diag_add(d, DIAG_ERROR, yf->name, (unsigned)parser->problem_mark.line + 1,
				 (unsigned)parser->problem_mark.column + 1, "YAML syntax: %s%s%s",
				 parser->problem ? parser->problem : "malformed",
				 parser->context ? " " : "",
				 parser->context ? parser->context : "");
			ydoc_free(yf);
			return -1;
		}
		if (yaml_document_get_root_node(&doc) == NULL) {
			yaml_document_delete(&doc); /* end of stream */
			return 0;
		}
		docs = realloc(yf->docs, (yf->n + 1) * sizeof(*docs));
		if (docs == NULL) {
			yaml_document_delete(&doc);
			diag_add(d, DIAG_ERROR, yf->name, 0, 0, "out of memory");
			ydoc_free(yf);
			return -1;
		}
		yf->docs = docs;
		yf->docs[yf->n++] = doc;
	}
}

/* Release every document. Safe on a zeroed or already freed ydoc_file. */
void ydoc_free(struct ydoc_file *yf)
{
	for (size_t i = 0; i < yf->n; i++)
		yaml_document_delete(&yf->docs[i]);
	free(yf->docs);
	free(yf->name);
	*yf = (struct ydoc_file){0};
}

/* The root node of document doc, or NULL if it is empty. */
yaml_node_t *ydoc_root(yaml_document_t *doc)
{
	return yaml_document_get_root_node(doc);
}

/* The value under key in mapping map, or NULL (also if map is no mapping). */
yaml_node_t *ydoc_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *k = ydoc_scalar(yaml_document_get_node(doc, p->key));
		if (k != NULL && strcmp(k, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/* The text of a scalar node, or NULL if node is not a scalar. */
const char *ydoc_scalar(const yaml_node_t *node)
{
	if (node == NULL || node->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)node->data.scalar.value;
}

/* Whether a scalar node was written plain (not quoted). */
bool ydoc_is_plain(const yaml_node_t *node)
{
	return node != NULL && node->type == YAML_SCALAR_NODE &&
	       node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* 1-based line of a node. */
unsigned ydoc_line(const yaml_node_t *node)
{
	return node != NULL ? (unsigned)node->start_mark.line + 1 : 0;
}

/* 1-based column of a node. */
unsigned ydoc_col(const yaml_node_t *node)
{
	return node != NULL ? (unsigned)node->start_mark.column + 1 : 0;
}

/* A short name of the node's type ("mapping", "sequence", "scalar"). */
const char *ydoc_type_name(const yaml_node_t *node)
{
	if (node == NULL)
		return "nothing";
	switch (node->type) {
	case YAML_MAPPING_NODE:
		return "mapping";
	case YAML_SEQUENCE_NODE:
		return "sequence";
	case YAML_SCALAR_NODE:
		return "scalar";
	case YAML_NO_NODE:
		break;
	}
	return "nothing";
}
