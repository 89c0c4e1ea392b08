/* config.c — hls4ml-style configuration (JSON via cJSON, YAML via libyaml,
 * both into one cJSON tree), validation and lookup. */
#include "config/config.h"

#include <cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Keys a user may write.  hls4ml project keys at the top level are accepted
 * (so an hls4ml YAML file can be used as is) and ignored. */
static const char *const top_keys[] = {"HLSConfig", "Model", "LayerType", "LayerName", "OutputDir", "ProjectName",
                                       "Part", "ClockPeriod", "Backend", "IOType", "KerasJson", "KerasH5",
                                       "KerasModel", "OnnxModel", "InputData", "OutputPredictions", "Version",
                                       "Stamp", "WriterConfig", "Board", NULL};
static const char *const model_keys[] = {"Precision", "ReuseFactor", "Strategy", "Tables", "WeightQuant", "TableSize", "ClockPeriod",
                                         "BramFactor", "TraceOutput", "IOType", "MergedRelu", NULL};
static const char *const layer_keys[] = {"Precision", "ReuseFactor", "Strategy", "Tables", "WeightQuant", "table_size",
                                         "TableSize", "Trace", "implementation", "ParallelizationFactor",
                                         "table_t", "exp_table_t", "inv_table_t", "inv_inp_t", NULL};
static const char *const prec_keys[] = {"default", "result", "weight", "bias", "accum", "table", "exp_table",
                                        "inv_table", "inv_inp", "scale", "shift", "slope", "param", NULL};
static const char *const strategies[] = {"Latency", "Resource", NULL};

void config_init(Config *c)
{
    memset(c, 0, sizeof(*c));
    c->tables_opt = -1;
    c->weights_opt = -1;
    c->origin = "<config>";
}

void config_free(Config *c)
{
    cJSON_Delete(c->doc);
    c->doc = NULL;
    c->root = NULL;
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

static void join_list(const char *const *list, char *out, size_t n)
{
    size_t len = 0;
    out[0] = 0;
    for (int k = 0; list[k] && len < n; k++)
        len += (size_t)snprintf(out + len, n - len, "%s%s", k ? ", " : "", list[k]);
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

static cJSON *yaml_to_json(yaml_document_t *doc, yaml_node_t *node, int depth)
{
    if (!node || depth > 64)
        return NULL;
    switch (node->type) {
    case YAML_SCALAR_NODE:
        return yaml_scalar(node);
    case YAML_SEQUENCE_NODE: {
        cJSON *arr = cJSON_CreateArray();
        for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
            cJSON *v = yaml_to_json(doc, yaml_document_get_node(doc, *it), depth + 1);
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
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(doc, p->key);
            if (!k || k->type != YAML_SCALAR_NODE) {
                cJSON_Delete(obj);
                return NULL;
            }
            cJSON *v = yaml_to_json(doc, yaml_document_get_node(doc, p->value), depth + 1);
            if (!v) {
                cJSON_Delete(obj);
                return NULL;
            }
            cJSON_AddItemToObject(obj, (const char *)k->data.scalar.value, v);
        }
        return obj;
    }
    default:
        return NULL;
    }
}

static cJSON *parse_yaml(const char *text, Diag *d, const char *origin)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    cJSON *out = NULL;
    if (!yaml_parser_initialize(&parser)) {
        diag_error(d, "%s: cannot initialise the YAML parser", origin);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    if (!yaml_parser_load(&parser, &doc)) {
        diag_error(d, "%s: line %zu: expected valid YAML or JSON, got a syntax error (%s)", origin,
                   parser.problem_mark.line + 1, parser.problem ? parser.problem : "unknown");
        yaml_parser_delete(&parser);
        return NULL;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root)
        out = yaml_to_json(&doc, root, 0);
    if (!out)
        diag_error(d, "%s: expected a YAML mapping of configuration keys, got %s", origin, root ? "an unsupported document" : "an empty document");
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return out;
}

/* ---- validation -------------------------------------------------------- */

static int check_type_string(Diag *d, const char *origin, const char *path, const cJSON *v, int allow_auto)
{
    char err[512];
    FxType t;
    if (!cJSON_IsString(v))
        return diag_error(d, "%s: %s: expected a fixed-point type string such as 'fixed<16,6>', got a %s", origin, path,
                          cJSON_IsNumber(v) ? "number" : cJSON_IsObject(v) ? "mapping" : "non-string value");
    if (allow_auto && strcmp(v->valuestring, "auto") == 0)
        return 0;
    if (fx_parse(v->valuestring, &t, err, sizeof err) < 0)
        return diag_error(d, "%s: %s: %s", origin, path, err);
    return 0;
}

static int check_precision(Diag *d, const char *origin, const char *path, const cJSON *p)
{
    char allowed[256], sub[600];
    if (cJSON_IsString(p))
        return check_type_string(d, origin, path, p, 0);
    if (!cJSON_IsObject(p))
        return diag_error(d, "%s: %s: expected a type string or a mapping of variables to types", origin, path);
    join_list(prec_keys, allowed, sizeof allowed);
    for (const cJSON *e = p->child; e; e = e->next) {
        if (!in_list(prec_keys, e->string))
            return diag_error(d, "%s: %s: unknown precision variable '%s': expected one of %s", origin, path, e->string,
                              allowed);
        snprintf(sub, sizeof sub, "%s.%s", path, e->string);
        if (check_type_string(d, origin, sub, e, 1) < 0)
            return -1;
    }
    return 0;
}

static int check_settings(Diag *d, const char *origin, const char *path, const cJSON *obj, const char *const *keys)
{
    char allowed[512], sub[600];
    if (!cJSON_IsObject(obj))
        return diag_error(d, "%s: %s: expected a mapping, got a %s", origin, path,
                          cJSON_IsString(obj) ? "string" : cJSON_IsNumber(obj) ? "number" : "value of another kind");
    join_list(keys, allowed, sizeof allowed);
    for (const cJSON *e = obj->child; e; e = e->next) {
        snprintf(sub, sizeof sub, "%s.%s", path, e->string);
        if (!in_list(keys, e->string))
            return diag_error(d, "%s: unknown key '%s': expected one of %s", origin, sub, allowed);
        if (!strcmp(e->string, "Precision")) {
            if (check_precision(d, origin, sub, e) < 0)
                return -1;
        } else if (!strcmp(e->string, "ReuseFactor") || !strcmp(e->string, "table_size") ||
                   !strcmp(e->string, "TableSize") || !strcmp(e->string, "BramFactor") ||
                   !strcmp(e->string, "ParallelizationFactor")) {
            if (!cJSON_IsNumber(e) || !(e->valuedouble >= 1 && e->valuedouble <= (1 << 24)) ||
                e->valuedouble != (double)(long)e->valuedouble)
                return diag_error(d, "%s: %s: expected a positive integer, got %s", origin, sub,
                                  cJSON_IsString(e) ? e->valuestring : "a non-integer");
        } else if (!strcmp(e->string, "Strategy")) {
            int ok = cJSON_IsString(e);
            if (ok) {
                ok = 0;
                for (int k = 0; strategies[k]; k++)
                    if (strcasecmp_ascii_eq(e->valuestring, strategies[k]))
                        ok = 1;
            }
            if (!ok)
                return diag_error(d, "%s: %s: expected one of Latency, Resource, got '%s'", origin, sub,
                                  cJSON_IsString(e) ? e->valuestring : "a non-string");
        } else if (!strcmp(e->string, "table_t") || !strcmp(e->string, "exp_table_t") ||
                   !strcmp(e->string, "inv_table_t") || !strcmp(e->string, "inv_inp_t")) {
            if (check_type_string(d, origin, sub, e, 0) < 0)
                return -1;
        } else if (!strcmp(e->string, "Tables") || !strcmp(e->string, "WeightQuant")) {
            if (!cJSON_IsString(e) || (strcmp(e->valuestring, "exact") && strcmp(e->valuestring, "hls4ml")))
                return diag_error(d, "%s: %s: expected one of exact, hls4ml, got '%s'", origin, sub,
                                  cJSON_IsString(e) ? e->valuestring : "a non-string");
        } else if (!strcmp(e->string, "implementation")) {
            if (!cJSON_IsString(e) || strcmp(e->valuestring, "stable"))
                return diag_error(d, "%s: %s: expected 'stable' (the supported softmax implementation), got '%s'",
                                  origin, sub, cJSON_IsString(e) ? e->valuestring : "a non-string");
        } else if (!strcmp(e->string, "ClockPeriod")) {
            if (!cJSON_IsNumber(e) || e->valuedouble <= 0)
                return diag_error(d, "%s: %s: expected a positive number of ns", origin, sub);
        }
    }
    return 0;
}

static int validate(Config *c, Diag *d)
{
    char allowed[512], path[600];
    const char *o = c->origin;
    if (!cJSON_IsObject(c->doc))
        return diag_error(d, "%s: expected a mapping at the top level, got another kind of value", o);
    join_list(top_keys, allowed, sizeof allowed);
    for (const cJSON *e = c->doc->child; e; e = e->next)
        if (!in_list(top_keys, e->string))
            return diag_error(d, "%s: unknown key '%s': expected one of %s", o, e->string, allowed);
    const cJSON *root = cJSON_GetObjectItemCaseSensitive(c->doc, "HLSConfig");
    if (root) {
        if (!cJSON_IsObject(root))
            return diag_error(d, "%s: HLSConfig: expected a mapping", o);
        for (const cJSON *e = root->child; e; e = e->next)
            if (strcmp(e->string, "Model") && strcmp(e->string, "LayerType") && strcmp(e->string, "LayerName"))
                return diag_error(d, "%s: unknown key 'HLSConfig.%s': expected one of Model, LayerType, LayerName", o,
                                  e->string);
    } else {
        root = c->doc;
    }
    c->root = root;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "Model");
    if (model && check_settings(d, o, "Model", model, model_keys) < 0)
        return -1;
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(root, "LayerType");
    if (lt) {
        if (!cJSON_IsObject(lt))
            return diag_error(d, "%s: LayerType: expected a mapping of layer classes", o);
        const char *classes[OP_COUNT_ + 1];
        int nc = 0;
        for (int k = 0; k < OP_COUNT_; k++)
            if (!in_list_n(classes, nc, op_hls_class[k]))
                classes[nc++] = op_hls_class[k];
        classes[nc] = NULL;
        join_list(classes, allowed, sizeof allowed);
        for (const cJSON *e = lt->child; e; e = e->next) {
            if (!in_list(classes, e->string))
                return diag_error(d, "%s: unknown layer type 'LayerType.%s': expected one of %s", o, e->string, allowed);
            snprintf(path, sizeof path, "LayerType.%s", e->string);
            if (check_settings(d, o, path, e, layer_keys) < 0)
                return -1;
        }
    }
    const cJSON *ln = cJSON_GetObjectItemCaseSensitive(root, "LayerName");
    if (ln) {
        if (!cJSON_IsObject(ln))
            return diag_error(d, "%s: LayerName: expected a mapping of layer names", o);
        for (const cJSON *e = ln->child; e; e = e->next) {
            snprintf(path, sizeof path, "LayerName.%s", e->string);
            if (check_settings(d, o, path, e, layer_keys) < 0)
                return -1;
        }
    }
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

int config_load_text(Config *c, Diag *d, const char *text, const char *origin)
{
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    cJSON *doc;
    if (*p == '{') {
        doc = cJSON_Parse(text);
        if (!doc) {
            const char *at = cJSON_GetErrorPtr();
            return diag_error(d, "%s: expected valid JSON, got a syntax error near '%.20s'", origin, at ? at : "");
        }
    } else {
        doc = parse_yaml(text, d, origin);
        if (!doc)
            return -1;
    }
    return load_parsed(c, d, doc, origin);
}

int config_load_file(Config *c, Diag *d, const char *path)
{
    size_t len;
    unsigned char *text = util_read_file(d, path, &len);
    if (!text)
        return -1;
    if (memchr(text, 0, len)) {
        free(text);
        return diag_error(d, "%s: expected a text file (JSON or YAML), got binary data", path);
    }
    int rc = config_load_text(c, d, (const char *)text, path);
    free(text);
    return rc;
}

int config_check_layers(const Config *c, Diag *d, const Graph *g)
{
    if (!c->root)
        return 0;
    const cJSON *ln = cJSON_GetObjectItemCaseSensitive(c->root, "LayerName");
    if (!ln)
        return 0;
    for (const cJSON *e = ln->child; e; e = e->next) {
        int found = 0;
        for (size_t k = 0; k < g->nn && !found; k++)
            found = !g->n[k].dead && strcmp(g->n[k].name, e->string) == 0;
        if (!found) {
            Buf names = {0};
            for (size_t k = 0; k < g->nn; k++)
                if (!g->n[k].dead)
                    buf_printf(&names, "%s%s", names.len ? ", " : "", g->n[k].name);
            diag_error(d, "%s: unknown layer 'LayerName.%s': expected one of %s", c->origin, e->string,
                       names.data ? names.data : "(none)");
            buf_free(&names);
            return -1;
        }
    }
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

/* The value of `key` in LayerName[n], LayerType[class], Model — first found. */
static const cJSON *lookup_key(const Config *c, const Node *n, const char *key)
{
    const cJSON *v;
    if (n) {
        if ((v = layer_entry(c, "LayerName", n->name)) && (v = cJSON_GetObjectItemCaseSensitive(v, key)))
            return v;
        if ((v = layer_entry(c, "LayerType", op_hls_class[n->op])) && (v = cJSON_GetObjectItemCaseSensitive(v, key)))
            return v;
    }
    if (c->root && (v = cJSON_GetObjectItemCaseSensitive(c->root, "Model")) &&
        (v = cJSON_GetObjectItemCaseSensitive(v, key)))
        return v;
    return NULL;
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

int config_precision(const Config *c, Diag *d, const Node *n, const char *var, FxType *out, bool *is_auto)
{
    const cJSON *v = NULL, *p;
    char err[512];
    *is_auto = false;
    char hls_key[32];   /* hls4ml spells table types as layer keys: table_t, exp_table_t, ... */
    snprintf(hls_key, sizeof hls_key, "%s_t", var);
    if ((p = layer_entry(c, "LayerName", n->name))) {
        v = prec_from(cJSON_GetObjectItemCaseSensitive(p, "Precision"), var, 0);
        if (!v && is_table_var(var))
            v = cJSON_GetObjectItemCaseSensitive(p, hls_key);
    }
    if (!v && (p = layer_entry(c, "LayerType", op_hls_class[n->op]))) {
        v = prec_from(cJSON_GetObjectItemCaseSensitive(p, "Precision"), var, 0);
        if (!v && is_table_var(var))
            v = cJSON_GetObjectItemCaseSensitive(p, hls_key);
    }
    const char *s = NULL;
    if (v) {
        s = v->valuestring;
    } else if (c->precision_opt[0] && !is_table_var(var)) {
        s = c->precision_opt;
    } else {
        const cJSON *m = c->root ? cJSON_GetObjectItemCaseSensitive(c->root, "Model") : NULL;
        if (m && (v = prec_from(cJSON_GetObjectItemCaseSensitive(m, "Precision"), var, 1)))
            s = v->valuestring;
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

const char *config_layer_str(const Config *c, const Node *n, const char *key)
{
    const cJSON *v;
    if ((v = layer_entry(c, "LayerName", n->name)) && (v = cJSON_GetObjectItemCaseSensitive(v, key)) && cJSON_IsString(v))
        return v->valuestring;
    if ((v = layer_entry(c, "LayerType", op_hls_class[n->op])) && (v = cJSON_GetObjectItemCaseSensitive(v, key)) &&
        cJSON_IsString(v))
        return v->valuestring;
    return NULL;
}

/* ---- template ---------------------------------------------------------- */

#include "util/names.h"   /* names from the model reach the YAML only through names_comment / names_yaml_key */

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
    if (vars & ETN_V_ACCUM)
        buf_printf(out, "%s  accum: fixed<16,6>\n", indent);
    if (vars & ETN_V_TABLE)
        buf_printf(out, "%s  table: fixed<18,8>\n", indent);
    if (vars & ETN_V_EXP)
        buf_printf(out, "%s  exp_table: fixed<18,8,RND,SAT>\n", indent);
    if (vars & ETN_V_INV) {
        buf_printf(out, "%s  inv_table: fixed<18,8,RND,SAT>\n", indent);
        buf_printf(out, "%s  inv_inp: fixed<18,8,RND,SAT>\n", indent);
    }
    if (vars & (ETN_V_TABLE | ETN_V_EXP)) {
        buf_printf(out, "%stable_size: 1024\n", indent);
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
    buf_printf(out, "%s# types from the model's quantizers (a Precision block here overrides its exact arithmetic):", indent);
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
                    "  ClockPeriod: 5\n");
    if (gran == 1) {
        buf_printf(out, "LayerType:\n");
        for (int op = 0; op < OP_COUNT_; op++) {
            int used = 0, first = -1;
            for (size_t k = 0; k < g->nn; k++)
                if (!g->n[k].dead && (int)g->n[k].op == op) {
                    used = 1;
                    first = (int)k;
                    break;
                }
            if (!used)
                continue;
            int dup = 0;   /* classes shared by several ops are printed once */
            for (int o2 = 0; o2 < op; o2++)
                for (size_t k = 0; k < g->nn && !dup; k++)
                    if (!g->n[k].dead && (int)g->n[k].op == o2 && !strcmp(op_hls_class[o2], op_hls_class[op]))
                        dup = 1;
            if (dup)
                continue;
            buf_printf(out, "  %s:\n", op_hls_class[op]);
            int qclass = 0;
            for (size_t k = 0; k < g->nn && !qclass; k++)
                qclass = !g->n[k].dead && !strcmp(op_hls_class[g->n[k].op], op_hls_class[op]) && quantizer_typed(g, &g->n[k]);
            if (qclass) {
                buf_printf(out, "    # types from the model's quantizers (a Precision block here overrides their exact arithmetic)\n"
                                "    ReuseFactor: 1\n");
                continue;
            }
            Node merged = g->n[first];
            /* show every variable any op of this class has */
            for (size_t k = 0; k < g->nn; k++)
                if (!g->n[k].dead && !strcmp(op_hls_class[g->n[k].op], op_hls_class[op]) &&
                    op_vars[g->n[k].op] > op_vars[merged.op])
                    merged = g->n[k];
            emit_layer_precision(g, &merged, out, "    ");
            buf_printf(out, "    ReuseFactor: 1\n");
        }
    } else if (gran == 2) {
        buf_printf(out, "LayerName:\n");
        for (size_t k = 0; k < g->nn; k++) {
            const Node *n = &g->n[k];
            if (n->dead)
                continue;
            char key[4 * NAMES_TEXT_SIZE], op[NAMES_TEXT_SIZE];
            buf_printf(out, "  %s:   # %s (%s)\n", names_yaml_key(key, sizeof key, n->name), op_hls_class[n->op],
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

int config_io_stream(const Config *c, Diag *d, int *stream)
{
    *stream = 0;
    const cJSON *v = NULL, *model = c->root ? cJSON_GetObjectItemCaseSensitive(c->root, "Model") : NULL;
    if (model)
        v = cJSON_GetObjectItemCaseSensitive(model, "IOType");
    if (!v && c->root)
        v = cJSON_GetObjectItemCaseSensitive(c->root, "IOType");
    if (!v && c->doc)
        v = cJSON_GetObjectItemCaseSensitive(c->doc, "IOType");
    if (!v)
        return 0;
    if (cJSON_IsString(v) && !strcmp(v->valuestring, "io_stream"))
        *stream = 1;
    else if (!cJSON_IsString(v) || strcmp(v->valuestring, "io_parallel"))
        return diag_error(d, "%s: IOType: expected io_parallel or io_stream, got %s", c->origin,
                          cJSON_IsString(v) ? v->valuestring : "another value");
    return 0;
}
