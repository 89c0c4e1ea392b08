/* config.h — the hls4ml-style configuration: Model / LayerType / LayerName,
 * read from JSON or YAML into one tree, validated key by key. */
#ifndef ETN_CONFIG_H
#define ETN_CONFIG_H
#include <stdbool.h>

#include "ir/ir.h"

typedef struct cJSON cJSON;

/* Limits on what a configuration may be, checked before anything is built
 * from it (a YAML "billion laughs" or 100,000 nested '[' is refused in
 * milliseconds).  Real configurations are far below them: a name-granularity
 * config of a 1,000-layer model is ~200 KB, ~10,000 nodes, 5 levels deep. */
#define CONFIG_MAX_BYTES (16u << 20)   /* input text */
#define CONFIG_MAX_DEPTH 64            /* mappings/lists inside each other */
#define CONFIG_MAX_NODES 1000000       /* values, aliases expanded */
#define CONFIG_MAX_ANCHORS 1000        /* YAML &anchors */
#define CONFIG_MAX_ALIASES 10000       /* YAML *aliases */

typedef struct {
    cJSON *doc;              /* the whole parsed document (owned) */
    const cJSON *root;       /* the level holding Model/LayerType/LayerName (doc or doc.HLSConfig) */
    const char *origin;      /* file name for messages */
    char precision_opt[96];  /* --precision: overrides Model.Precision's default ("" if unset) */
    int tables_opt;          /* --tables: -1 unset, else TablesMode */
    int weights_opt;         /* --weights: -1 unset, 0 exact, 1 hls4ml */
    int sat_order_opt;       /* --sat-order: -1 unset, 0 exact, 1 hls4ml */
    int auto_types_opt;      /* --auto-types: -1 unset, 0 exact, 1 hls4ml */
    char conv_encoded_at[160]; /* the first ConvImplementation: Encoded ("" if none): refused under io_stream */
    Buf notes;               /* warnings about accepted keys that change nothing, one per line; given to the
                                Diag by config_check_layers (once per compile) */
} Config;

void config_init(Config *c);
void config_free(Config *c);
int config_load_file(Config *c, Diag *d, const char *path);
int config_load_text(Config *c, Diag *d, const char *text, const char *origin);

/* Check LayerName entries against the graph's layer names and the Model keys that
 * depend on the graph (ChannelsLastConversion, TransposeOutputs); emits the
 * configuration's warnings into d. */
int config_check_layers(const Config *c, Diag *d, const Graph *g);

/* The type of precision variable `var` ("result", "weight", "bias", "accum",
 * "table", "exp_table", "inv_table") of node n.  *is_auto is set when the
 * config says 'auto' (the caller infers the type). */
int config_precision(const Config *c, Diag *d, const Node *n, const char *var, FxType *out, bool *is_auto);
/* Does LayerName have an entry for node n itself (not only for the layer it is part of)? */
bool config_names_node(const Config *c, const Node *n);
/* Does the LayerName entry reaching node n (its own, else its layer's) set Precision.var? */
bool config_layer_sets_var(const Config *c, const Node *n, const char *var);
/* Integer / string settings with the same LayerName > LayerType > Model lookup. */
int config_int(const Config *c, Diag *d, const Node *n, const char *key, int def, int *out);
const char *config_str(const Config *c, const Node *n, const char *key, const char *def);
/* Node n's Strategy, "Latency" or "Resource" whatever the case it was written in (hls4ml reads it lowercased). */
const char *config_strategy(const Config *c, const Node *n);
/* The same, from LayerName / LayerType only (NULL if neither sets it). */
const char *config_layer_str(const Config *c, const Node *n, const char *key);
/* A layer key as hls4ml reads it (LayerType's entry updated by LayerName's, keys snake-cased, the later of two
 * spellings wins: table_size / TableSize): its string value, or NULL. */
const char *config_layer_key_str(const Config *c, const Node *n, const char *snake);
/* n's table size: table_size / TableSize of its layer as hls4ml reads them, else Model.TableSize, else 1024 */
int config_table_size(const Config *c, const Node *n);
/* A LayerNormalization's TableRangePower2 (hls4ml's table_range_power2; 0 when not set). */
int config_table_range(const Config *c, const Node *n);
/* Does n's LayerName entry (else its LayerType entry) say Skip: true (hls4ml leaves the layer out)? */
bool config_skip(const Config *c, const Node *n);
/* An exact|hls4ml choice for node n: its layer's `key`, else the option (opt: -1 unset, 0 exact, 1 hls4ml),
 * else Model's `key`, else exact.  1 for hls4ml. */
int config_hls4ml_mode(const Config *c, const Node *n, const char *key, int opt);
/* --auto-types / AutoTypes hls4ml for node n: 'auto' precision variables are typed as hls4ml infers them */
bool config_auto_hls4ml(const Config *c, const Node *n);
/* Model.Precision.maximum: 1 and *out if given (only with --auto-types hls4ml: refused otherwise, -1), else 0 */
int config_max_precision(const Config *c, Diag *d, FxType *out);

/* Does the LayerName entry of n's recurrent layer say Static: true (one cell reused, hw/rnn_static.c)? */
bool config_rnn_static(const Config *c, const Node *n);
/* IOType (top level or Model): *stream = 1 for io_stream, 0 for io_parallel (the default). */
int config_io_stream(const Config *c, Diag *d, int *stream);

/* ClockPeriod in ns (Model, then the top level / HLSConfig level, then the document's top):
 * *ns = 0 when the configuration does not set it. */
int config_clock_period(const Config *c, Diag *d, double *ns);
/* hls4ml's Part (top level or under HLSConfig): *name, or NULL when absent. */
int config_part(const Config *c, Diag *d, const char **name);

/* A complete YAML configuration for g at granularity model|type|name. */
int config_template(const Graph *g, Diag *d, const char *granularity, Buf *out);

#endif
