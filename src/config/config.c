/* config.c — hls4ml-style configuration (JSON via cJSON, YAML via libyaml,
 * both into one cJSON tree), validation and lookup. */
#include "config/config.h"

#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/names.h"   /* names from the model reach the YAML only through names_comment / names_yaml_key */

/* Keys a user may write.  hls4ml project keys at the top level are accepted
 * (so an hls4ml YAML file, hls4ml_config.yml included, can be used as is) and ignored. */
static const char *const top_keys[] = {"HLSConfig", "Model", "LayerType", "LayerName", "OutputDir", "ProjectName",
                                       "Part", "ClockPeriod", "ClockUncertainty", "Backend", "IOType", "KerasJson",
                                       "KerasH5", "KerasModel", "OnnxModel", "PytorchModel", "InputShape",
                                       "InputShapes", "OutputShapes", "InputData", "OutputPredictions", "Version",
                                       "Stamp", "WriterConfig", "Board", "Strategy", NULL};
static const char *const model_keys[] = {"Precision", "ReuseFactor", "Strategy", "Tables", "WeightQuant", "SatOrder",
                                         "AutoTypes", "TableSize", "ClockPeriod", "BramFactor", "TraceOutput",
                                         "IOType", "BitExact", "ChannelsLastConversion", "TransposeOutputs",
                                         "ConvImplementation", NULL};
static const char *const layer_keys[] = {"Precision", "ReuseFactor", "Strategy", "Tables", "WeightQuant", "SatOrder",
                                         "AutoTypes", "table_size", "TableSize", "Trace", "implementation",
                                         "Implementation", "ParallelizationFactor", "ConvImplementation", "Skip", "skip",
                                         "table_t", "exp_table_t", "inv_table_t", "inv_inp_t", "Static", "static",
                                         "RecurrentReuseFactor", "Direction", "Algorithm", "slope_t", "shift_t",
                                         "accum_t", "ForwardReuseFactor", "BackwardReuseFactor",
                                         "ForwardRecurrentReuseFactor", "BackwardRecurrentReuseFactor",
                                         "TableRangePower2", "table_range_power2", NULL};
static const char *const prec_keys[] = {"default", "result", "weight", "bias", "accum", "table", "exp_table",
                                        "inv_table", "inv_inp", "scale", "shift", "slope", "param", "embeddings",
                                        "recurrent_weight", "recurrent_bias", "forward_weight", "forward_bias",
                                        "forward_recurrent_weight", "forward_recurrent_bias", "backward_weight",
                                        "backward_bias", "backward_recurrent_weight", "backward_recurrent_bias", NULL};
/* a bidirectional recurrent layer's keys (hls4ml's Bidirectional): each reaches one direction */
static const char *const bidir_keys[] = {"ForwardReuseFactor", "BackwardReuseFactor", "ForwardRecurrentReuseFactor",
                                         "BackwardRecurrentReuseFactor", NULL};
static const char *const strategies[] = {"Latency", "Resource", NULL};
/* a softmax's Strategy as hls4ml's tests write it: hls4ml 1.3 keeps it as an attribute no softmax reads */
static const char *const smax_strategies[] = {"Latency", "Resource", "stable", "argmax", NULL};

void config_init(Config *c)
{
    memset(c, 0, sizeof(*c));
    c->tables_opt = -1;
    c->weights_opt = -1;
    c->sat_order_opt = -1;
    c->auto_types_opt = -1;
    c->origin = "<config>";
}

void config_free(Config *c)
{
    cJSON_Delete(c->doc);
    c->doc = NULL;
    c->root = NULL;
    buf_free(&c->notes);
}

static int in_list(const char *const *list, const char *s)
{
    for (int k = 0; list[k]; k++)
        if (strcmp(list[k], s) == 0)
            return 1;
    return 0;
}

static int in_list_n(const char *const *list, int n, const char *s)
{
    for (int k = 0; k < n; k++)
        if (strcmp(list[k], s) == 0)
            return 1;
    return 0;
}

static int strcasecmp_ascii_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

/* hls4ml's snake case of a layer key (an underscore before each capital but the first, lowercased, runs of
 * underscores made one): TableSize and table_size are both 'table_size'.  Does key's equal snake? */
static void snake_case(const char *key, char *out, size_t n)
{
    size_t k = 0;
    for (const char *p = key; *p && k + 3 < n; p++) {
        if (p != key && isupper((unsigned char)*p))
            out[k++] = '_';
        out[k++] = (char)tolower((unsigned char)*p);
        if (k >= 2 && out[k - 1] == '_' && out[k - 2] == '_')
            k--;
    }
    out[k] = 0;
}

static int snake_eq(const char *key, const char *snake)
{
    char out[80];
    snake_case(key, out, sizeof out);
    return strlen(key) < 60 && !strcmp(out, snake);
}

static void join_list(const char *const *list, char *out, size_t n)
{
    size_t len = 0;
    out[0] = 0;
    for (int k = 0; list[k] && len < n; k++)
        len += (size_t)snprintf(out + len, n - len, "%s%s", k ? ", " : "", list[k]);
}

/* A number as written: integers without exponent, others with the fewest digits. */
static void fmt_num(char *out, size_t n, double v)
{
    if (v > -1e18 && v < 1e18 && v == (double)(long long)v)
        snprintf(out, n, "%lld", (long long)v);
    else
        util_fmt_double(out, n, v);
}

/* What a value is, for "got ..." in messages: 'text', 12, 1.5, true, null, a mapping, a list. */
static const char *describe(const cJSON *v, char *out, size_t n)
{
    if (!v)
        snprintf(out, n, "nothing");
    else if (cJSON_IsString(v))
        snprintf(out, n, "'%.80s%s'", v->valuestring, strlen(v->valuestring) > 80 ? "..." : "");
    else if (cJSON_IsNumber(v))
        fmt_num(out, n, v->valuedouble);
    else if (cJSON_IsBool(v))
        snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNull(v))
        snprintf(out, n, "null (an empty value)");
    else if (cJSON_IsObject(v))
        snprintf(out, n, "a mapping");
    else if (cJSON_IsArray(v))
        snprintf(out, n, "a list");
    else
        snprintf(out, n, "a value of another kind");
    return out;
}

/* ---- YAML → cJSON ------------------------------------------------------ */

static cJSON *yaml_scalar(const yaml_node_t *node)
{
    const char *s = (const char *)node->data.scalar.value;
    if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
            return cJSON_CreateBool(1);
        if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
            return cJSON_CreateBool(0);
        if (!strcmp(s, "null") || !strcmp(s, "~") || !s[0])
            return cJSON_CreateNull();
        char *end;
        double v = strtod(s, &end);
        if (end != s && *end == 0 && (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.'))
            return cJSON_CreateNumber(v);
    }
    return cJSON_CreateString(s);
}

/* The document was checked by yaml_precheck: at most CONFIG_MAX_DEPTH levels and
 * CONFIG_MAX_NODES nodes with aliases expanded, no alias cycles.  The depth test
 * here only guards that. */
static cJSON *yaml_to_json(Diag *d, const char *origin, yaml_document_t *doc, yaml_node_t *node, int depth)
{
    if (!node) {
        diag_error(d, "%s: expected a YAML node, got a reference to none (a libyaml inconsistency)", origin);
        return NULL;
    }
    if (depth > CONFIG_MAX_DEPTH + 1) {
        diag_error(d, "%s: line %zu: expected at most %d levels of nesting, got more", origin,
                   node->start_mark.line + 1, CONFIG_MAX_DEPTH);
        return NULL;
    }
    switch (node->type) {
    case YAML_SCALAR_NODE:
        return yaml_scalar(node);
    case YAML_SEQUENCE_NODE: {
        cJSON *arr = cJSON_CreateArray();
        for (yaml_node_item_t *it = node->data.sequence.items.start; arr && it < node->data.sequence.items.top; it++) {
            cJSON *v = yaml_to_json(d, origin, doc, yaml_document_get_node(doc, *it), depth + 1);
            if (!v) {
                cJSON_Delete(arr);
                return NULL;
            }
            cJSON_AddItemToArray(arr, v);
        }
        return arr;
    }
    case YAML_MAPPING_NODE: {
        cJSON *obj = cJSON_CreateObject();
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start; obj && p < node->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(doc, p->key);
            if (!k || k->type != YAML_SCALAR_NODE) {
                diag_error(d, "%s: line %zu, column %zu: expected a plain key (a name) in a mapping, got %s", origin,
                           (k ? k->start_mark.line : node->start_mark.line) + 1,
                           (k ? k->start_mark.column : node->start_mark.column) + 1,
                           !k ? "no key" : k->type == YAML_SEQUENCE_NODE ? "a list" : "a mapping");
                cJSON_Delete(obj);
                return NULL;
            }
            cJSON *v = yaml_to_json(d, origin, doc, yaml_document_get_node(doc, p->value), depth + 1);
            if (!v) {
                cJSON_Delete(obj);
                return NULL;
            }
            cJSON_AddItemToObject(obj, (const char *)k->data.scalar.value, v);
        }
        return obj;
    }
    default:
        diag_error(d, "%s: line %zu: expected a scalar, list or mapping, got an empty YAML node", origin,
                   node->start_mark.line + 1);
        return NULL;
    }
}

static int yaml_syntax_error(Diag *d, const char *origin, const yaml_parser_t *parser)
{
    if (parser->error == YAML_MEMORY_ERROR)
        return diag_error(d, "%s: out of memory while reading YAML", origin);
    return diag_error(d, "%s: line %zu, column %zu: expected valid YAML or JSON, got a syntax error (%s%s%s)", origin,
                      parser->problem_mark.line + 1, parser->problem_mark.column + 1,
                      parser->problem ? parser->problem : "unknown", parser->context ? " " : "",
                      parser->context ? parser->context : "");
}

/* First pass over the YAML events (libyaml's streaming parser, which builds
 * nothing): refuse, before anything is loaded, nesting deeper than
 * CONFIG_MAX_DEPTH, more than CONFIG_MAX_NODES nodes once aliases are expanded
 * (a "billion laughs" is 9 nodes aliased 9 times over 9 levels: 387 million),
 * more than CONFIG_MAX_ANCHORS anchors or CONFIG_MAX_ALIASES aliases, an alias
 * to its own enclosing node (a cycle), an undefined alias and a second document.
 * Stopping at the first offending event also bounds libyaml's own cost (its
 * scanner is quadratic in the nesting of flow collections: 100,000 '[' took
 * 17 s to fail and 52 s when closed). */
typedef struct {
    char *name;
    uint64_t size;   /* nodes of the anchored subtree, aliases expanded */
    int height;      /* containers from the anchored node down (0: a scalar) */
    int open;        /* the anchored container is not closed yet */
} YAnchor;

typedef struct {
    uint64_t start;  /* node count before this container */
    int anchor;      /* index into anchors, or -1 */
    int height;      /* deepest container nesting seen inside, this one included */
} YOpen;

static int yaml_precheck(Diag *d, const char *origin, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    YAnchor *anchors = NULL;
    YOpen stack[CONFIG_MAX_DEPTH + 1];
    int nanchors = 0, depth = 0, docs = 0, rc = 0, done = 0;
    uint64_t nodes = 0, naliases = 0;
    if (!yaml_parser_initialize(&parser))
        return diag_error(d, "%s: cannot initialise the YAML parser (out of memory)", origin);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!done && rc == 0) {
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = yaml_syntax_error(d, origin, &parser);
            break;
        }
        size_t line = ev.start_mark.line + 1;
        const char *anchor = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                rc = diag_error(d, "%s: line %zu: expected one YAML document, got a second one (a configuration is one "
                                   "document; remove the '---' or split the file)", origin, line);
            break;
        case YAML_ALIAS_EVENT: {
            const char *name = (const char *)ev.data.alias.anchor;
            int a = nanchors - 1;   /* a redefined anchor: the latest one counts */
            while (a >= 0 && strcmp(anchors[a].name, name))
                a--;
            if (a < 0) {
                rc = diag_error(d, "%s: line %zu: expected an alias to a defined anchor, got '*%.80s' (no '&%.80s' "
                                   "before it)", origin, line, name, name);
            } else if (anchors[a].open) {
                rc = diag_error(d, "%s: line %zu: expected an alias outside the node it names, got '*%.80s' inside "
                                   "'&%.80s' (a cycle)", origin, line, name, name);
            } else if (++naliases > CONFIG_MAX_ALIASES) {
                rc = diag_error(d, "%s: line %zu: expected at most %d YAML aliases, got more (the limit for a "
                                   "configuration)", origin, line, CONFIG_MAX_ALIASES);
            } else if (depth + anchors[a].height > CONFIG_MAX_DEPTH) {
                rc = diag_error(d, "%s: line %zu: expected at most %d levels of nesting, got %d with alias '*%.80s' "
                                   "expanded", origin, line, CONFIG_MAX_DEPTH, depth + anchors[a].height, name);
            } else {
                nodes += anchors[a].size;
                if (depth > 0 && stack[depth - 1].height < anchors[a].height + 1)
                    stack[depth - 1].height = anchors[a].height + 1;
            }
            break;
        }
        case YAML_SCALAR_EVENT:
            nodes++;
            anchor = (const char *)ev.data.scalar.anchor;
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            anchor = (const char *)(ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor
                                                                         : ev.data.mapping_start.anchor);
            if (depth >= CONFIG_MAX_DEPTH) {
                rc = diag_error(d, "%s: line %zu, column %zu: expected at most %d levels of nesting (mappings and "
                                   "lists inside each other), got a %s at level %d", origin, line,
                                ev.start_mark.column + 1, CONFIG_MAX_DEPTH,
                                ev.type == YAML_SEQUENCE_START_EVENT ? "list" : "mapping", depth + 1);
                break;
            }
            stack[depth].start = nodes;
            stack[depth].anchor = -1;
            stack[depth].height = 1;
            nodes++;
            depth++;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            YOpen *o = &stack[--depth];
            if (depth > 0 && stack[depth - 1].height < o->height + 1)
                stack[depth - 1].height = o->height + 1;
            if (o->anchor >= 0) {
                anchors[o->anchor].size = nodes - o->start;
                anchors[o->anchor].height = o->height;
                anchors[o->anchor].open = 0;
            }
            break;
        }
        default:
            break;
        }
        if (rc == 0 && nodes > CONFIG_MAX_NODES)
            rc = diag_error(d, "%s: line %zu: expected at most %d values (YAML aliases expanded), got more (the limit "
                               "for a configuration)", origin, line, CONFIG_MAX_NODES);
        if (rc == 0 && anchor) {
            if (nanchors >= CONFIG_MAX_ANCHORS) {
                rc = diag_error(d, "%s: line %zu: expected at most %d YAML anchors, got more (the limit for a "
                                   "configuration)", origin, line, CONFIG_MAX_ANCHORS);
            } else {
                YAnchor *na = realloc(anchors, (size_t)(nanchors + 1) * sizeof *anchors);
                char *nm = strdup(anchor);
                if (!na || !nm) {
                    free(nm);
                    if (na)
                        anchors = na;
                    rc = diag_error(d, "%s: out of memory while reading YAML", origin);
                } else {
                    anchors = na;
                    int scalar = ev.type == YAML_SCALAR_EVENT;
                    anchors[nanchors] = (YAnchor){nm, 1, 0, !scalar};
                    if (!scalar)
                        stack[depth - 1].anchor = nanchors;
                    nanchors++;
                }
            }
        }
        yaml_event_delete(&ev);
    }
    for (int a = 0; a < nanchors; a++)
        free(anchors[a].name);
    free(anchors);
    yaml_parser_delete(&parser);
    return rc;
}

static cJSON *parse_yaml(const char *text, size_t len, Diag *d, const char *origin)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    cJSON *out = NULL;
    if (yaml_precheck(d, origin, text, len) < 0)
        return NULL;
    if (!yaml_parser_initialize(&parser)) {
        diag_error(d, "%s: cannot initialise the YAML parser (out of memory)", origin);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        yaml_syntax_error(d, origin, &parser);
        yaml_parser_delete(&parser);
        return NULL;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root)
        out = yaml_to_json(d, origin, &doc, root, 0);
    else
        diag_error(d, "%s: expected a YAML mapping of configuration keys, got an empty document", origin);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return out;
}

/* ---- JSON -------------------------------------------------------------- */

/* One linear scan before cJSON builds anything: at most CONFIG_MAX_DEPTH levels
 * (cJSON's own limit is 1000) and CONFIG_MAX_NODES values (each ',' and each
 * '[' or '{' outside strings starts at most one). */
static int json_precheck(Diag *d, const char *origin, const char *text, size_t len)
{
    int depth = 0;
    uint64_t values = 1;
    size_t line = 1;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (ch == '\n') {
            line++;
        } else if (ch == '"') {
            for (i++; i < len && text[i] != '"'; i++)
                if (text[i] == '\\' && i + 1 < len)
                    i++;
                else if (text[i] == '\n')
                    line++;
        } else if (ch == '[' || ch == '{') {
            values++;
            if (++depth > CONFIG_MAX_DEPTH)
                return diag_error(d, "%s: line %zu: expected at most %d levels of nesting (objects and arrays inside "
                                     "each other), got an %s at level %d", origin, line, CONFIG_MAX_DEPTH,
                                  ch == '[' ? "array" : "object", depth);
        } else if (ch == ']' || ch == '}') {
            depth--;
        } else if (ch == ',') {
            values++;
        }
        if (values > CONFIG_MAX_NODES)
            return diag_error(d, "%s: line %zu: expected at most %d values, got more (the limit for a configuration)",
                              origin, line, CONFIG_MAX_NODES);
    }
    return 0;
}

static cJSON *parse_json(const char *text, size_t len, Diag *d, const char *origin)
{
    if (json_precheck(d, origin, text, len) < 0)
        return NULL;
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);   /* + 1: the NUL that ends it */
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        if (!at || at < text || at > text + len)
            at = text + len;
        size_t line = 1, col = 1;
        for (const char *p = text; p < at; p++, col++)
            if (*p == '\n')
                line++, col = 0;
        if (at < text + len)
            diag_error(d, "%s: line %zu, column %zu: expected valid JSON, got a syntax error at '%.20s'", origin, line,
                       col, at);
        else
            diag_error(d, "%s: line %zu: expected valid JSON, got the end of the text inside a value", origin, line);
    }
    return doc;
}

/* ---- validation -------------------------------------------------------- */

/* State of one validation: where messages go, and keys that are accepted but change
 * nothing here, gathered into one warning line per kind. */
typedef struct {
    Diag *d;
    Config *c;
    const char *origin;
    int ntrace;              /* Trace / TraceOutput: true */
    char trace_at[300];
    int npf;                 /* ParallelizationFactor other than 1 */
    char pf_at[300];
    double pf;
} Check;

static void note(Config *c, const char *fmt, ...) ETN_PRINTF(2, 3);
static void note(Config *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&c->notes, fmt, ap);
    va_end(ap);
    buf_append(&c->notes, "\n", 1);
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A key written twice in one mapping: the second would be silently ignored (JSON and
 * YAML readers keep both; lookups find the first). */
static int check_unique(Diag *d, const char *origin, const char *path, const cJSON *obj)
{
    int n = 0;
    for (const cJSON *e = obj->child; e; e = e->next)
        n++;
    if (n < 2)
        return 0;
    const char **names = malloc((size_t)n * sizeof *names);
    if (!names)
        return diag_error(d, "%s: out of memory", origin);
    n = 0;
    for (const cJSON *e = obj->child; e; e = e->next)
        names[n++] = e->string;
    qsort(names, (size_t)n, sizeof *names, cmp_str_ptr);
    const char *dup = NULL;
    for (int k = 1; k < n && !dup; k++)
        if (!strcmp(names[k - 1], names[k]))
            dup = names[k];
    int rc = 0;
    if (dup)
        rc = diag_error(d, "%s: %s%s%s: expected each key once, got '%s' twice", origin, path ? path : "",
                        path ? "." : "", dup, dup);
    free(names);
    return rc;
}

static int check_type_string(Diag *d, const char *origin, const char *path, const cJSON *v, int allow_auto)
{
    char err[512], got[120];
    FxType t;
    if (!cJSON_IsString(v))
        return diag_error(d, "%s: %s: expected a fixed-point type string such as 'fixed<16,6>'%s, got %s", origin,
                          path, allow_auto ? " or 'auto'" : "", describe(v, got, sizeof got));
    if (allow_auto && strcmp(v->valuestring, "auto") == 0)
        return 0;
    if (fx_parse(v->valuestring, &t, err, sizeof err) < 0)
        return diag_error(d, "%s: %s: %s", origin, path, err);
    return 0;
}

static int check_precision(Diag *d, const char *origin, const char *path, const cJSON *p, int model_level)
{
    char allowed[256], sub[600], got[120];
    if (cJSON_IsString(p))
        return check_type_string(d, origin, path, p, 0);
    if (!cJSON_IsObject(p))
        return diag_error(d, "%s: %s: expected a type string or a mapping of variables to types, got %s", origin, path,
                          describe(p, got, sizeof got));
    if (check_unique(d, origin, path, p) < 0)
        return -1;
    join_list(prec_keys, allowed, sizeof allowed);
    for (const cJSON *e = p->child; e; e = e->next) {
        snprintf(sub, sizeof sub, "%s.%s", path, e->string);
        if (!strcmp(e->string, "maximum")) {   /* hls4ml reads it from the model's Precision only */
            if (!model_level)
                return diag_error(d, "%s: %s: 'maximum' (the cap on the types hls4ml infers for 'auto') is read from "
                                     "Model.Precision only, as hls4ml reads it: expected one of %s here",
                                  origin, sub, allowed);
            if (check_type_string(d, origin, sub, e, 0) < 0)
                return -1;
            continue;
        }
        if (!in_list(prec_keys, e->string))
            return diag_error(d, "%s: %s: unknown precision variable '%s': expected one of %s", origin, path, e->string,
                              allowed);
        if (check_type_string(d, origin, sub, e, 1) < 0)
            return -1;
    }
    return 0;
}

/* An integer in [lo, hi]. */
static int check_int(Check *k, const char *path, const cJSON *e, double lo, double hi, const char *what)
{
    char got[120];
    if (cJSON_IsNumber(e) && e->valuedouble >= lo && e->valuedouble <= hi && e->valuedouble == (double)(long long)e->valuedouble)
        return 0;
    return diag_error(k->d, "%s: %s: expected %s, got %s%s", k->origin, path, what, describe(e, got, sizeof got),
                      cJSON_IsString(e) ? " (a string)" : "");
}

static int check_bool(Check *k, const char *path, const cJSON *e, int allow_null)
{
    char got[120];
    if (cJSON_IsBool(e) || (allow_null && cJSON_IsNull(e)))
        return 0;
    return diag_error(k->d, "%s: %s: expected true%s or false, got %s%s", k->origin, path, allow_null ? ", null" : "",
                      describe(e, got, sizeof got), cJSON_IsString(e) ? " (a string)" : "");
}

/* A string key with a fixed set of values (case-sensitive unless fold). */
static int check_choice(Check *k, const char *path, const cJSON *e, const char *const *allowed, int fold,
                        const char *why)
{
    char list[256], got[120];
    if (cJSON_IsString(e))
        for (int j = 0; allowed[j]; j++)
            if (fold ? strcasecmp_ascii_eq(e->valuestring, allowed[j]) : !strcmp(e->valuestring, allowed[j]))
                return 0;
    if (allowed[1])
        join_list(allowed, list, sizeof list);
    else
        snprintf(list, sizeof list, "'%s'", allowed[0]);
    return diag_error(k->d, "%s: %s: expected %s%s%s, got %s", k->origin, path, allowed[1] ? "one of " : "", list,
                      why ? why : "", describe(e, got, sizeof got));
}

static int check_io_type(Check *k, const char *path, const cJSON *e)
{
    char got[120];
    if (cJSON_IsString(e) && (!strcmp(e->valuestring, "io_parallel") || !strcmp(e->valuestring, "io_stream")))
        return 0;
    if (cJSON_IsString(e))
        snprintf(got, sizeof got, "%.80s", e->valuestring);
    else
        describe(e, got, sizeof got);
    return diag_error(k->d, "%s: %s: expected io_parallel or io_stream, got %s", k->origin, path, got);
}

static int check_settings(Check *k, const char *path, const cJSON *obj, const char *const *keys)
{
    char allowed[1024], sub[600], got[120];
    const char *origin = k->origin;
    Diag *d = k->d;
    if (!cJSON_IsObject(obj))
        return diag_error(d, "%s: %s: expected a mapping of settings, got %s", origin, path,
                          describe(obj, got, sizeof got));
    if (check_unique(d, origin, path, obj) < 0)
        return -1;
    join_list(keys, allowed, sizeof allowed);
    for (const cJSON *e = obj->child; e; e = e->next) {
        const char *key = e->string;
        snprintf(sub, sizeof sub, "%s.%s", path, key);
        if (!in_list(keys, key))
            return diag_error(d, "%s: unknown key '%s': expected one of %s", origin, sub, allowed);
        char snake[80];
        snake_case(key, snake, sizeof snake);
        for (const cJSON *twin = e->next; twin && keys != model_keys; twin = twin->next)   /* the later one wins */
            if (twin->string && strcmp(twin->string, key) && snake_eq(twin->string, snake))
                note(k->c, "%s: %s and the %s after it: the later, %s: %s, is taken (hls4ml reads both as '%s')", origin,
                     sub, twin->string, twin->string, describe(twin, got, sizeof got), snake);
        if (!strcmp(key, "Precision")) {
            if (check_precision(d, origin, sub, e, keys == model_keys) < 0)
                return -1;
        } else if (!strcmp(key, "TableRangePower2") || !strcmp(key, "table_range_power2")) {
            /* a LayerNormalization's hls4ml table spans [10^-p, 10^-p + 2^-r): r (config_table_range) */
            if (check_int(k, sub, e, 0, 30, "an integer from 0 to 30") < 0)
                return -1;
        } else if (!strcmp(key, "ReuseFactor") || !strcmp(key, "table_size") || !strcmp(key, "TableSize")) {
            if (check_int(k, sub, e, 1, 1 << 24, "a positive integer (1 to 16777216)") < 0)
                return -1;
        } else if (!strcmp(key, "Static") || !strcmp(key, "static")) {   /* hls4ml reads layer keys snake-cased */
            /* true: one cell reused over the time steps (hw/rnn_static.c), false: one cell per step; a recurrent
             * layer's LayerName entry only (config_rnn_static; checked against the graph in config_check_layers) */
            if (check_bool(k, sub, e, 0) < 0)
                return -1;
            if (strncmp(path, "LayerName.", 10))
                return diag_error(d, "%s: %s: expected it only in a recurrent layer's LayerName entry (it chooses "
                                     "that layer's architecture), got it under %s", origin, sub, path);
        } else if (!strcmp(key, "Direction")) {
            static const char *const dirs[] = {"forward", NULL};
            if (check_choice(k, sub, e, dirs, 0, " (a recurrent layer runs in the direction its model file says: "
                                                 "go_backwards, Bidirectional)") < 0)
                return -1;
        } else if (in_list(bidir_keys, key)) {
            /* the ReuseFactor of one direction's input (Forward/BackwardReuseFactor) or recurrent products of a
             * bidirectional layer; its LayerName entry only (checked against the graph in config_check_layers) */
            if (check_int(k, sub, e, 1, 1 << 24, "a positive integer (1 to 16777216)") < 0)
                return -1;
            if (strncmp(path, "LayerName.", 10))
                return diag_error(d, "%s: %s: expected it only in a bidirectional recurrent layer's LayerName entry, "
                                     "got it under %s", origin, sub, path);
        } else if (!strcmp(key, "RecurrentReuseFactor")) {
            /* the recurrent products' ReuseFactor (h R of each gate), folded as any Dense (hw/fold.c); a recurrent
             * layer's LayerName entry only (checked against the graph in config_check_layers) */
            if (check_int(k, sub, e, 1, 1 << 24, "a positive integer (1 to 16777216)") < 0)
                return -1;
            if (strncmp(path, "LayerName.", 10))
                return diag_error(d, "%s: %s: expected it only in a recurrent layer's LayerName entry, got it under %s",
                                  origin, sub, path);
        } else if (!strcmp(key, "ParallelizationFactor")) {
            if (check_int(k, sub, e, 1, 1 << 24, "a positive integer (1 to 16777216)") < 0)
                return -1;
            if (e->valuedouble != 1 && k->npf++ == 0) {
                snprintf(k->pf_at, sizeof k->pf_at, "%s", sub);
                k->pf = e->valuedouble;
            }
        } else if (!strcmp(key, "BramFactor")) {
            if (check_int(k, sub, e, 0, 9007199254740992.0, "an integer >= 0 (hls4ml writes 1000000000)") < 0)
                return -1;
            fmt_num(got, sizeof got, e->valuedouble);
            note(k->c, "%s: %s: %s accepted; it changes nothing here: etchnn keeps the weights as constants in the "
                       "logic, never in BRAM (hls4ml moves the weights of layers with more than BramFactor of them "
                       "into BRAM under the Resource strategy)", origin, sub, got);
        } else if (!strcmp(key, "Strategy")) {
            /* a softmax's entry may say stable or argmax (hls4ml's test_softmax does): only LayerType.Softmax here,
             * a LayerName entry's layer is checked in config_check_layers */
            int smax = !strncmp(path, "LayerName.", 10) || !strcmp(path, "LayerType.Softmax") ||
                       !strcmp(path, "HLSConfig.LayerType.Softmax");
            if (check_choice(k, sub, e, smax ? smax_strategies : strategies, 1,
                             smax ? " (stable and argmax on a softmax layer only)" : NULL) < 0)
                return -1;
            if (smax && strncmp(path, "LayerName.", 10) && !strcasecmp_ascii_eq(e->valuestring, "Latency") &&
                !strcasecmp_ascii_eq(e->valuestring, "Resource"))   /* LayerName's: in config_check_layers */
                note(k->c, "%s: %s: '%s' accepted; it changes nothing: hls4ml 1.3 keeps a softmax's Strategy as an "
                           "attribute its softmax does not read (the form is Implementation's, stable by default)",
                     origin, sub, e->valuestring);
        } else if (!strcmp(key, "slope_t") || !strcmp(key, "shift_t")) {   /* a hard_sigmoid's (config_check_layers) */
            if (check_type_string(d, origin, sub, e, 1) < 0)
                return -1;
        } else if (!strcmp(key, "table_t") || !strcmp(key, "exp_table_t") || !strcmp(key, "inv_table_t") ||
                   !strcmp(key, "inv_inp_t")) {
            if (check_type_string(d, origin, sub, e, 0) < 0)
                return -1;
        } else if (!strcmp(key, "accum_t")) {   /* hls4ml's layer key for the accumulator: wins over Precision.accum */
            if (check_type_string(d, origin, sub, e, 1) < 0)
                return -1;
        } else if (!strcmp(key, "Tables") || !strcmp(key, "WeightQuant") || !strcmp(key, "SatOrder") ||
                   !strcmp(key, "AutoTypes")) {
            static const char *const modes[] = {"exact", "hls4ml", NULL};
            if (check_choice(k, sub, e, modes, 0, NULL) < 0)
                return -1;
        } else if (!strcmp(key, "implementation") || !strcmp(key, "Implementation")) {
            static const char *const impl[] = {"stable", "latency", "argmax", NULL};
            if (check_choice(k, sub, e, impl, 0, " (hls4ml's softmax implementations; its legacy is not supported)") < 0)
                return -1;
        } else if (!strcmp(key, "ConvImplementation")) {
            /* hls4ml (lowercasing it) picks how io_stream convolutions gather their windows; its io_parallel
             * convolutions are the same for both.  Encoded under io_stream is refused by etn_write */
            static const char *const conv[] = {"LineBuffer", "Encoded", NULL};
            if (check_choice(k, sub, e, conv, 1, " (hls4ml's Pointwise is not supported)") < 0)
                return -1;
            if (strcasecmp_ascii_eq(e->valuestring, "Encoded")) {
                if (!k->c->conv_encoded_at[0])
                    snprintf(k->c->conv_encoded_at, sizeof k->c->conv_encoded_at, "%s", sub);
                note(k->c, "%s: %s: Encoded accepted; it changes nothing under io_parallel (hls4ml's Encoded and "
                           "LineBuffer differ only in how io_stream convolutions gather their windows; under io_stream "
                           "etchnn builds line buffers and refuses it)", origin, sub);
            }
        } else if (!strcmp(key, "Algorithm")) {   /* hls4ml's UpSampling / Resize interpolation */
            static const char *const alg[] = {"nearest", NULL};
            if (check_choice(k, sub, e, alg, 0, " (etchnn's upsampling repeats pixels; bilinear is not supported)") < 0)
                return -1;
        } else if (!strcmp(key, "Skip") || !strcmp(key, "skip")) {
            /* true: a softmax layer is left out (pass_constfold), as hls4ml's skip does; checked against the
             * graph in pass_constfold (a softmax layer's LayerName or LayerType entry only).  hls4ml reads its
             * layer keys in snake case, so its own tests write 'skip' */
            if (check_bool(k, sub, e, 0) < 0)
                return -1;
            if (cJSON_IsTrue(e) && strncmp(path, "LayerName.", 10) && strncmp(path, "LayerType.", 10))
                return diag_error(d, "%s: %s: expected true only in a softmax layer's LayerName or LayerType entry, "
                                     "got it under %s", origin, sub, path);
        } else if (!strcmp(key, "Trace") || !strcmp(key, "TraceOutput")) {
            if (check_bool(k, sub, e, 0) < 0)
                return -1;
            if (cJSON_IsTrue(e) && k->ntrace++ == 0)
                snprintf(k->trace_at, sizeof k->trace_at, "%s", sub);
        } else if (!strcmp(key, "BitExact")) {
            if (check_bool(k, sub, e, 1) < 0)
                return -1;
            if (cJSON_IsTrue(e))
                note(k->c, "%s: %s: true accepted, with a difference: etchnn's arithmetic is always bit-exact to its "
                           "types, but it does not run hls4ml's BitExact pass, which re-derives every layer's widths "
                           "by interval propagation; here the types are the configuration's ('auto' accumulators are "
                           "exact) and a quantized model's (HGQ) layers compute exactly between its quantizers",
                     origin, sub);
            else if (cJSON_IsFalse(e))
                note(k->c, "%s: %s: false accepted; it changes nothing here: a quantized model's (HGQ) layers still "
                           "compute exactly between its quantizers, as under hls4ml's default (null), and other "
                           "models take the configuration's types", origin, sub);
        } else if (!strcmp(key, "ChannelsLastConversion")) {
            static const char *const clc[] = {"full", "internal", "off", NULL};
            if (check_choice(k, sub, e, clc, 0, NULL) < 0)   /* against the model's inputs in config_check_layers */
                return -1;
        } else if (!strcmp(key, "TransposeOutputs")) {
            if (check_bool(k, sub, e, 0) < 0)   /* against the model's outputs in config_check_layers */
                return -1;
        } else if (!strcmp(key, "ClockPeriod")) {
            if (!cJSON_IsNumber(e) || !(e->valuedouble > 0))
                return diag_error(d, "%s: %s: expected a positive number of ns, got %s", origin, sub,
                                  describe(e, got, sizeof got));
        } else if (!strcmp(key, "IOType")) {
            if (check_io_type(k, sub, e) < 0)
                return -1;
        }
    }
    return 0;
}

static int validate(Config *c, Diag *d)
{
    char allowed[1024], path[600], got[120];
    const char *o = c->origin;
    Check k = {.d = d, .c = c, .origin = o};
    if (!cJSON_IsObject(c->doc))
        return diag_error(d, "%s: expected a mapping of configuration keys (Model, LayerType, LayerName, ...) at the "
                             "top level, got %s", o, describe(c->doc, got, sizeof got));
    if (check_unique(d, o, NULL, c->doc) < 0)
        return -1;
    join_list(top_keys, allowed, sizeof allowed);
    for (const cJSON *e = c->doc->child; e; e = e->next)
        if (!in_list(top_keys, e->string))
            return diag_error(d, "%s: unknown key '%s': expected one of %s", o, e->string, allowed);
    const cJSON *top_strategy = cJSON_GetObjectItemCaseSensitive(c->doc, "Strategy");
    if (top_strategy) {   /* hls4ml's test_multiout_network writes it there */
        if (!cJSON_IsString(top_strategy))
            return diag_error(d, "%s: Strategy: expected a string, got %s", o, describe(top_strategy, got, sizeof got));
        note(c, "%s: Strategy: '%.40s' at the top level accepted; it changes nothing: hls4ml reads Strategy from Model, "
                "LayerType or LayerName only", o, top_strategy->valuestring);
    }
    const cJSON *root = cJSON_GetObjectItemCaseSensitive(c->doc, "HLSConfig");
    if (root) {
        if (!cJSON_IsObject(root))
            return diag_error(d, "%s: HLSConfig: expected a mapping of Model, LayerType, LayerName, got %s", o,
                              describe(root, got, sizeof got));
        if (check_unique(d, o, "HLSConfig", root) < 0)
            return -1;
        for (const cJSON *e = root->child; e; e = e->next)
            if (strcmp(e->string, "Model") && strcmp(e->string, "LayerType") && strcmp(e->string, "LayerName"))
                return diag_error(d, "%s: unknown key 'HLSConfig.%s': expected one of Model, LayerType, LayerName", o,
                                  e->string);
        static const char *const sections[] = {"Model", "LayerType", "LayerName"};
        for (int j = 0; j < 3; j++)
            if (cJSON_GetObjectItemCaseSensitive(c->doc, sections[j]))
                return diag_error(d, "%s: %s: expected it either at the top level or under HLSConfig, got both (the "
                                     "top-level one would be ignored)", o, sections[j]);
    } else {
        root = c->doc;
    }
    c->root = root;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "Model");
    if (model && check_settings(&k, root == c->doc ? "Model" : "HLSConfig.Model", model, model_keys) < 0)
        return -1;
    const cJSON *io = cJSON_GetObjectItemCaseSensitive(c->doc, "IOType");
    if (io && check_io_type(&k, "IOType", io) < 0)
        return -1;
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(root, "LayerType");
    if (lt) {
        if (!cJSON_IsObject(lt))
            return diag_error(d, "%s: LayerType: expected a mapping of layer classes, got %s", o,
                              describe(lt, got, sizeof got));
        if (check_unique(d, o, "LayerType", lt) < 0)
            return -1;
        const char *classes[OP_COUNT_ + 3];
        int nc = 0;
        for (int j = 0; j < OP_COUNT_; j++)
            if (!in_list_n(classes, nc, op_hls_class[j]))
                classes[nc++] = op_hls_class[j];
        classes[nc++] = "EinsumDense";   /* read as a Dense, an Einsum as a Dot (frontends/einsum.c: Node.hls_class) */
        classes[nc++] = "Einsum";
        classes[nc] = NULL;
        join_list(classes, allowed, sizeof allowed);
        for (const cJSON *e = lt->child; e; e = e->next) {
            if (!in_list(classes, e->string))
                return diag_error(d, "%s: unknown layer type 'LayerType.%s': expected one of %s", o, e->string, allowed);
            snprintf(path, sizeof path, "LayerType.%s", e->string);
            if (check_settings(&k, path, e, layer_keys) < 0)
                return -1;
        }
    }
    const cJSON *ln = cJSON_GetObjectItemCaseSensitive(root, "LayerName");
    if (ln) {
        if (!cJSON_IsObject(ln))
            return diag_error(d, "%s: LayerName: expected a mapping of layer names, got %s", o,
                              describe(ln, got, sizeof got));
        if (check_unique(d, o, "LayerName", ln) < 0)
            return -1;
        for (const cJSON *e = ln->child; e; e = e->next) {
            snprintf(path, sizeof path, "LayerName.%s", e->string);
            if (check_settings(&k, path, e, layer_keys) < 0)
                return -1;
        }
    }
    char more[96] = "";
    if (k.ntrace > 1)
        snprintf(more, sizeof more, " (and %d more Trace/TraceOutput keys set to true)", k.ntrace - 1);
    if (k.ntrace)
        note(c, "%s: %s: true%s accepted; it changes nothing here: the circuit has no trace outputs (each layer's "
                "values come from etn_trace() or the Python package's trace())", o, k.trace_at, more);
    more[0] = 0;
    if (k.npf > 1)
        snprintf(more, sizeof more, " (and %d more ParallelizationFactor keys other than 1)", k.npf - 1);
    if (k.npf)
        note(c, "%s: %s: %g%s accepted; it changes nothing here: an io_parallel convolution computes every "
                "position at once and an io_stream one computes a position per clock", o, k.pf_at, k.pf, more);
    return 0;
}

static int load_parsed(Config *c, Diag *d, cJSON *doc, const char *origin)
{
    config_free(c);
    c->doc = doc;
    c->origin = origin;
    if (validate(c, d) < 0) {
        config_free(c);
        return -1;
    }
    return 0;
}

static int load_text_len(Config *c, Diag *d, const char *text, size_t len, const char *origin)
{
    if (len > CONFIG_MAX_BYTES)
        return diag_error(d, "%s: expected a configuration of at most %u bytes (16 MiB), got %zu bytes", origin,
                          CONFIG_MAX_BYTES, len);
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    cJSON *doc = *p == '{' ? parse_json(text, len, d, origin) : parse_yaml(text, len, d, origin);
    if (!doc)
        return -1;
    return load_parsed(c, d, doc, origin);
}

int config_load_text(Config *c, Diag *d, const char *text, const char *origin)
{
    size_t len = strnlen(text, (size_t)CONFIG_MAX_BYTES + 1);
    return load_text_len(c, d, text, len, origin);
}

int config_load_file(Config *c, Diag *d, const char *path)
{
    /* read at most CONFIG_MAX_BYTES + 1 bytes: a huge file (or /dev/zero) is refused without reading it all */
    FILE *f = fopen(path, "rb");
    if (!f)
        return diag_error(d, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 65536, len = 0;
    char *text = malloc(cap + 1);
    while (text) {
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (len > CONFIG_MAX_BYTES || n == 0)
            break;
        if (len == cap) {
            size_t ncap = cap * 2 > (size_t)CONFIG_MAX_BYTES + 1 ? (size_t)CONFIG_MAX_BYTES + 1 : cap * 2;
            char *t = realloc(text, ncap + 1);
            if (!t) {
                free(text);
                text = NULL;
                break;
            }
            text = t;
            cap = ncap;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (!text)
        return diag_error(d, "%s: out of memory reading the configuration", path);
    if (err) {
        free(text);
        return diag_error(d, "%s: read error", path);
    }
    if (len > CONFIG_MAX_BYTES) {
        free(text);
        return diag_error(d, "%s: expected a configuration of at most %u bytes (16 MiB), got a larger file", path,
                          CONFIG_MAX_BYTES);
    }
    text[len] = 0;
    const char *nul = memchr(text, 0, len);
    if (nul) {
        size_t at = (size_t)(nul - text);
        free(text);
        return diag_error(d, "%s: expected a text file (JSON or YAML), got binary data (a NUL byte at offset %zu)", path,
                          at);
    }
    int rc = load_text_len(c, d, text, len, path);
    free(text);
    return rc;
}

/* The Model keys that depend on the model's inputs and outputs. */
static int check_layout_keys(const Config *c, Diag *d, const Graph *g)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(c->root, "Model");
    const char *mp = c->root == c->doc ? "Model" : "HLSConfig.Model";
    const cJSON *v = m ? cJSON_GetObjectItemCaseSensitive(m, "ChannelsLastConversion") : NULL;
    if (v && strcmp(v->valuestring, "full"))
        for (size_t k = 0; k < g->ninputs; k++)
            if (g->t[g->inputs[k]].rank >= 2)
                return diag_error(d, "%s: %s.ChannelsLastConversion: expected 'full' for this model (etchnn takes "
                                     "input '%s' in the model file's own order and converts it inside, as hls4ml's "
                                     "'full'), got '%s' (which takes it %s)", c->origin, mp, g->t[g->inputs[k]].name,
                                  v->valuestring, strcmp(v->valuestring, "off") ? "already channels-last"
                                                                                 : "without any conversion");
    v = m ? cJSON_GetObjectItemCaseSensitive(m, "TransposeOutputs") : NULL;
    if (v && cJSON_IsFalse(v))
        for (size_t k = 0; k < g->noutputs; k++)
            if (g->t[g->outputs[k]].rank >= 2) {
                diag_warn(d, "%s: %s.TransposeOutputs: false accepted, with a difference: hls4ml would give output "
                             "'%s' channels-last; etchnn gives it in the model file's own order (as "
                             "TransposeOutputs: true)", c->origin, mp, g->t[g->outputs[k]].name);
                break;
            }
    return 0;
}

/* Whether name is one of the comma-separated names in list. */
static int name_in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (!strncmp(p, name, n) && (p[n] == ',' || !p[n]))
            return 1;
    return 0;
}

/* The live nodes a LayerName entry names (by node name or by the layer they are part of): whether any, and the union
 * of what they are.  Returns found. */
typedef struct {
    int recurrent, hsig;   /* any of them a recurrent cell's node / a hard_sigmoid */
    int other;             /* any of them not a softmax */
    int bidir;             /* any of them part of a bidirectional recurrent layer (RnnCell.dir) */
    unsigned vars;         /* their precision variables (ETN_V_*) */
    const char *what;      /* the source op of the last one */
} LayerNodes;

static int layer_nodes(const Graph *g, const char *name, LayerNodes *ln)
{
    int found = 0;
    memset(ln, 0, sizeof *ln);
    for (size_t k = 0; k < g->nn; k++)
        if (!g->n[k].dead && (strcmp(g->n[k].name, name) == 0 || (g->n[k].layer && strcmp(g->n[k].layer, name) == 0) ||
                              (g->n[k].src_name && strcmp(g->n[k].src_name, name) == 0))) {
            found = 1;
            ln->recurrent |= g->n[k].cell.role != RNN_ROLE_NONE;
            ln->bidir |= g->n[k].cell.dir != RNN_DIR_NONE;
            ln->hsig |= g->n[k].op == OP_HARDSIGMOID;
            ln->other |= g->n[k].op != OP_SOFTMAX;
            ln->vars |= op_vars[g->n[k].op];
            ln->what = g->n[k].src_op;
        }
    return found;
}

/* The precision keys and their ETN_V_* bits: Precision.KEY, then hls4ml's layer keys KEY_t for tables. */
static const struct { const char *k; unsigned v; } prec_var_bits[] = {
    {"result", ETN_V_RESULT}, {"weight", ETN_V_WEIGHT}, {"scale", ETN_V_WEIGHT}, {"param", ETN_V_WEIGHT},
    {"slope", ETN_V_WEIGHT}, {"bias", ETN_V_BIAS}, {"shift", ETN_V_BIAS}, {"accum", ETN_V_ACCUM},
    {"table", ETN_V_TABLE}, {"exp_table", ETN_V_EXP}, {"inv_table", ETN_V_INV}, {"inv_inp", ETN_V_INV},
    {"embeddings", ETN_V_EMBED},
    {"table_t", ETN_V_TABLE}, {"exp_table_t", ETN_V_EXP}, {"inv_table_t", ETN_V_INV}, {"inv_inp_t", ETN_V_INV},
    {"accum_t", ETN_V_ACCUM}};

/* LayerName entries' precision keys that their layer has no variable for (a table type on a Dense, a weight type
 * on a relu; hls4ml's config_from_* writes 'table' for every activation, softmax and hard_sigmoid included, and
 * hls4ml ignores it where there is no table): accepted with one line per key naming the layers. */
static void var_check(const Config *c, Diag *d, const Graph *g, const cJSON *ln)
{
    static const char *const vn[] = {"result", "weight", "bias", "accum", "table", "exp_table", "inv_table",
                                     "embeddings"};
    for (size_t j = 0; j < sizeof prec_var_bits / sizeof prec_var_bits[0]; j++) {
        const char *key = prec_var_bits[j].k;
        unsigned b = prec_var_bits[j].v;
        size_t kl = strlen(key);
        int layer_key = kl > 2 && !strcmp(key + kl - 2, "_t"), n = 0;   /* hls4ml's table_t, ...: layer keys */
        Buf names = {0}, has = {0};
        const char *first = NULL, *first_what = NULL;
        for (const cJSON *e = ln->child; e; e = e->next) {
            const cJSON *obj = layer_key ? e : cJSON_GetObjectItemCaseSensitive(e, "Precision");
            if (!cJSON_IsObject(obj) || !cJSON_GetObjectItemCaseSensitive(obj, key))
                continue;
            LayerNodes l;
            if (!layer_nodes(g, e->string, &l) || l.recurrent || (l.vars & b))
                continue;
            if (!n++) {   /* the first layer's variables, for the message */
                for (int v = 0; v < 8; v++)
                    if (l.vars & (1u << v))
                        buf_printf(&has, "%s%s", has.len ? ", " : "", vn[v]);
                buf_printf(&names, "'%s' (%s)", e->string, l.what ? l.what : "?");
                first = e->string;
                first_what = l.what ? l.what : "?";
            } else {
                buf_printf(&names, ", '%s'", e->string);
            }
        }
        if (n == 1)
            diag_warn(d, "%s: LayerName.%s.%s%s accepted; it changes nothing here: layer '%s' (%s) has no such precision "
                         "variable (it has: %s)", c->origin, first, layer_key ? "" : "Precision.", key, first,
                      first_what, has.data ? has.data : "none");
        else if (n > 1)
            diag_warn(d, "%s: LayerName.<layer>.%s%s accepted; it changes nothing here: %d layers have no such precision "
                         "variable (%s; hls4ml's config_from_* writes 'table' for every activation and ignores it "
                         "where there is none)", c->origin, layer_key ? "" : "Precision.", key, n, names.data);
        buf_free(&names);
        buf_free(&has);
    }
}

int config_check_layers(const Config *c, Diag *d, const Graph *g)
{
    /* the warnings gathered at load time: here, once per compile, where the caller shows them */
    for (const char *p = c->notes.data, *e; p && *p; p = e + 1) {
        e = strchr(p, '\n');
        diag_warn(d, "%.*s", (int)(e - p), p);
    }
    if (!c->root)
        return 0;
    if (check_layout_keys(c, d, g) < 0)
        return -1;
    const cJSON *ln = cJSON_GetObjectItemCaseSensitive(c->root, "LayerName");
    if (!ln)
        return 0;
    for (const cJSON *e = ln->child; e; e = e->next) {
        LayerNodes l;
        int found = layer_nodes(g, e->string, &l), recurrent = l.recurrent, hsig = l.hsig;
        const char *what = l.what;
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "Precision");
        static const char *const hkeys[] = {"slope_t", "shift_t", "slope"};
        for (int j = 0; j < 3 && found && !hsig; j++)
            if (j < 2 ? cJSON_GetObjectItemCaseSensitive(e, hkeys[j]) != NULL
                      : cJSON_IsObject(p) && cJSON_GetObjectItemCaseSensitive(p, hkeys[j]) != NULL)
                return diag_error(d, "%s: LayerName.%s.%s%s: expected it only for a hard_sigmoid layer (hls4ml's "
                                     "HardActivation), got it for a %s layer", c->origin, e->string, j < 2 ? "" : "Precision.",
                                  hkeys[j], what ? what : "other");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "Strategy");
        if (found && l.other && cJSON_IsString(st) && !strcasecmp_ascii_eq(st->valuestring, "Latency") &&
            !strcasecmp_ascii_eq(st->valuestring, "Resource"))
            return diag_error(d, "%s: LayerName.%s.Strategy: expected one of Latency, Resource, got '%s' (stable and "
                                 "argmax on a softmax layer only; this is a %s layer)", c->origin, e->string,
                              st->valuestring, what ? what : "other");
        if (found && cJSON_IsString(st) && !strcasecmp_ascii_eq(st->valuestring, "Latency") &&
            !strcasecmp_ascii_eq(st->valuestring, "Resource"))
            diag_warn(d, "%s: LayerName.%s.Strategy: '%s' accepted; it changes nothing: hls4ml 1.3 keeps a softmax's "
                         "Strategy as an attribute its softmax does not read (the form is Implementation's, stable by "
                         "default)", c->origin, e->string, st->valuestring);
        static const char *const rkeys[] = {"Static", "RecurrentReuseFactor", "static"};
        for (int j = 0; j < 3 && found && !recurrent; j++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, rkeys[j]);
            if (j == 1 ? v && v->valuedouble != 1 : cJSON_IsTrue(v))
                return diag_error(d, "%s: LayerName.%s.%s: expected it only for a recurrent layer (SimpleRNN, LSTM, "
                                     "GRU and their QKeras forms), got it for a %s layer", c->origin, e->string, rkeys[j],
                                  what ? what : "non-recurrent");
        }
        for (int j = 0; bidir_keys[j] && found && !l.bidir; j++)
            if (cJSON_GetObjectItemCaseSensitive(e, bidir_keys[j]))
                return diag_error(d, "%s: LayerName.%s.%s: expected it only for a bidirectional recurrent layer (Keras "
                                     "Bidirectional, ONNX direction bidirectional), got it for a %s layer", c->origin,
                                  e->string, bidir_keys[j], what ? what : "non-recurrent");
        for (const cJSON *v = cJSON_IsObject(p) ? p->child : NULL; v && found && !l.bidir; v = v->next)
            if (!strncmp(v->string, "forward_", 8) || !strncmp(v->string, "backward_", 9))
                return diag_error(d, "%s: LayerName.%s.Precision.%s: expected it only for a bidirectional recurrent "
                                     "layer (Keras Bidirectional, ONNX direction bidirectional), got it for a %s layer",
                                  c->origin, e->string, v->string, what ? what : "non-recurrent");
        if (found && !recurrent && cJSON_IsObject(p)) {
            static const char *const rvars[] = {"recurrent_weight", "recurrent_bias"};
            for (int j = 0; j < 2; j++)
                if (cJSON_GetObjectItemCaseSensitive(p, rvars[j]))
                    return diag_error(d, "%s: LayerName.%s.Precision.%s: expected it only for a recurrent layer "
                                         "(SimpleRNN, LSTM, GRU and their QKeras forms), got it for a %s layer",
                                      c->origin, e->string, rvars[j], what ? what : "non-recurrent");
        }
        const Node *into = NULL;   /* an affine layer folded into another: named, but nothing of its own to set */
        for (size_t k = 0; k < g->nn && !found && !into; k++)
            if (!g->n[k].dead && g->n[k].folded && name_in_list(g->n[k].folded, e->string))
                into = &g->n[k];
        if (into) {
            diag_warn(d, "%s: LayerName.%s: folded into '%s' (a BatchNormalization folds into the Dense or Conv "
                         "before it; under --hls4ml only where hls4ml folds it, when that layer's result is 'auto'): its "
                         "settings have no layer of their own and change nothing", c->origin, e->string, into->name);
            continue;
        }
        if (!found) {
            Buf names = {0};
            const char *layer = NULL;   /* a layer built as several nodes: its name, then theirs */
            for (size_t k = 0; k < g->nn; k++) {
                if (g->n[k].dead)
                    continue;
                if (g->n[k].layer && (!layer || strcmp(layer, g->n[k].layer)))
                    buf_printf(&names, "%s%s", names.len ? ", " : "", layer = g->n[k].layer);
                buf_printf(&names, "%s%s", names.len ? ", " : "", g->n[k].name);
            }
            diag_error(d, "%s: unknown layer 'LayerName.%s': expected one of %s", c->origin, e->string,
                       names.data ? names.data : "(none)");
            buf_free(&names);
            return -1;
        }
    }
    var_check(c, d, g, ln);
    return 0;
}

/* ---- lookup ------------------------------------------------------------ */

static const cJSON *layer_entry(const Config *c, const char *section, const char *key)
{
    if (!c->root)
        return NULL;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(c->root, section);
    return s ? cJSON_GetObjectItemCaseSensitive(s, key) : NULL;
}

/* LayerName's entry for node n: by its name, else by its ONNX node's own name (Node.src_name, as hls4ml names
 * it), else by the layer it is part of (Node.layer). */
static const cJSON *name_entry(const Config *c, const Node *n)
{
    const cJSON *v = layer_entry(c, "LayerName", n->name);
    if (!v && n->src_name)
        v = layer_entry(c, "LayerName", n->src_name);
    return v || !n->layer ? v : layer_entry(c, "LayerName", n->layer);
}

/* The value of `key` in LayerName[n], LayerType[class], Model — first found. */
static const cJSON *lookup_key(const Config *c, const Node *n, const char *key)
{
    const cJSON *v;
    if (n) {
        if ((v = name_entry(c, n)) && (v = cJSON_GetObjectItemCaseSensitive(v, key)))
            return v;
        if ((v = layer_entry(c, "LayerType", ir_hls_class(n))) && (v = cJSON_GetObjectItemCaseSensitive(v, key)))
            return v;
    }
    if (c->root && (v = cJSON_GetObjectItemCaseSensitive(c->root, "Model")) &&
        (v = cJSON_GetObjectItemCaseSensitive(v, key)))
        return v;
    return NULL;
}

/* A layer key as hls4ml 1.3 reads it: its LayerType entry updated by its LayerName entry (a key of both keeps
 * the LayerType one's place), every key snake-cased, the last of those equal to `snake` wins. */
static const cJSON *hls_layer_key(const Config *c, const Node *n, const char *snake)
{
    const cJSON *ent[2] = {layer_entry(c, "LayerType", ir_hls_class(n)), name_entry(c, n)}, *val[128];
    const char *key[128];
    int nk = 0;
    for (int j = 0; j < 2; j++)
        for (const cJSON *e = cJSON_IsObject(ent[j]) ? ent[j]->child : NULL; e; e = e->next) {
            int i = 0;
            while (i < nk && strcmp(key[i], e->string))
                i++;
            if (i == nk && nk == 128)   /* the check allows ~30 distinct keys per entry */
                break;
            key[i] = e->string, val[i] = e;
            nk += i == nk;
        }
    const cJSON *v = NULL;
    for (int i = 0; i < nk; i++)
        if (snake_eq(key[i], snake))
            v = val[i];
    return v;
}

const char *config_layer_key_str(const Config *c, const Node *n, const char *snake)
{
    const cJSON *v = c->root ? hls_layer_key(c, n, snake) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int config_table_size(const Config *c, const Node *n)
{
    const cJSON *v = c->root ? hls_layer_key(c, n, "table_size") : NULL;
    int ts;
    if (cJSON_IsNumber(v))
        return (int)v->valuedouble;
    if (n->op == OP_LAYERNORM)
        return 4096;   /* hls4ml's LayerNormalization default (Model's TableSize is for activations) */
    config_int(c, NULL, NULL, "TableSize", 1024, &ts);
    return ts;
}

int config_table_range(const Config *c, const Node *n)
{
    const cJSON *v = c->root ? hls_layer_key(c, n, "table_range_power2") : NULL;
    return cJSON_IsNumber(v) ? (int)v->valuedouble : 0;
}

static const char *var_alias(const char *var)
{
    return !strcmp(var, "weight") ? "scale" : !strcmp(var, "bias") ? "shift" : NULL;
}

static const char *var_alias2(const char *var)
{
    return !strcmp(var, "weight") ? "param" : !strcmp(var, "bias") ? "shift" : NULL;
}

/* Table types have their own defaults and ignore a generic default. */
static int is_table_var(const char *var)
{
    return !strcmp(var, "table") || !strcmp(var, "exp_table") || !strcmp(var, "inv_table") || !strcmp(var, "inv_inp");
}

static const cJSON *prec_from(const cJSON *p, const char *var, int level_is_model)
{
    if (!p)
        return NULL;
    if (cJSON_IsString(p))
        return is_table_var(var) ? NULL : p;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, var);
    if (!v && var_alias(var))
        v = cJSON_GetObjectItemCaseSensitive(p, var_alias(var));
    if (!v && var_alias2(var))
        v = cJSON_GetObjectItemCaseSensitive(p, var_alias2(var));
    if (!v && !is_table_var(var))
        v = cJSON_GetObjectItemCaseSensitive(p, "default");
    (void)level_is_model;
    return v;
}

/* A hard_sigmoid's slope (var weight) or shift (bias) type set at its layer (LayerName, then LayerType):
 * Precision.slope / shift, the generic weight / bias (and their aliases), or the layer key slope_t / shift_t
 * (hls4ml's spelling of the types).  1 with *v when found other than 'auto', else 0. */
static int hsig_layer_type(const Config *c, const Node *n, const char *var, const cJSON **v)
{
    bool slope = !strcmp(var, "weight");
    static const char *const skeys[] = {"slope", "weight", "scale", "param", NULL};
    static const char *const hkeys[] = {"shift", "bias", NULL};
    const cJSON *ent[2] = {name_entry(c, n), layer_entry(c, "LayerType", ir_hls_class(n))};
    for (int j = 0; j < 2; j++) {
        if (!ent[j])
            continue;
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(ent[j], "Precision");
        for (const char *const *k = slope ? skeys : hkeys; cJSON_IsObject(p) && *k; k++)
            if ((*v = cJSON_GetObjectItemCaseSensitive(p, *k)) && cJSON_IsString(*v) && strcmp((*v)->valuestring, "auto"))
                return 1;
        if ((*v = cJSON_GetObjectItemCaseSensitive(ent[j], slope ? "slope_t" : "shift_t")) && cJSON_IsString(*v) &&
            strcmp((*v)->valuestring, "auto"))
            return 1;
    }
    return 0;
}

int config_precision(const Config *c, Diag *d, const Node *n, const char *var, FxType *out, bool *is_auto)
{
    if (n->op == OP_HARDSIGMOID && n->cell.role == RNN_ROLE_NONE && (!strcmp(var, "weight") || !strcmp(var, "bias"))) {
        /* hls4ml 1.3 types a HardActivation's slope ufixed<16,0> and its shift ufixed<2,0> whatever its configuration
         * says: under --auto-types hls4ml these are the types unless the layer sets its own (not 'auto') */
        const cJSON *v = NULL;
        int set = hsig_layer_type(c, n, var, &v);
        char err[512];
        *is_auto = false;
        if (set || config_auto_hls4ml(c, n)) {
            const char *s = set ? v->valuestring : !strcmp(var, "weight") ? "ufixed<16,0>" : "ufixed<2,0>";
            if (fx_parse(s, out, err, sizeof err) < 0)
                return diag_error(d, "%s: layer '%s' precision %s: %s", c->origin, n->name,
                                  !strcmp(var, "weight") ? "slope" : "shift", err);
            return 0;
        }
    }
    const cJSON *v = NULL, *p;
    char err[512];
    *is_auto = false;
    char hls_key[32];   /* hls4ml spells table types as layer keys: table_t, exp_table_t, ... */
    snprintf(hls_key, sizeof hls_key, "%s_t", var);
    /* 'auto' as hls4ml infers it (config_from_* writes it for every layer at type/name
     * granularity): weights, biases and the results of layers other than Dense, Conv and
     * pooling take the next level's precision, in the end the default (hls4ml's
     * _infer_default_type); accumulators and those results are computed by the caller
     * (exact sums). */
    bool sums = n->op == OP_DENSE || n->op == OP_DOT || n->op == OP_CONV1D || n->op == OP_CONV2D ||
                n->op == OP_MAXPOOL1D ||
                n->op == OP_MAXPOOL2D || n->op == OP_AVGPOOL1D || n->op == OP_AVGPOOL2D;
    /* --auto-types hls4ml: hls4ml also infers the results of merges, BatchNormalization and layers that move
     * values (from their inputs' types), and the parameters of PReLU (the input type), LeakyReLU and ELU (from
     * the value) */
    if (config_auto_hls4ml(c, n))
        sums = sums || n->op == OP_ADD || n->op == OP_SUB || n->op == OP_MUL || n->op == OP_AVERAGE ||
               n->op == OP_MAXIMUM || n->op == OP_MINIMUM || n->op == OP_CONCAT || n->op == OP_AFFINE ||
               n->op == OP_PAD || n->op == OP_UPSAMPLE || n->op == OP_LAYERNORM;
    bool hls_param = config_auto_hls4ml(c, n) && !strcmp(var, "weight") &&
                     (n->op == OP_PRELU || n->op == OP_LEAKYRELU || n->op == OP_ELU ||
                                                                     n->op == OP_THRESHRELU);
    /* a recurrent layer's 'auto' types are the default, as hls4ml infers them */
    bool auto_is_default = (!strcmp(var, "weight") && !hls_param) || !strcmp(var, "embeddings") || !strcmp(var, "bias") ||
                           (!strcmp(var, "result") && !sums) || n->cell.role != RNN_ROLE_NONE;
    /* hls4ml 1.3 infers no type of an EinsumDense or an Einsum: 'auto' is the default */
    if (config_auto_hls4ml(c, n) && n->hls_class &&
        (!strcmp(n->hls_class, "EinsumDense") || !strcmp(n->hls_class, "Einsum")))
        auto_is_default = true;
    /* hls4ml's layer keys table_t, exp_table_t, inv_table_t, inv_inp_t and accum_t (of the LayerName or the
     * LayerType entry) are set after the layer's Precision is read, so they win over Precision.* */
    if ((is_table_var(var) || !strcmp(var, "accum")) && c->root && (v = hls_layer_key(c, n, hls_key)) &&
        !cJSON_IsString(v))
        v = NULL;
    if (!v && (p = name_entry(c, n))) {
        v = prec_from(cJSON_GetObjectItemCaseSensitive(p, "Precision"), var, 0);
        if (v && auto_is_default && cJSON_IsString(v) && !strcmp(v->valuestring, "auto"))
            v = NULL;
    }
    if (!v && (p = layer_entry(c, "LayerType", ir_hls_class(n)))) {
        v = prec_from(cJSON_GetObjectItemCaseSensitive(p, "Precision"), var, 0);
        if (v && auto_is_default && cJSON_IsString(v) && !strcmp(v->valuestring, "auto"))
            v = NULL;
    }
    const char *s = NULL;
    /* a LayerNormalization's accum and table types not set at the layer: hls4ml's defaults for that layer, not
     * the model's default precision */
    bool ln_own = n->op == OP_LAYERNORM && (!strcmp(var, "accum") || !strcmp(var, "table"));
    if (v) {
        s = v->valuestring;
    } else if (ln_own) {
        s = !strcmp(var, "accum") ? "fixed<14,4,RND_CONV,SAT>" : "ufixed<8,5,RND_CONV,SAT>";
    } else if (c->precision_opt[0] && !is_table_var(var)) {
        s = c->precision_opt;
    } else {
        const cJSON *m = c->root ? cJSON_GetObjectItemCaseSensitive(c->root, "Model") : NULL;
        if (m && (v = prec_from(cJSON_GetObjectItemCaseSensitive(m, "Precision"), var, 1)))
            s = v->valuestring;
        if (s && auto_is_default && !strcmp(s, "auto"))
            s = NULL;
    }
    if (!s)
        s = !strcmp(var, "table") ? "fixed<18,8>"
            : is_table_var(var)   ? "fixed<18,8,RND,SAT>"
                                  : "fixed<16,6>";
    if (!strcmp(s, "auto")) {
        *is_auto = true;
        return 0;
    }
    if (fx_parse(s, out, err, sizeof err) < 0)
        return diag_error(d, "%s: layer '%s' precision %s: %s", c->origin, n->name, var, err);
    return 0;
}

int config_hls4ml_mode(const Config *c, const Node *n, const char *key, int opt)
{
    const char *mode = config_layer_str(c, n, key);
    if (!mode && opt >= 0)
        return opt != 0;
    if (!mode)
        mode = config_str(c, NULL, key, "exact");
    return !strcmp(mode, "hls4ml");
}

bool config_auto_hls4ml(const Config *c, const Node *n)
{
    return config_hls4ml_mode(c, n, "AutoTypes", c->auto_types_opt) != 0;
}

int config_max_precision(const Config *c, Diag *d, FxType *out)
{
    const cJSON *m = c->root ? cJSON_GetObjectItemCaseSensitive(c->root, "Model") : NULL, *p, *v;
    if (!m || !(p = cJSON_GetObjectItemCaseSensitive(m, "Precision")) || !cJSON_IsObject(p) ||
        !(v = cJSON_GetObjectItemCaseSensitive(p, "maximum")))
        return 0;
    int model_hls = c->auto_types_opt >= 0 ? c->auto_types_opt
                                           : !strcmp(config_str(c, NULL, "AutoTypes", "exact"), "hls4ml");
    if (!model_hls)
        return diag_error(d, "%s: Model.Precision.maximum caps the types hls4ml infers for 'auto' (--auto-types "
                             "hls4ml, set by --hls4ml); etchnn's exact 'auto' types are the narrowest that hold every "
                             "value: remove it or use --auto-types hls4ml", c->origin);
    char err[512];
    if (fx_parse(v->valuestring, out, err, sizeof err) < 0)
        return diag_error(d, "%s: Model.Precision.maximum: %s", c->origin, err);
    return 1;
}

bool config_layer_sets_var(const Config *c, const Node *n, const char *var)
{
    const cJSON *e = name_entry(c, n), *p = e ? cJSON_GetObjectItemCaseSensitive(e, "Precision") : NULL;
    return cJSON_IsObject(p) && cJSON_GetObjectItemCaseSensitive(p, var) != NULL;
}

bool config_names_node(const Config *c, const Node *n)
{
    return layer_entry(c, "LayerName", n->name) || (n->src_name && layer_entry(c, "LayerName", n->src_name));
}

int config_int(const Config *c, Diag *d, const Node *n, const char *key, int def, int *out)
{
    const cJSON *v = lookup_key(c, n, key);
    (void)d;
    *out = v && cJSON_IsNumber(v) ? (int)v->valuedouble : def;
    return 0;
}

const char *config_str(const Config *c, const Node *n, const char *key, const char *def)
{
    const cJSON *v = lookup_key(c, n, key);
    return v && cJSON_IsString(v) ? v->valuestring : def;
}

/* The value of key a or its spelling b in entry e, the later of the two when both are there (hls4ml reads
 * layer keys snake-cased, so both are one attribute and the later wins); NULL when neither is. */
static const cJSON *later_spelling(const cJSON *e, const char *a, const char *b)
{
    const cJSON *v = NULL;
    for (const cJSON *k = e ? e->child : NULL; k; k = k->next)
        if (k->string && (!strcmp(k->string, a) || !strcmp(k->string, b)))
            v = k;
    return v;
}

bool config_rnn_static(const Config *c, const Node *n)
{
    const cJSON *v = later_spelling(layer_entry(c, "LayerName", n->layer ? n->layer : n->name), "Static", "static");
    return n->cell.unit && v && cJSON_IsTrue(v);
}

bool config_skip(const Config *c, const Node *n)
{
    const cJSON *v;
    for (int level = 0; level < 2; level++) {   /* LayerName, then LayerType; Skip or skip, the later of the two */
        const cJSON *e = level ? layer_entry(c, "LayerType", ir_hls_class(n)) : name_entry(c, n);
        v = later_spelling(e, "Skip", "skip");
        if (v)
            return cJSON_IsTrue(v);
    }
    return false;
}

const char *config_strategy(const Config *c, const Node *n)
{
    /* the check accepted it in any case, as hls4ml lowercases it */
    const char *s = config_str(c, n, "Strategy", "Latency");
    return strcasecmp_ascii_eq(s, "Resource") ? "Resource" : "Latency";
}

const char *config_layer_str(const Config *c, const Node *n, const char *key)
{
    const cJSON *v;
    if ((v = name_entry(c, n)) && (v = cJSON_GetObjectItemCaseSensitive(v, key)) && cJSON_IsString(v))
        return v->valuestring;
    if ((v = layer_entry(c, "LayerType", ir_hls_class(n))) && (v = cJSON_GetObjectItemCaseSensitive(v, key)) &&
        cJSON_IsString(v))
        return v->valuestring;
    return NULL;
}

/* ---- template ---------------------------------------------------------- */


static void emit_layer_precision(const Graph *g, const Node *n, Buf *out, const char *indent)
{
    (void)g;
    unsigned vars = op_vars[n->op];
    buf_printf(out, "%sPrecision:\n", indent);
    buf_printf(out, "%s  result: fixed<16,6>\n", indent);
    if (vars & ETN_V_WEIGHT)
        buf_printf(out, "%s  weight: fixed<16,6>\n", indent);
    if (vars & ETN_V_BIAS)
        buf_printf(out, "%s  bias: fixed<16,6>\n", indent);
    if (vars & ETN_V_EMBED)
        buf_printf(out, "%s  embeddings: fixed<16,6>\n", indent);
    bool ln = n->op == OP_LAYERNORM;   /* hls4ml's LayerNormalization defaults */
    if (vars & ETN_V_ACCUM)
        buf_printf(out, "%s  accum: %s\n", indent, ln ? "fixed<14,4,RND_CONV,SAT>" : "fixed<16,6>");
    if (vars & ETN_V_TABLE)
        buf_printf(out, "%s  table: %s\n", indent, ln ? "ufixed<8,5,RND_CONV,SAT>" : "fixed<18,8>");
    if (vars & ETN_V_EXP)
        buf_printf(out, "%s  exp_table: fixed<18,8,RND,SAT>\n", indent);
    if (vars & ETN_V_INV) {
        buf_printf(out, "%s  inv_table: fixed<18,8,RND,SAT>\n", indent);
        buf_printf(out, "%s  inv_inp: fixed<18,8,RND,SAT>\n", indent);
    }
    if (vars & (ETN_V_TABLE | ETN_V_EXP)) {
        buf_printf(out, "%stable_size: %d\n", indent, ln ? 4096 : 1024);
        if (ln)   /* hls4ml's table spans [10^-p, 10^-p + 2^-TableRangePower2) */
            buf_printf(out, "%sTableRangePower2: 0\n", indent);
        buf_printf(out, "%sTables: %s\n", indent, (vars & ETN_V_EXP) ? "hls4ml" : "exact");
    }
}

/* Does a quantizer in the model file type node n (its weights, or its result)? */
static int quantizer_typed(const Graph *g, const Node *n)
{
    return n->quantized || g->t[n->out].type_pinned;
}

/* A quantized layer's types as comments: a Precision block would replace its exact arithmetic. */
static void emit_quantizer_types(const Graph *g, const Node *n, Buf *out, const char *indent)
{
    char s[64];
    buf_printf(out, "%s# types from the model's quantizers (they stay; a Precision block here replaces only the exact arithmetic between them):", indent);
    static const char *const names[3] = {"result", "weight", "bias"};
    int ids[3] = {n->out, n->nin > 1 ? n->in[1] : -1, n->nin > 2 ? n->in[2] : -1};
    for (int j = 0; j < 3; j++)
        if (ids[j] >= 0 && g->t[ids[j]].type_pinned) {
            fx_format(g->t[ids[j]].type, s, sizeof s);
            buf_printf(out, " %s %s", names[j], s);
        }
    if (n->quantized && (op_vars[n->op] & ETN_V_ACCUM))
        buf_printf(out, " accum exact");
    buf_printf(out, "\n");
}

int config_template(const Graph *g, Diag *d, const char *granularity, Buf *out)
{
    int gran = !strcmp(granularity, "model") ? 0 : !strcmp(granularity, "type") ? 1 : !strcmp(granularity, "name") ? 2 : -1;
    if (gran < 0)
        return diag_error(d, "--granularity: expected one of model, type, name, got '%s'", granularity);
    int quantized = 0;
    for (size_t k = 0; k < g->nn && !quantized; k++)
        quantized = !g->n[k].dead && quantizer_typed(g, &g->n[k]);
    char nm[NAMES_TEXT_SIZE], file[4096 * 3 + 4];
    buf_printf(out, "# etchnn configuration for %s (%s); edit and pass with -c\n", names_comment(nm, sizeof nm, g->name),
               names_comment(file, sizeof file, g->file));
    if (quantized)
        buf_printf(out, "# quantized model: its quantizers type it; layers without them default to fixed<16,6>\n"
                        "Model:\n  # Precision: fixed<16,6>   (this would also replace the quantized layers' exact arithmetic)\n");
    else
        buf_printf(out, "Model:\n  Precision:\n    default: fixed<16,6>\n");
    buf_printf(out, "  ReuseFactor: 1\n  Strategy: Latency\n"
                    "  # Tables: exact (correctly rounded sigmoid/tanh) or hls4ml; softmax defaults to hls4ml\n"
                    "  WeightQuant: exact   # or hls4ml: weights through hls4ml's decimal literals\n"
                    "  SatOrder: exact      # or hls4ml: a saturating accumulator saturates after each addition\n"
                    "  AutoTypes: exact     # or hls4ml: 'auto' types as hls4ml infers them from input, weight, bias\n"
                    "  ClockPeriod: 5\n");
    if (gran == 1) {
        buf_printf(out, "LayerType:\n");
        /* one entry per hls4ml class (a node's own class where its front end set one: an EinsumDense built as a
         * Dense), in the order of the ops, each class once */
        const char **done = calloc(g->nn + 1, sizeof *done);
        size_t ndone = 0;
        if (!done)
            abort();
        for (int op = 0; op < OP_COUNT_; op++)
            for (size_t f = 0; f < g->nn; f++) {
                if (g->n[f].dead || (int)g->n[f].op != op)
                    continue;
                const char *cls = ir_hls_class(&g->n[f]);
                int dup = 0;   /* classes shared by several ops or nodes are printed once */
                for (size_t j = 0; j < ndone && !dup; j++)
                    dup = !strcmp(done[j], cls);
                if (dup)
                    continue;
                done[ndone++] = cls;
                buf_printf(out, "  %s:\n", cls);
                int qclass = 0;
                for (size_t k = 0; k < g->nn && !qclass; k++)
                    qclass = !g->n[k].dead && !strcmp(ir_hls_class(&g->n[k]), cls) && quantizer_typed(g, &g->n[k]);
                if (qclass) {
                    buf_printf(out, "    # types from the model's quantizers (they stay; a Precision block here replaces only the exact arithmetic between them)\n"
                                    "    ReuseFactor: 1\n");
                    continue;
                }
                Node merged = g->n[f];
                /* show every variable any op of this class has */
                for (size_t k = 0; k < g->nn; k++)
                    if (!g->n[k].dead && !strcmp(ir_hls_class(&g->n[k]), cls) && op_vars[g->n[k].op] > op_vars[merged.op])
                        merged = g->n[k];
                emit_layer_precision(g, &merged, out, "    ");
                buf_printf(out, "    ReuseFactor: 1\n");
            }
        free(done);
    } else if (gran == 2) {
        buf_printf(out, "LayerName:\n");
        const char *rnn_layer = NULL;   /* the recurrent layer whose entry was written last */
        for (size_t k = 0; k < g->nn; k++) {
            const Node *n = &g->n[k];
            if (n->dead)
                continue;
            char key[4 * NAMES_TEXT_SIZE], op[NAMES_TEXT_SIZE];
            if (n->layer) {
                /* a layer built as several nodes (an unrolled recurrent layer): one entry with hls4ml's variables
                 * (its nodes are contiguous) */
                if (rnn_layer && !strcmp(rnn_layer, n->layer))
                    continue;
                rnn_layer = n->layer;
                int quant = 0, bidir = 0;
                for (size_t j = k; j < g->nn && g->n[j].layer && !strcmp(g->n[j].layer, n->layer); j++) {
                    quant |= !g->n[j].dead && g->n[j].quantized;
                    bidir |= !g->n[j].dead && g->n[j].cell.dir != RNN_DIR_NONE;
                }
                char cm[NAMES_TEXT_SIZE];
                names_comment(cm, sizeof cm, n->layer);
                buf_printf(out, "  %s:   # %s, unrolled (LayerName.%s%s_tK_ROLE%s%s%s would set one of its nodes)\n",
                           names_yaml_key(key, sizeof key, n->layer), names_comment(op, sizeof op, n->src_op), cm,
                           bidir ? "_forward" : "", bidir ? " or " : "", bidir ? cm : "",
                           bidir ? "_backward_tK_ROLE" : "");
                if (quant) {
                    buf_printf(out, "    # types from the model's quantizers; the cell computes exactly between them "
                                    "(a Precision block here overrides that)\n    ReuseFactor: 1\n");
                    continue;
                }
                buf_printf(out, "    Precision:\n");
                static const char *const vars[] = {"result", "weight", "recurrent_weight", "bias", "recurrent_bias",
                                                   "accum"};
                /* a bidirectional layer: hls4ml's per-direction variables and ReuseFactors (its Bidirectional) */
                for (int v = 0; v < 6; v++)
                    for (int dr = 0; dr < (bidir && v >= 1 && v <= 4 ? 2 : 1); dr++)
                        buf_printf(out, "      %s%s: fixed<16,6>\n",
                                   bidir && v >= 1 && v <= 4 ? (dr ? "backward_" : "forward_") : "", vars[v]);
                buf_printf(out, "    table_t: fixed<18,8>\n    TableSize: 1024\n    ReuseFactor: 1\n");
                if (bidir)
                    buf_printf(out, "    ForwardReuseFactor: 1\n    BackwardReuseFactor: 1\n"
                                    "    ForwardRecurrentReuseFactor: 1\n    BackwardRecurrentReuseFactor: 1\n");
                continue;
            }
            buf_printf(out, "  %s:   # %s (%s)\n", names_yaml_key(key, sizeof key, n->name), ir_hls_class(n),
                       names_comment(op, sizeof op, n->src_op));
            if (quantizer_typed(g, n)) {
                emit_quantizer_types(g, n, out, "    ");
                buf_printf(out, "    ReuseFactor: 1\n");
                continue;
            }
            emit_layer_precision(g, n, out, "    ");
            if (n->op == OP_DENSE)
                buf_printf(out, "    ReuseFactor: 1\n");
        }
    }
    return 0;
}

/* A project-wide key: under Model, else at the level holding Model (HLSConfig), else the document's top. */
static const cJSON *project_key(const Config *c, const char *key)
{
    const cJSON *v = NULL, *model = c->root ? cJSON_GetObjectItemCaseSensitive(c->root, "Model") : NULL;
    if (model)
        v = cJSON_GetObjectItemCaseSensitive(model, key);
    if (!v && c->root)
        v = cJSON_GetObjectItemCaseSensitive(c->root, key);
    if (!v && c->doc)
        v = cJSON_GetObjectItemCaseSensitive(c->doc, key);
    return v;
}

int config_clock_period(const Config *c, Diag *d, double *ns)
{
    *ns = 0;
    const cJSON *v = project_key(c, "ClockPeriod");
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || v->valuedouble > 1e6)
        return diag_error(d, "%s: ClockPeriod: expected a positive number of ns (up to 1e6), got %s", c->origin,
                          cJSON_IsNumber(v) ? "a number out of range" : cJSON_IsString(v) ? v->valuestring : "another value");
    *ns = v->valuedouble;
    return 0;
}

int config_part(const Config *c, Diag *d, const char **name)
{
    *name = NULL;
    const cJSON *v = project_key(c, "Part");
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return diag_error(d, "%s: Part: expected a part number such as xcvu13p-flga2577-2-e, got %s", c->origin,
                          cJSON_IsString(v) ? "an empty string" : "another value");
    *name = v->valuestring;
    return 0;
}

int config_io_stream(const Config *c, Diag *d, int *stream)
{
    *stream = 0;
    const cJSON *v = project_key(c, "IOType");
    if (!v)
        return 0;
    if (cJSON_IsString(v) && !strcmp(v->valuestring, "io_stream"))
        *stream = 1;
    else if (!cJSON_IsString(v) || strcmp(v->valuestring, "io_parallel"))
        return diag_error(d, "%s: IOType: expected io_parallel or io_stream, got %s", c->origin,
                          cJSON_IsString(v) ? v->valuestring : "another value");
    return 0;
}
