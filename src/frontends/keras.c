/* keras.c — Keras front end: architecture JSON + weights .h5, a Keras 2 .h5
 * (model_config attribute + model_weights), or a Keras 3 .keras archive
 * (config.json + model.weights.h5), with QKeras layers whose quantizers
 * become exact fixed-point types.  IR nodes are named after Keras layers. */
#include "frontends/frontends.h"
#include "frontends/einsum.h"
#include "frontends/rnn.h"

#include <cJSON.h>
#include <ctype.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#define MAX_DEPTH 16        /* nesting of models inside models */
#define MAX_WEIGHTS 6       /* stored variables per layer */
#define MAX_IO 16           /* inputs / outputs of a model or a layer call */
#define MAX_ELEMS (1L << 26)

enum { WL_KERAS2, WL_KERAS3 };

/* A Keras tensor (layer name, call, output index) and the IR tensor it became; node -1: any call
 * (a layer called once, whose node index references may count calls of an enclosing model) */
typedef struct {
    const char *layer;
    int tensor;
    int id;
    int node;
} Slot;

/* One stored variable of a layer. */
typedef struct {
    const char *name;           /* kernel, bias, gamma, ... */
    int rank;
    int dims[IR_MAX_RANK];
    double *data;               /* arena */
    int f32;                    /* stored as float32 (or narrower): derived values are computed in float, as Keras does */
    int integer;                /* stored as integers */
} Weight;

/* A model's weights in a Keras 3 file: layers/<class_snake>[_k]/vars/<i>. */
typedef struct {
    char path[512];             /* HDF5 path of the model's group ("" for the root) */
    struct KUsed {
        char name[96];
        int count;
    } *used;
    size_t nused, cused;
} Container;

typedef struct {
    Graph *g;
    Diag *d;
    const char *file;           /* the architecture's file, for messages */
    const char *wfile;          /* the weights' file, for messages */
    int keras3;                 /* Keras 3 activation semantics (hard_sigmoid, leaky_relu) */
    hid_t h5;                   /* weights file, or -1 */
    hid_t wroot;                /* group holding the weights, or -1 */
    int wlayout;                /* WL_KERAS2 or WL_KERAS3 */
    const char *scope[MAX_DEPTH];  /* names of the enclosing models (Keras 2 weights) */
    int depth;
    const char *wpart;          /* Keras 2 weights: a path component must start with this (a Bidirectional's
                                   "forward_" / "backward_" layer), NULL: any */
    const char **used;          /* layer names handed out so far */
    size_t nused, cused;
    cJSON *scratch;             /* quantizers parsed from strings (owned) */
    /* the layer being imported, for messages */
    const char *lname;
    const char *lclass;
    const char *wname;          /* Keras 3: the name a wrapped layer's variables go by (TimeDistributed's inner layer), or NULL */
    int qalpha_ok;              /* the kernel_quantizer being read may have alpha 'auto'/'auto_po2' (QDense, QConv) */
} Importer;

#define LAYER_ERR(im, ...) layer_error((im), (im)->file, __VA_ARGS__)
#define WEIGHT_ERR(im, ...) layer_error((im), (im)->wfile, __VA_ARGS__)

static int layer_error(Importer *im, const char *file, const char *fmt, ...) ETN_PRINTF(3, 4);
static int layer_error(Importer *im, const char *file, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return diag_error(im->d, "%s: layer '%s' (%s): %s", file, im->lname, im->lclass, msg);
}

/* ---- JSON helpers ------------------------------------------------------ */

static const cJSON *jget(const cJSON *o, const char *k)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = jget(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jis_null(const cJSON *v) { return !v || cJSON_IsNull(v); }

/* A number (booleans count as 0/1); def when absent or null. */
static double jnum(const cJSON *o, const char *k, double def)
{
    const cJSON *v = jget(o, k);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? 1.0 : 0.0;
    return def;
}

static int jbool(const cJSON *o, const char *k, int def) { return jnum(o, k, def) != 0.0; }

/* v as an int, clamped to +-2^30 so that the conversion is defined (range checks reject such values). */
static int clamp_int(double v) { return v < 0x1p30 ? (v > -0x1p30 ? (int)v : -(1 << 30)) : 1 << 30; }

static int jint(const cJSON *o, const char *k, int def) { return clamp_int(jnum(o, k, def)); }

static const char *kind_of(const cJSON *v)
{
    return !v ? "nothing" : cJSON_IsString(v) ? "a string" : cJSON_IsNumber(v) ? "a number" : cJSON_IsArray(v) ? "a list"
           : cJSON_IsObject(v) ? "a mapping" : cJSON_IsNull(v) ? "null" : "a boolean";
}

/* A JSON value as seen, for messages: a number (%g), a 'string', None, a list of those, or its kind. */
static const char *jdesc(Arena *a, const cJSON *v)
{
    if (cJSON_IsNumber(v))
        return arena_printf(a, "%g", v->valuedouble);
    if (cJSON_IsString(v))
        return arena_printf(a, "'%.60s'", v->valuestring);
    if (cJSON_IsNull(v))
        return "None";
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "True" : "False";
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) <= 12) {
        const char *s = "[";
        for (const cJSON *e = v->child; e; e = e->next)
            s = arena_printf(a, "%s%s%s", s, e == v->child ? "" : ",",
                             cJSON_IsNumber(e) || cJSON_IsString(e) || cJSON_IsNull(e) || cJSON_IsBool(e) ? jdesc(a, e)
                                                                                                           : kind_of(e));
        return arena_printf(a, "%s]", s);
    }
    return kind_of(v);
}

/* ---- names ------------------------------------------------------------- */

/* A unique layer name that is also a C identifier; Keras names are kept as
 * they are when they already are identifiers (LayerName configs use them). */
static const char *unique_name(Importer *im, const char *src)
{
    char base[128];
    size_t w = 0;
    for (const char *c = src; *c && w < sizeof base - 1; c++)
        base[w++] = isalnum((unsigned char)*c) ? *c : '_';
    base[w] = 0;
    if (!w || !isalpha((unsigned char)base[0])) {
        char tmp[128];
        snprintf(tmp, sizeof tmp, "l_%s", base);
        snprintf(base, sizeof base, "%s", tmp);
    }
    char cand[160];
    snprintf(cand, sizeof cand, "%s", base);
    for (int suffix = 1;; suffix++) {
        int clash = 0;
        for (size_t k = 0; k < im->nused && !clash; k++)
            clash = strcmp(im->used[k], cand) == 0;
        if (!clash)
            break;
        snprintf(cand, sizeof cand, "%s_%d", base, suffix);
    }
    const char *name = arena_strdup(&im->g->arena, cand);
    VEC_PUSH(im->used, im->nused, im->cused, name);
    return name;
}

/* Keras's snake_case of a class name: QDense -> q_dense, ReLU -> re_lu. */
static void snake_case(const char *s, char *out, size_t n)
{
    char a[128], b[160];
    size_t w = 0;
    for (const char *c = s; *c && w < sizeof a - 1; c++)   /* drop non-word characters */
        if (isalnum((unsigned char)*c) || *c == '_')
            a[w++] = *c;
    a[w] = 0;
    /* "(.)([A-Z][a-z]+)" -> "\1_\2" */
    w = 0;
    for (size_t k = 0; a[k] && w < sizeof b - 2; k++) {
        if (k > 0 && isupper((unsigned char)a[k]) && islower((unsigned char)a[k + 1]))
            b[w++] = '_';
        b[w++] = a[k];
    }
    b[w] = 0;
    /* "([a-z])([A-Z])" -> "\1_\2", then lower case */
    w = 0;
    for (size_t k = 0; b[k] && w < n - 2; k++) {
        if (k > 0 && islower((unsigned char)b[k - 1]) && isupper((unsigned char)b[k]))
            out[w++] = '_';
        out[w++] = (char)tolower((unsigned char)b[k]);
    }
    out[w] = 0;
}

/* The Keras 3 weights path of the next layer of class cls in container ct. */
static void k3_path(Container *ct, const char *cls, char *out, size_t n)
{
    char sn[96];
    snake_case(cls, sn, sizeof sn);
    size_t k;
    for (k = 0; k < ct->nused; k++)
        if (!strcmp(ct->used[k].name, sn))
            break;
    if (k == ct->nused) {
        struct KUsed u;
        memset(&u, 0, sizeof u);
        snprintf(u.name, sizeof u.name, "%s", sn);
        u.count = -1;
        VEC_PUSH(ct->used, ct->nused, ct->cused, u);
    }
    int c = ++ct->used[k].count;
    if (c == 0)
        snprintf(out, n, "%s/layers/%s", ct->path, sn);
    else
        snprintf(out, n, "%s/layers/%s_%d", ct->path, sn, c);
}

/* ---- HDF5 -------------------------------------------------------------- */

static int h5_exists(hid_t loc, const char *path)
{
    /* check every component: H5Lexists fails on a missing intermediate group */
    char buf[600];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf; *p; p++) {
        if (*p != '/' || p == buf)
            continue;
        *p = 0;
        if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0)
            return 0;
        *p = '/';
    }
    return H5Lexists(loc, buf, H5P_DEFAULT) > 0;
}

/* A string attribute (fixed or variable length) as a malloc'd string, or NULL. */
static char *h5_attr_string(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0)
        return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return NULL;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    char *out = NULL;
    if (t >= 0 && sp >= 0 && H5Tget_class(t) == H5T_STRING && H5Sget_simple_extent_npoints(sp) == 1) {
        if (H5Tis_variable_str(t) > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(t));
            char *s = NULL;
            if (H5Aread(a, mt, &s) >= 0 && s) {
                out = strdup(s);
                H5free_memory(s);
            }
            H5Tclose(mt);
        } else {
            size_t sz = H5Tget_size(t);
            if (sz > 0 && sz < (1u << 28)) {
                hid_t mt = H5Tcopy(t);
                out = calloc(1, sz + 1);
                if (out && H5Aread(a, mt, out) < 0) {
                    free(out);
                    out = NULL;
                }
                H5Tclose(mt);
            }
        }
    }
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    H5Aclose(a);
    return out;
}

/* A 1-D string-array attribute: *n strings in one malloc'd block (*out,
 * free with free()).  A missing attribute or an empty numeric array gives 0. */
static int h5_attr_strings(hid_t obj, const char *name, char ***out, int *n)
{
    *out = NULL;
    *n = 0;
    if (H5Aexists(obj, name) <= 0)
        return 0;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    int rc = -1;
    hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (t < 0 || np < 0 || np > 4096)
        goto done;
    if (H5Tget_class(t) != H5T_STRING) {
        rc = np == 0 ? 0 : -1;   /* Keras writes an empty float array for "no weights" */
        goto done;
    }
    size_t cnt = (size_t)np;
    if (H5Tis_variable_str(t) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(t));
        char **s = calloc(cnt + 1, sizeof(char *));
        if (s && H5Aread(a, mt, s) >= 0) {
            size_t total = 0;
            for (size_t k = 0; k < cnt; k++)
                total += (s[k] ? strlen(s[k]) : 0) + 1;
            char **res = malloc((cnt + 1) * sizeof(char *) + total);
            if (res) {
                char *p = (char *)(res + cnt + 1);
                for (size_t k = 0; k < cnt; k++) {
                    size_t l = s[k] ? strlen(s[k]) : 0;
                    memcpy(p, s[k] ? s[k] : "", l + 1);
                    res[k] = p;
                    p += l + 1;
                }
                res[cnt] = NULL;
                *out = res;
                *n = (int)cnt;
                rc = 0;
            }
            for (size_t k = 0; k < cnt; k++)
                if (s[k])
                    H5free_memory(s[k]);
        }
        free(s);
        H5Tclose(mt);
    } else {
        size_t sz = H5Tget_size(t);
        if (sz == 0 || sz > 4096)
            goto done;
        char *raw = calloc(cnt ? cnt : 1, sz);
        char **res = malloc((cnt + 1) * sizeof(char *) + cnt * (sz + 1));
        hid_t mt = H5Tcopy(t);
        if (raw && res && H5Aread(a, mt, raw) >= 0) {
            char *p = (char *)(res + cnt + 1);
            for (size_t k = 0; k < cnt; k++) {
                memcpy(p, raw + k * sz, sz);
                p[sz] = 0;
                res[k] = p;
                p += sz + 1;
            }
            res[cnt] = NULL;
            *out = res;
            *n = (int)cnt;
            res = NULL;
            rc = 0;
        }
        H5Tclose(mt);
        free(raw);
        free(res);
    }
done:
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    H5Aclose(a);
    return rc;
}

/* Read dataset `path` (relative to loc) into w as doubles. */
static int h5_read_weight(Importer *im, hid_t loc, const char *path, const char *wname, Weight *w)
{
    hid_t ds = H5Dopen2(loc, path, H5P_DEFAULT);
    if (ds < 0)
        return WEIGHT_ERR(im, "expected a dataset '%s' for %s, got none (or an unreadable one)", path, wname);
    int rc = -1;
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    H5T_class_t cl = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t dims[IR_MAX_RANK];
    if (cl != H5T_FLOAT && cl != H5T_INTEGER) {
        static const char *const cls_names[] = {"integer", "float", "time", "string", "bitfield", "opaque",
                                                "compound", "reference", "enum", "variable-length", "array"};
        WEIGHT_ERR(im, "expected %s '%s' to hold numbers, got HDF5 type class %d (%s)", wname, path, (int)cl,
                   (int)cl >= 0 && (int)cl < (int)ETN_COUNTOF(cls_names) ? cls_names[cl] : "unknown");
        goto done;
    }
    if (rank < 0 || rank > IR_MAX_RANK - 1) {
        WEIGHT_ERR(im, "expected %s '%s' of rank <= %d, got rank %d", wname, path, IR_MAX_RANK - 1, rank);
        goto done;
    }
    H5Sget_simple_extent_dims(sp, dims, NULL);
    long n = 1;
    for (int k = 0; k < rank; k++) {
        if (dims[k] > (hsize_t)MAX_ELEMS) {
            WEIGHT_ERR(im, "expected %s '%s' of at most 67108864 (2^26) elements, got a dimension of %llu on axis %d", wname,
                       path, (unsigned long long)dims[k], k);
            goto done;
        }
        n *= (long)dims[k];
        if (n > MAX_ELEMS) {
            unsigned long long tot = 1;
            for (int j = 0; j < rank; j++)
                tot = dims[j] && tot > ~0ULL / dims[j] ? ~0ULL : tot * dims[j];
            WEIGHT_ERR(im, "expected %s '%s' of at most 67108864 (2^26) elements, got %llu", wname, path, tot);
            goto done;
        }
        w->dims[k] = (int)dims[k];
    }
    w->rank = rank;
    w->name = wname;
    w->f32 = cl == H5T_FLOAT && H5Tget_size(t) <= 4;
    w->integer = cl == H5T_INTEGER;
    w->data = arena_array(&im->g->arena, (size_t)(n ? n : 1), sizeof(double));
    if (n > 0 && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, w->data) < 0) {
        WEIGHT_ERR(im, "expected a readable dataset '%s' for %s, got a read error (corrupt file?)", path, wname);
        goto done;
    }
    for (long k = 0; k < n; k++)
        if (!isfinite(w->data[k])) {
            WEIGHT_ERR(im, "expected finite values in %s '%s', got %g", wname, path, w->data[k]);
            goto done;
        }
    rc = 0;
done:
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(ds);
    return rc;
}

/* Keras 2 layout: group <top> with attribute weight_names ("<top>/.../<layer>/kernel:0").
 * The weights of layer im->lname are those whose path names it (all of them
 * for a top-level layer). */
static int k2_weights(Importer *im, const char *const *want, int nwant, Weight *w)
{
    const char *top = im->depth > 0 ? im->scope[0] : im->lname;
    if (H5Lexists(im->wroot, top, H5P_DEFAULT) <= 0)
        return WEIGHT_ERR(im, "expected a weights group '%s', got none", top);
    hid_t grp = H5Gopen2(im->wroot, top, H5P_DEFAULT);
    if (grp < 0)
        return WEIGHT_ERR(im, "expected a weights group '%s', got something else", top);
    char **names;
    int n, rc = -1;
    if (h5_attr_strings(grp, "weight_names", &names, &n) < 0) {
        H5Gclose(grp);
        return WEIGHT_ERR(im, "expected a list of strings in the attribute weight_names of group '%s', got another type", top);
    }
    for (int k = 0; k < nwant; k++) {
        int found = -1;
        for (int j = 0; j < n && found < 0; j++) {
            /* last component, without ":0", is the variable; an earlier one must be the layer */
            char buf[512];
            snprintf(buf, sizeof buf, "%s", names[j]);
            char *last = strrchr(buf, '/');
            if (!last && im->depth > 0)
                continue;
            if (last)
                *last++ = 0;
            else   /* a variable created outside any layer scope (HGQ quantizers): "bits:0" */
                last = buf;
            char *colon = strchr(last, ':');
            if (colon)
                *colon = 0;
            if (strcmp(last, want[k]))
                continue;
            int owner = im->depth == 0, part = !im->wpart;
            for (char *tok = strtok(buf, "/"); tok; tok = strtok(NULL, "/")) {
                owner |= !strcmp(tok, im->lname);
                part |= !strncmp(tok, im->wpart ? im->wpart : "", strlen(im->wpart ? im->wpart : ""));
            }
            if (owner && part)
                found = j;
        }
        if (found < 0) {
            Buf have = {0};
            for (int j = 0; j < n; j++)
                buf_printf(&have, "%s%s", j ? ", " : "", names[j]);
            WEIGHT_ERR(im, "expected a weight '%s' in group '%s', got %s", want[k], top, have.data ? have.data : "none");
            buf_free(&have);
            goto done;
        }
        if (h5_read_weight(im, grp, names[found], want[k], &w[k]) < 0)
            goto done;
    }
    rc = 0;
done:
    free(names);
    H5Gclose(grp);
    return rc;
}

/* Does group `path` have a vars subgroup whose name attribute is `name`? (1 yes, 0 no, -1 no attribute) */
static int k3_vars_named(hid_t root, const char *path, const char *name)
{
    char vp[600];
    snprintf(vp, sizeof vp, "%s/vars", path);
    if (!h5_exists(root, vp))
        return 0;
    hid_t gv = H5Gopen2(root, vp, H5P_DEFAULT);
    if (gv < 0)
        return 0;
    char *s = h5_attr_string(gv, "name");
    H5Gclose(gv);
    int r = s ? !strcmp(s, name) : -1;
    free(s);
    return r;
}

/* Keras 3 layout: <container>/layers/<class_snake>[_k]/vars/<i>, in the
 * layer's variable order; the vars group names its layer in newer files. */
static int k3_vars(Importer *im, const char *path, const char *const *want, int nwant, Weight *w);

/* The group of the layer at lpath (Keras 3 layout) into path. */
static int k3_layer_group(Importer *im, const Container *ct, const char *lpath, char *path, size_t npath)
{
    snprintf(path, npath, "%s", lpath[0] == '/' ? lpath + 1 : lpath);
    const char *own = im->wname ? im->wname : im->lname;
    if (k3_vars_named(im->wroot, path, own) == 0) {
        /* look for the group that names this layer among the container's layers */
        char lp[600];
        snprintf(lp, sizeof lp, "%s%slayers", ct->path[0] == '/' ? ct->path + 1 : ct->path, ct->path[0] ? "/" : "");
        int found = 0;
        if (h5_exists(im->wroot, lp)) {
            hid_t gl = H5Gopen2(im->wroot, lp, H5P_DEFAULT);
            H5G_info_t info;
            if (gl >= 0 && H5Gget_info(gl, &info) >= 0) {
                for (hsize_t k = 0; k < info.nlinks && !found; k++) {
                    char nm[256];
                    if (H5Lget_name_by_idx(gl, ".", H5_INDEX_NAME, H5_ITER_INC, k, nm, sizeof nm, H5P_DEFAULT) < 0)
                        continue;
                    char cand[600];
                    snprintf(cand, sizeof cand, "%s/%s", lp, nm);
                    if (k3_vars_named(im->wroot, cand, own) == 1) {
                        snprintf(path, npath, "%s", cand);
                        found = 1;
                    }
                }
            }
            if (gl >= 0)
                H5Gclose(gl);
        }
        if (!found)
            return WEIGHT_ERR(im, "expected the layer's variables under '%s/vars', got no group for this layer", path);
    }
    return 0;
}

static int k3_weights(Importer *im, const Container *ct, const char *lpath, const char *const *want, int nwant, Weight *w)
{
    char path[600];
    if (k3_layer_group(im, ct, lpath, path, sizeof path) < 0)
        return -1;
    return k3_vars(im, path, want, nwant, w);
}

/* Variables 0..nwant-1 of the Keras 3 group path (path/vars/<k>). */
static int k3_vars(Importer *im, const char *path, const char *const *want, int nwant, Weight *w)
{
    for (int k = 0; k < nwant; k++) {
        char dp[700];
        snprintf(dp, sizeof dp, "%s/vars/%d", path, k);
        if (!h5_exists(im->wroot, dp))
            return WEIGHT_ERR(im, "expected %d variables (%s%s%s...) under '%s/vars', got no '%d'", nwant, want[0],
                              nwant > 1 ? ", " : "", nwant > 1 ? want[1] : "", path, k);
        if (h5_read_weight(im, im->wroot, dp, want[k], &w[k]) < 0)
            return -1;
    }
    return 0;
}

static int layer_weights(Importer *im, const Container *ct, const char *lpath, const char *const *want, int nwant, Weight *w)
{
    if (im->wroot < 0)
        return WEIGHT_ERR(im, "expected weights for this layer, got no weights file");
    memset(w, 0, sizeof(Weight) * (size_t)nwant);
    return im->wlayout == WL_KERAS3 ? k3_weights(im, ct, lpath, want, nwant, w) : k2_weights(im, want, nwant, w);
}

static void dims_str(int rank, const int *dims, char *out, size_t n)
{
    size_t len = (size_t)snprintf(out, n, "[");
    for (int k = 0; k < rank && len < n; k++)
        len += (size_t)snprintf(out + len, n - len, "%s%d", k ? "," : "", dims[k]);
    if (len < n)
        snprintf(out + len, n - len, "]");
}

/* ---- QKeras quantizers ------------------------------------------------- */

typedef enum { QZ_BITS, QZ_RELU, QZ_PO2, QZ_BINARY, QZ_TERNARY, QZ_TANH, QZ_SIGMOID } QzKind;

typedef struct {
    QzKind kind;
    const char *name;           /* as written, for messages */
    int bits, integer;
    int symmetric, keep_negative;
    double scale;               /* alpha: 1 or a power of two */
    double max_value;           /* po2: NAN if None */
    int use_01;                 /* binary */
    double threshold;           /* ternary */
    double negative_slope;      /* relu: 0, or the leaky slope (ns * 2^(bits-1) an integer) */
    int use_real;               /* tanh / sigmoid: the real function, not QKeras' hard one */
    int alpha_auto;             /* bits: 1 alpha 'auto', 2 'auto_po2' (per-channel scales, qz_auto_scale) */
} Quantizer;

static const struct {
    const char *name;
    const char *params[8];
} qz_params[] = {
    {"quantized_bits", {"bits", "integer", "symmetric", "keep_negative", "alpha", "use_stochastic_rounding", "scale_axis", "qnoise_factor"}},
    {"quantized_relu", {"bits", "integer", "use_sigmoid", "negative_slope", "use_stochastic_rounding", "relu_upper_bound",
                        "is_quantized_clip", "qnoise_factor"}},
    {"quantized_po2", {"bits", "max_value", "use_stochastic_rounding", "quadratic_approximation", "log2_rounding", "qnoise_factor"}},
    {"binary", {"use_01", "alpha", "use_stochastic_rounding"}},
    {"ternary", {"alpha", "threshold", "use_stochastic_rounding", "number_of_unrolls"}},
    {"quantized_tanh", {"bits", "use_stochastic_rounding", "symmetric", "use_real_tanh"}},
    {"quantized_sigmoid", {"bits", "symmetric", "use_real_sigmoid", "use_stochastic_rounding"}},
};

/* Parse a QKeras quantizer written as a string, "quantized_relu(3,1)" or
 * "quantized_bits(4, 0, alpha=1)", into {class_name, config}; NULL if the
 * string is not a call of a known quantizer (message set if malformed). */
static cJSON *qz_from_string(Importer *im, const char *s, int *bad)
{
    *bad = 0;
    const char *open = strchr(s, '(');
    size_t nlen = open ? (size_t)(open - s) : strlen(s);
    while (nlen > 0 && isspace((unsigned char)s[nlen - 1]))
        nlen--;
    int q = -1;
    for (size_t k = 0; k < ETN_COUNTOF(qz_params); k++)
        if (strlen(qz_params[k].name) == nlen && !strncmp(qz_params[k].name, s, nlen))
            q = (int)k;
    if (q < 0)
        return NULL;
    cJSON *obj = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "class_name", qz_params[q].name);
    cJSON_AddItemToObject(obj, "config", cfg);
    cJSON_AddItemToArray(im->scratch, obj);
    if (!open)
        return obj;
    const char *close = strrchr(open, ')');
    if (!close) {
        *bad = 1;
        LAYER_ERR(im, "expected a quantizer call such as quantized_bits(6,0), got '%s' (no closing parenthesis)", s);
        return NULL;
    }
    char args[256];
    snprintf(args, sizeof args, "%.*s", (int)(close - open - 1), open + 1);
    int pos = 0;
    char *save = NULL;
    for (char *tok = strtok_r(args, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        char *end = tok + strlen(tok);
        while (end > tok && isspace((unsigned char)end[-1]))
            *--end = 0;
        if (!*tok)
            continue;
        const char *key = NULL;
        char *eq = strchr(tok, '=');
        if (eq) {
            *eq = 0;
            key = tok;
            char *ke = eq;
            while (ke > tok && isspace((unsigned char)ke[-1]))
                *--ke = 0;
            tok = eq + 1;
            while (isspace((unsigned char)*tok))
                tok++;
        } else {
            if (pos >= 8 || !qz_params[q].params[pos]) {
                int npos = pos + 1;   /* count the positional arguments for the message */
                for (char *t2 = strtok_r(NULL, ",", &save); t2; t2 = strtok_r(NULL, ",", &save))
                    npos += strchr(t2, '=') == NULL;
                *bad = 1;
                LAYER_ERR(im, "expected at most %d positional arguments in '%s', got %d", pos, s, npos);
                return NULL;
            }
            key = qz_params[q].params[pos++];
        }
        cJSON *v;
        char *num_end;
        double x = strtod(tok, &num_end);
        if (num_end != tok && *num_end == 0)
            v = cJSON_CreateNumber(x);
        else if (!strcmp(tok, "True") || !strcmp(tok, "true"))
            v = cJSON_CreateBool(1);
        else if (!strcmp(tok, "False") || !strcmp(tok, "false"))
            v = cJSON_CreateBool(0);
        else if (!strcmp(tok, "None"))
            v = cJSON_CreateNull();
        else {
            size_t l = strlen(tok);
            if (l >= 2 && (tok[0] == '\'' || tok[0] == '"') && tok[l - 1] == tok[0]) {
                tok[l - 1] = 0;
                tok++;
            }
            v = cJSON_CreateString(tok);
        }
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, key);
        cJSON_AddItemToObject(cfg, key, v);
    }
    return obj;
}

static int is_pow2(double v) { int e; return v > 0 && frexp(v, &e) == 0.5; }

static FxType qz_type(const Quantizer *q);

/* Read a quantizer spec (mapping or string) into q.  Returns 1 if it is a
 * quantizer, 0 if not (e.g. a plain activation name), -1 on error. */
/* A quantized_po2 whose exponent range needs more than FX_MAX_WIDTH bits (above 8 bits, or 8 without
 * max_value): its constants take the type of the powers of two they hold (qz_values_type). */
static bool po2_by_values(const Quantizer *q)
{
    if (q->kind != QZ_PO2)
        return false;
    if (q->bits > 8)
        return true;
    FxType t = qz_type(q);
    return t.w > FX_MAX_WIDTH;
}

static int qz_parse(Importer *im, const cJSON *spec, const char *what, Quantizer *q)
{
    memset(q, 0, sizeof *q);
    if (jis_null(spec))
        return 0;
    const cJSON *obj = spec;
    if (cJSON_IsString(spec)) {
        int bad;
        obj = qz_from_string(im, spec->valuestring, &bad);
        if (bad)
            return -1;
        if (!obj)
            return 0;
    }
    if (!cJSON_IsObject(obj))
        return LAYER_ERR(im, "expected %s to be a quantizer (a mapping or a string), got %s", what, kind_of(spec));
    const char *cls = jstr(obj, "class_name");
    const cJSON *c = jget(obj, "config");
    if (!cls)
        return LAYER_ERR(im, "expected %s with a class_name, got none", what);
    q->name = cls;
    if (jnum(c, "qnoise_factor", 1.0) != 1.0)
        return LAYER_ERR(im, "expected %s with qnoise_factor 1 (a fully quantized forward pass), got %g", what,
                         jnum(c, "qnoise_factor", 1.0));
    const cJSON *alpha = jget(c, "alpha");
    q->scale = 1.0;
    int auto_ok = !strcmp(cls, "quantized_bits") && !strcmp(what, "kernel_quantizer") && im->qalpha_ok;
    if (cJSON_IsString(alpha) && auto_ok && (!strcmp(alpha->valuestring, "auto") || !strcmp(alpha->valuestring, "auto_po2"))) {
        q->alpha_auto = alpha->valuestring[4] ? 2 : 1;
        if (!jbool(c, "symmetric", 0) || !jbool(c, "keep_negative", 1) || !jis_null(jget(c, "scale_axis")))
            return LAYER_ERR(im, "expected %s quantized_bits with alpha '%s' symmetric, signed and with no scale_axis (QKeras "
                                 "computes per-channel scales only for those), got symmetric %d, keep_negative %d, "
                                 "scale_axis %s", what, alpha->valuestring, jbool(c, "symmetric", 0),
                             jbool(c, "keep_negative", 1), jdesc(&im->g->arena, jget(c, "scale_axis")));
    } else if (alpha && !cJSON_IsNull(alpha)) {
        if (!cJSON_IsNumber(alpha) || !is_pow2(alpha->valuedouble))
            return LAYER_ERR(im, "expected %s %s with alpha 1 or a power of two%s, got %s%s%s (not supported)", what, cls,
                             auto_ok ? ", 'auto' or 'auto_po2'" : " (per-channel 'auto'/'auto_po2' scales only on the "
                             "kernel_quantizer of a QDense, QConv1D or QConv2D)", cJSON_IsString(alpha) ? "'" : "",
                             cJSON_IsString(alpha) ? alpha->valuestring : kind_of(alpha), cJSON_IsString(alpha) ? "'" : "");
        q->scale = alpha->valuedouble;
    }
    if (!strcmp(cls, "quantized_bits")) {
        q->kind = QZ_BITS;
        q->bits = jint(c, "bits", 8);
        q->integer = jint(c, "integer", 0);
        q->symmetric = jbool(c, "symmetric", 0);
        q->keep_negative = jbool(c, "keep_negative", 1);
        if (q->bits < 1 || q->bits > 32 || q->bits - q->keep_negative < 0 || q->integer < -32 || q->integer > 32)
            return LAYER_ERR(im, "expected %s quantized_bits with 1..32 bits and integer in -32..32, got bits=%d integer=%d",
                             what, q->bits, q->integer);
    } else if (!strcmp(cls, "quantized_relu")) {
        q->kind = QZ_RELU;
        q->bits = jint(c, "bits", 8);
        q->integer = jint(c, "integer", 0);
        q->negative_slope = jnum(c, "negative_slope", 0);
        if (jbool(c, "use_sigmoid", 0))
            return LAYER_ERR(im, "expected %s quantized_relu with use_sigmoid off, got use_sigmoid on (not supported yet)",
                             what);
        if (q->negative_slope != 0) {
            /* QKeras rounds x*ns to the grid 2^(integer-bits+1) and clips it at -ns*2^integer: bit-exact in fixed
             * point when that bound is on the grid (and x*ns exact in float32: ns a short dyadic fraction) */
            double k = ldexp(q->negative_slope, jint(c, "bits", 8) - 1);
            if (!(q->negative_slope > 0 && q->negative_slope <= 1) || k != floor(k) || k > (1 << 20))
                return LAYER_ERR(im, "expected %s quantized_relu with negative_slope 0, or in (0, 1] with negative_slope x "
                                     "2^(bits-1) an integer (its lower bound -negative_slope x 2^integer on the output "
                                     "grid), got negative_slope %g with bits %d (not supported)", what, q->negative_slope,
                                 jint(c, "bits", 8));
        }
        if (!jbool(c, "is_quantized_clip", 1) && !jis_null(jget(c, "relu_upper_bound")))
            return LAYER_ERR(im, "expected %s quantized_relu without relu_upper_bound, got %s (not supported yet)", what,
                             jdesc(&im->g->arena, jget(c, "relu_upper_bound")));
        if (q->bits < 1 + (q->negative_slope != 0) || q->bits > 32 || q->integer < -32 || q->integer > 32)
            return LAYER_ERR(im, "expected %s quantized_relu with %d..32 bits and integer in -32..32, got bits=%d "
                                 "integer=%d", what, 1 + (q->negative_slope != 0), q->bits, q->integer);
    } else if (!strcmp(cls, "quantized_tanh") || !strcmp(cls, "quantized_sigmoid")) {
        int tanh_ = cls[10] == 't';
        q->kind = tanh_ ? QZ_TANH : QZ_SIGMOID;
        q->bits = jint(c, "bits", 8);
        q->symmetric = jbool(c, "symmetric", 0);
        q->use_real = jbool(c, tanh_ ? "use_real_tanh" : "use_real_sigmoid", 0);
        if (!strstr(what, "activation"))
            return LAYER_ERR(im, "expected %s to be one of quantized_bits, quantized_relu, quantized_po2, binary, ternary, "
                                 "got '%s' (an activation quantizer; not supported on weights)", what, cls);
        if (jbool(c, "use_stochastic_rounding", 0) || q->bits < 2 || q->bits > 24)
            return LAYER_ERR(im, "expected %s %s with 2..24 bits and no stochastic rounding, got bits=%d%s", what, cls,
                             q->bits, jbool(c, "use_stochastic_rounding", 0) ? " and use_stochastic_rounding" : "");
    } else if (!strcmp(cls, "quantized_po2")) {
        q->kind = QZ_PO2;
        q->bits = jint(c, "bits", 8);
        q->max_value = jnum(c, "max_value", NAN);
        const char *lr = jstr(c, "log2_rounding");
        if (jbool(c, "quadratic_approximation", 0) || (lr && strcmp(lr, "rnd")))
            return LAYER_ERR(im, "expected %s quantized_po2 with log2_rounding 'rnd' and no quadratic_approximation, got "
                                 "log2_rounding '%s' and quadratic_approximation %d (not supported yet)", what,
                             lr ? lr : "rnd", jbool(c, "quadratic_approximation", 0));
        if (q->bits < 2 || q->bits > 32 || (!isnan(q->max_value) && q->max_value <= 0))
            return LAYER_ERR(im, "expected %s quantized_po2 with 2..32 bits and a positive max_value, got bits=%d "
                                 "max_value=%g", what, q->bits, q->max_value);
    } else if (!strcmp(cls, "binary")) {
        q->kind = QZ_BINARY;
        q->use_01 = jbool(c, "use_01", 0);
    } else if (!strcmp(cls, "ternary")) {
        q->kind = QZ_TERNARY;
        q->threshold = jnum(c, "threshold", 0.33);
    } else {
        return LAYER_ERR(im, "expected %s to be one of quantized_bits, quantized_relu, quantized_po2, binary, ternary%s, "
                             "got '%s'", what, strstr(what, "activation") ? ", quantized_tanh, quantized_sigmoid" : "", cls);
    }
    if (po2_by_values(q))
        return 1;   /* its type is the one of the values it gives (qz_values_type) */
    FxType t = qz_type(q);
    if (t.w < 1 || t.w > (t.sign ? FX_MAX_WIDTH : FX_MAX_WIDTH - 1) || t.i < -512 || t.i > 512)
        return LAYER_ERR(im, "expected %s %s whose values fit a fixed-point type of at most %d bits, got one needing "
                             "%d bits (integer bits %d)", what, cls, FX_MAX_WIDTH, t.w, t.i);
    return 1;
}

/* quantized_po2's exponent range, as QKeras sets it from the bits (an exponent sign bit unless
 * max_value <= 1); the values are +-2^e with e in [min_e, max_e]. */
static void po2_exps(const Quantizer *q, double *min_e, double *max_e)
{
    int need_sign = isnan(q->max_value) || q->max_value > 1;
    int eb = q->bits - 1 - need_sign;
    *min_e = -ldexp(1.0, eb);
    *max_e = ldexp(1.0, eb) - 1;
}

/* The exact type of every value the quantizer produces (quantized_po2: when po2_by_values is false). */
static FxType qz_type(const Quantizer *q)
{
    int e = 0;
    frexp(q->scale, &e);
    int sh = e - 1;                       /* scale = 2^sh */
    FxType t = {0, 0, 1, FXQ_RND_CONV, FXO_SAT};
    switch (q->kind) {
    case QZ_BITS:
        if (q->bits - q->keep_negative == 0) {   /* a sign: +-1 */
            t.w = 2;
            t.i = 2;
        } else {
            t.w = (int16_t)q->bits;
            t.i = (int16_t)(q->integer + q->keep_negative);
            t.sign = (uint8_t)q->keep_negative;
            if (q->symmetric && q->keep_negative)
                t.o = FXO_SAT_SYM;
        }
        break;
    case QZ_RELU:
        t.w = (int16_t)q->bits;
        t.i = (int16_t)(q->integer + (q->negative_slope != 0));
        t.sign = q->negative_slope != 0;
        break;
    case QZ_TANH:   /* bits-1 fraction bits in [-1, 1) (symmetric: from -1 + 2^(1-bits)) */
        t.w = (int16_t)q->bits;
        t.i = 1;
        if (q->symmetric)
            t.o = FXO_SAT_SYM;
        break;
    case QZ_SIGMOID:   /* bits fraction bits in [0, 1) */
        t.w = (int16_t)q->bits;
        t.i = 0;
        t.sign = 0;
        break;
    case QZ_PO2: {
        double mine, maxe;
        po2_exps(q, &mine, &maxe);
        int min_e = mine < -512 ? -512 : (int)mine, max_e = maxe > 512 ? 512 : (int)maxe;
        if (!isnan(q->max_value)) {
            int me = (int)nearbyint(log2(q->max_value + 1e-7));
            max_e = me;
        }
        t.i = (int16_t)(max_e + 2);
        t.w = (int16_t)(max_e + 2 - min_e);
        if (t.w < 2)
            t.w = 2;
        break;
    }
    case QZ_BINARY:
        if (q->use_01) {
            t.w = 1;
            t.i = 1;
            t.sign = 0;
        } else {
            t.w = 2;
            t.i = 2;
        }
        break;
    case QZ_TERNARY:
        t.w = 2;
        t.i = 2;
        break;
    }
    t.i = (int16_t)(t.i + sh);
    return t;
}

static double round_half_even(double x) { return x - floor(x) == 0.5 ? 2.0 * round(x / 2.0) : round(x); }

/* The quantizer applied to one value, as QKeras computes it. */
static double qz_apply(const Quantizer *q, double x)
{
    switch (q->kind) {
    case QZ_BITS: {
        int ub = q->bits - q->keep_negative;
        if (ub == 0) {
            double s = x >= 0 ? 1.0 : -1.0;
            return q->scale * (q->keep_negative ? s : (s + 1.0) / 2.0);
        }
        double m = ldexp(1.0, ub), mi = ldexp(1.0, q->integer);
        double p = round_half_even(x * m / mi);
        double lo = q->keep_negative ? -m + q->symmetric : 0.0, hi = m - 1;
        p = p < lo ? lo : p > hi ? hi : p;
        return q->scale * mi * p / m;
    }
    case QZ_RELU: {
        int leaky = q->negative_slope != 0;
        double m = ldexp(1.0, q->bits - leaky), mi = ldexp(1.0, q->integer);
        if (leaky && x < 0) {   /* round(x ns m / mi) clipped at -ns m */
            double p = round_half_even(x * q->negative_slope * m / mi), lo = -q->negative_slope * m;
            return mi * (p < lo ? lo : p) / m;
        }
        double p = round_half_even((x > 0 ? x : 0.0) * m / mi);
        p = p < 0 ? 0 : p > m - 1 ? m - 1 : p;
        return mi * p / m;
    }
    case QZ_TANH:
    case QZ_SIGMOID:   /* activation quantizers only: qz_parse refuses them on weights */
        break;
    case QZ_PO2: {
        double min_e, max_e;
        po2_exps(q, &min_e, &max_e);
        double s = x >= 0 ? 1.0 : -1.0, a = fabs(x), eps = 1e-7;
        double ex;
        if (a < eps) {
            ex = min_e;
        } else {
            if (!isnan(q->max_value) && a >= q->max_value)
                a = q->max_value;
            ex = round_half_even(log(a) / log(2.0));
            ex = ex < min_e ? min_e : ex > max_e ? max_e : ex;
        }
        return s * ldexp(1.0, (int)ex);
    }
    case QZ_BINARY: {
        double s = x >= 0 ? 1.0 : -1.0;
        return q->scale * (q->use_01 ? (s + 1.0) / 2.0 : s);
    }
    case QZ_TERNARY:
        return q->scale * (fabs(x) >= q->threshold ? (x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0) : 0.0);
    }
    return x;
}

/* ---- IR construction --------------------------------------------------- */

static int new_node(Importer *im, Op op, const char *lname, const int *in, int nin, int rank, const int *dims)
{
    int d[IR_MAX_RANK];
    memcpy(d, dims, sizeof(int) * (size_t)rank);   /* dims may point into g->t */
    int out = ir_add_tensor(im->g, lname, rank, d);
    ir_add_node(im->g, op, lname, im->lclass, in, nin, out);
    return out;
}

static int make_input(Importer *im, const char *kname, const cJSON *shape)
{
    int dims[IR_MAX_RANK], rank = 0;
    if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) < 2 || cJSON_GetArraySize(shape) > IR_MAX_RANK - 1)
        return LAYER_ERR(im, "expected an input shape [batch, d1, ...] of rank 2..%d, got %s", IR_MAX_RANK - 1,
                         cJSON_IsArray(shape) ? arena_printf(&im->g->arena, "rank %d", cJSON_GetArraySize(shape))
                                              : kind_of(shape));
    int k = 0;
    for (const cJSON *e = shape->child; e; e = e->next, k++) {
        if (k == 0)
            continue;
        if (!cJSON_IsNumber(e) || e->valuedouble < 1 || e->valuedouble > (1 << 24) || e->valuedouble != floor(e->valuedouble))
            return LAYER_ERR(im, "expected fixed per-sample dimensions in 1..16777216 (2^24), got %s on axis %d of %s",
                             jdesc(&im->g->arena, e), k, jdesc(&im->g->arena, shape));
        dims[rank++] = (int)e->valuedouble;
    }
    const char *lname = unique_name(im, kname);
    int id = ir_add_tensor(im->g, lname, rank, dims);
    ir_add_node(im->g, OP_INPUT, lname, "InputLayer", NULL, 0, id);
    VEC_PUSH(im->g->inputs, im->g->ninputs, im->g->cinputs, id);
    return id;
}

/* binary_tanh / ternary_tanh after a BatchNormalization, as hls4ml converts the pair
 * (BatchNormalizationQuantizedTanh): thresholds on the normalization's input,
 * t = -shift/scale (ternary: t +- 0.5/scale), computed in float32 when the
 * normalization's constants are float32 values (as hls4ml computes them from
 * float32 weights).  Binary: y = x >= t ? 1 : -1; ternary: x > t_hi ? 1 :
 * x <= t_lo ? -1 : 0; the precision pass floors t to x's LSB. */
static int bn_threshold(Importer *im, const char *lname, const char *act, int x)
{
    Graph *g = im->g;
    int levels = act[0] == 'b' ? 2 : 3;
    int p = g->t[x].producer;
    const Node *bn = p >= 0 ? &g->n[p] : NULL;
    if (!bn || bn->op != OP_AFFINE || strcmp(bn->src_op, "BatchNormalization") || bn->in[1] < 0 || bn->in[2] < 0 ||
        ir_consumers(g, x, NULL) != 0 || ir_is_output(g, x))
        return LAYER_ERR(im, "expected %s right after a BatchNormalization that nothing else reads (hls4ml merges the "
                             "two into thresholds), got it after %s", act, bn ? bn->src_op : "the model input");
    const Tensor *ts = &g->t[bn->in[1]], *tb = &g->t[bn->in[2]];
    long n = ir_const_numel(ts);
    int f32 = 1;
    for (long k = 0; k < n; k++)
        f32 &= (double)(float)ts->data[k] == ts->data[k] && (double)(float)tb->data[k] == tb->data[k];
    double *hi = arena_array(&g->arena, (size_t)n, sizeof(double)), *lo = arena_array(&g->arena, (size_t)n, sizeof(double));
    for (long k = 0; k < n; k++) {
        double sv = ts->data[k], bv = tb->data[k];
        if (!(sv > 0))
            return LAYER_ERR(im, "expected the BatchNormalization before %s to have a positive scale gamma/sqrt(var+eps), "
                                 "got %g at element %ld (hls4ml's threshold form x >= -shift/scale would invert it)",
                             act, sv, k);
        if (f32) {
            float s = (float)sv, t = -(float)bv / s;
            hi[k] = levels == 2 ? t : 0.5f / s + t;
            lo[k] = -0.5f / s + t;
        } else {
            double t = -bv / sv;
            hi[k] = levels == 2 ? t : 0.5 / sv + t;
            lo[k] = -0.5 / sv + t;
        }
    }
    int rank = ts->const_rank, dims[IR_MAX_RANK], src = bn->in[0];
    memcpy(dims, ts->const_dims, sizeof dims);
    g->n[p].dead = true;
    int in[3] = {src, ir_add_const(g, arena_printf(&g->arena, "%s_threshold", lname), rank, dims, hi), -1};
    if (levels == 3) {
        in[2] = ir_add_const(g, arena_printf(&g->arena, "%s_threshold_lo", lname), rank, dims, lo);
    }
    memcpy(dims, g->t[src].dims, sizeof dims);
    int out = new_node(im, OP_THRESHOLD, lname, in, 3, g->t[src].rank, dims);
    Node *nd = &g->n[g->nn - 1];
    nd->levels = levels;
    nd->quantized = true;
    FxType t2 = {2, 2, 1, FXQ_TRN, FXO_WRAP};
    g->t[out].type = t2;
    g->t[out].type_pinned = true;
    return out;
}

/* An activation by Keras name applied to x; returns the result tensor (x for linear). */
static int add_activation(Importer *im, const char *lname, const char *act, int x)
{
    Tensor *tx = &im->g->t[x];
    int rank = tx->rank, dims[IR_MAX_RANK], in[1] = {x};
    memcpy(dims, tx->dims, sizeof dims);
    if (!act || !strcmp(act, "linear"))
        return x;
    if (!strcmp(act, "relu"))
        return new_node(im, OP_RELU, lname, in, 1, rank, dims);
    if (!strcmp(act, "sigmoid"))
        return new_node(im, OP_SIGMOID, lname, in, 1, rank, dims);
    if (!strcmp(act, "tanh"))
        return new_node(im, OP_TANH, lname, in, 1, rank, dims);
    if (!strcmp(act, "softplus"))
        return new_node(im, OP_SOFTPLUS, lname, in, 1, rank, dims);
    if (!strcmp(act, "softsign"))
        return new_node(im, OP_SOFTSIGN, lname, in, 1, rank, dims);
    if (!strcmp(act, "selu")) {
        int out = new_node(im, OP_SELU, lname, in, 1, rank, dims);
        im->g->n[im->g->nn - 1].alpha = 1.6732632423543772848170429916717;
        im->g->n[im->g->nn - 1].beta = 1.0507009873554804934193349852946;   /* scale */
        return out;
    }
    if (!strcmp(act, "softmax")) {
        int out = new_node(im, OP_SOFTMAX, lname, in, 1, rank, dims);
        im->g->n[im->g->nn - 1].axis = rank - 1;
        return out;
    }
    if (!strcmp(act, "hard_sigmoid")) {
        int out = new_node(im, OP_HARDSIGMOID, lname, in, 1, rank, dims);
        Node *n = &im->g->n[im->g->nn - 1];
        n->alpha = im->keras3 ? 1.0 / 6.0 : 0.2;   /* Keras 3: relu6(x + 3) / 6 */
        n->beta = 0.5;
        return out;
    }
    if (!strcmp(act, "relu6")) {
        int out = new_node(im, OP_CLIP, lname, in, 1, rank, dims);
        im->g->n[im->g->nn - 1].alpha = 0.0;
        im->g->n[im->g->nn - 1].beta = 6.0;
        return out;
    }
    if (!strcmp(act, "hard_tanh")) {   /* Keras 3: clip(x, -1, 1) */
        int out = new_node(im, OP_CLIP, lname, in, 1, rank, dims);
        im->g->n[im->g->nn - 1].alpha = -1.0;
        im->g->n[im->g->nn - 1].beta = 1.0;
        return out;
    }
    if (!strcmp(act, "elu")) {   /* alpha 1, as hls4ml's ELU layer for the activation */
        int out = new_node(im, OP_ELU, lname, in, 1, rank, dims);
        im->g->n[im->g->nn - 1].alpha = 1.0;
        return out;
    }
    if (!strcmp(act, "leaky_relu")) {   /* the activation function's default slope (the LeakyReLU layer's is 0.3) */
        int out = new_node(im, OP_LEAKYRELU, lname, in, 1, rank, dims);
        im->g->n[im->g->nn - 1].alpha = 0.2;
        return out;
    }
    if (!strcmp(act, "relu1")) {   /* the binary-network activation min(max(x, 0), 1) */
        int out = new_node(im, OP_CLIP, lname, in, 1, rank, dims);
        im->g->n[im->g->nn - 1].alpha = 0.0;
        im->g->n[im->g->nn - 1].beta = 1.0;
        return out;
    }
    if (!strcmp(act, "binary_tanh") || !strcmp(act, "ternary_tanh"))
        return bn_threshold(im, lname, act, x);
    LAYER_ERR(im, "expected an activation among linear, relu, sigmoid, tanh, selu, elu, softplus, softsign, softmax, hard_sigmoid, "
                  "relu6, hard_tanh, leaky_relu, relu1, binary_tanh, ternary_tanh, got '%s'", act);
    return -1;
}

/* A QKeras activation quantizer applied to x, as a node whose result type is
 * the quantizer's (pinned). */
static int add_quant_activation(Importer *im, const char *lname, const Quantizer *q, int x)
{
    Graph *g = im->g;
    Tensor *tx = &g->t[x];
    int rank = tx->rank, dims[IR_MAX_RANK], in[1] = {x};
    memcpy(dims, tx->dims, sizeof dims);
    FxType t = qz_type(q);
    double lsb = ldexp(1.0, -fx_frac(t)), lo_clip = NAN;   /* a lower bound applied after the rounding */
    const char *first = lname;
    if ((q->kind == QZ_RELU && q->negative_slope != 0) || (q->kind == QZ_SIGMOID && q->symmetric))
        first = unique_name(im, arena_printf(&g->arena, "%s_%s", lname, q->kind == QZ_RELU ? "leaky" : "sigmoid"));
    int out;
    if (q->kind == QZ_RELU && q->negative_slope != 0) {
        /* leaky: x > 0 ? x : ns x, rounded and saturated to the type (as hls4ml's LeakyReLU), then QKeras' lower
         * bound -ns 2^integer (qz_parse: on the grid) */
        out = new_node(im, OP_LEAKYRELU, first, in, 1, rank, dims);
        g->n[g->nn - 1].alpha = q->negative_slope;
        lo_clip = -q->negative_slope * ldexp(1.0, q->integer);
    } else if (q->kind == QZ_RELU || (q->kind == QZ_BITS && !q->keep_negative && q->bits > 0)) {
        out = new_node(im, OP_RELU, lname, in, 1, rank, dims);   /* relu, then round and saturate */
    } else if ((q->kind == QZ_BITS && q->bits - q->keep_negative > 0) || (q->kind == QZ_TANH && !q->use_real)) {
        /* round and saturate: a clip to the type's range with a rounding, saturating result (QKeras' hard tanh,
         * 2 clip(x/2 + 1/2, 0, 1) - 1, is clip(x, -1, 1)) */
        out = new_node(im, OP_CLIP, lname, in, 1, rank, dims);
        Node *n = &g->n[g->nn - 1];
        n->alpha = ldexp((double)fx_type_min(t), -fx_frac(t));
        n->beta = ldexp((double)fx_type_max(t), -fx_frac(t));
    } else if (q->kind == QZ_TANH) {
        out = new_node(im, OP_TANH, lname, in, 1, rank, dims);
    } else if (q->kind == QZ_SIGMOID && q->use_real) {
        out = new_node(im, OP_SIGMOID, first, in, 1, rank, dims);
        lo_clip = q->symmetric ? lsb : NAN;
    } else if (q->kind == QZ_SIGMOID) {   /* QKeras' hard sigmoid: clip(x/2 + 1/2, 0, 1) */
        out = new_node(im, OP_HARDSIGMOID, first, in, 1, rank, dims);
        g->n[g->nn - 1].alpha = 0.5;
        g->n[g->nn - 1].beta = 0.5;
        lo_clip = q->symmetric ? lsb : NAN;
    } else {
        return LAYER_ERR(im, "expected an activation quantizer among quantized_bits (2 bits or more), quantized_relu, "
                             "quantized_tanh, quantized_sigmoid, got %s (not supported as an activation yet)", q->name);
    }
    g->t[out].type = t;
    g->t[out].type_pinned = true;
    g->n[g->nn - 1].quantized = true;
    if (!isnan(lo_clip)) {   /* QKeras clips the rounded value: a clip of the same type keeps it exact */
        int in2[1] = {out};
        out = new_node(im, OP_CLIP, lname, in2, 1, rank, dims);
        g->n[g->nn - 1].alpha = lo_clip;
        g->n[g->nn - 1].beta = ldexp((double)fx_type_max(t), -fx_frac(t));
        g->n[g->nn - 1].quantized = true;
        g->t[out].type = t;
        g->t[out].type_pinned = true;
    }
    return out;
}

/* The type of values v[0..n-1] that quantizer q gave: its own, or for a quantized_po2 whose declared
 * range is too wide (po2_by_values) the smallest holding the powers of two present (hls4ml keeps each as sign and exponent, so the declared range
 * plays no part); -1 if that needs more than FX_MAX_WIDTH bits. */
static int qz_values_type(Importer *im, const Quantizer *q, const double *v, long n, const char *what, FxType *t)
{
    *t = qz_type(q);
    if (!po2_by_values(q))
        return 0;
    int lo = INT_MAX, hi = INT_MIN, e;
    for (long k = 0; k < n; k++) {
        if (v[k] == 0)
            continue;
        frexp(v[k], &e);
        lo = e - 1 < lo ? e - 1 : lo;
        hi = e - 1 > hi ? e - 1 : hi;
    }
    if (lo > hi)
        lo = hi = 0;
    t->i = (int16_t)(hi + 2);   /* signed: +-2^hi needs hi + 2 integer bits */
    if ((long)hi - lo + 2 > FX_MAX_WIDTH)
        return LAYER_ERR(im, "expected %s quantized_po2(%d) to give powers of two within %d bits of each other, got 2^%d "
                             "to 2^%d (a weight near 0 takes the smallest exponent; give max_value or fewer bits)", what,
                         q->bits, FX_MAX_WIDTH - 2, lo, hi);
    t->w = (int16_t)(hi - lo + 2);
    return 0;
}

/* 2^round(log2(v + eps)) in float32, as QKeras rounds an 'auto_po2' scale (round: half to even). */
static float po2_round(float v)
{
    return exp2f(nearbyintf(logf(v + 1e-7f) / (float)log(2.0)));
}

/* quantized_bits with alpha 'auto' / 'auto_po2' on constant c (its last axis the output channels), as
 * QKeras computes it in float32 from float32 weights: per channel, the scale from the largest magnitude
 * (auto_po2: then five least-squares refinements, each rounded to a power of two), z the rounded weights
 * in +-(2^(bits-1) - 1).  c becomes 2^integer z / 2^(bits-1) with the quantizer's type; scale[ch] gets the
 * factor QKeras multiplies that by (its .scale; hls4ml's ApplyAlpha scale). */
static void qz_auto_scale(Importer *im, int c, const Quantizer *q, double *scale)
{
    Tensor *t = &im->g->t[c];
    long n = ir_const_numel(t);
    int ch = t->const_dims[t->const_rank - 1];
    float m = ldexpf(1.0f, q->bits - 1), mi = ldexpf(1.0f, q->integer), levels = 2.0f * (m - 1.0f);
    float *z = arena_array(&im->g->arena, (size_t)n, sizeof(float));
    for (int k = 0; k < ch; k++) {
        float mx = 0;
        for (long e = k; e < n; e += ch)
            mx = fmaxf(mx, fabsf((float)t->data[e] / mi));
        float s = mx * 2.0f / levels;
        if (q->alpha_auto == 2)
            s = po2_round(s);
        for (int it = 0; it < (q->alpha_auto == 2 ? 5 : 1); it++) {
            double qx = 0, qq = 0;
            for (long e = k; e < n; e += ch) {
                float x = (float)t->data[e] / mi, v = floorf(fabsf(x) / s + 0.5f);
                z[e] = (x > 0 ? 1.0f : x < 0 ? -1.0f : 0.0f) * (v < levels / 2 ? v : levels / 2);
                qx += (double)(x * z[e]);
                qq += (double)(z[e] * z[e]);
            }
            long cnt = n / ch;
            if (q->alpha_auto == 2)   /* least squares, mean over the channel: sum(x z) / (sum(z z) + eps) */
                s = po2_round((float)(qx / (double)cnt) / ((float)(qq / (double)cnt) + 1e-7f));
        }
        scale[k] = (double)s * (double)m;
        for (long e = k; e < n; e += ch)
            t->data[e] = (double)mi * (double)z[e] / (double)m;
    }
    Quantizer q1 = *q;
    q1.alpha_auto = 0;
    q1.scale = 1.0;
    t->type = qz_type(&q1);
    t->type_pinned = true;
}

/* hls4ml's ApplyAlpha after a QDense/QConv whose kernel has alpha 'auto'/'auto_po2': y = x scale + bias per
 * output channel (a layer <name>_alpha; the bias moves here from the layer, with its quantizer's type).
 * 'auto_po2' scales are pinned to the exact type of their powers of two, the result takes the configured
 * precision (hls4ml's 'auto' falls back to the default for an exponent scale); 'auto' scales take the
 * configured precision and the result is 'auto' (exact with no configuration). */
static int add_alpha_layer(Importer *im, const char *lname, int x, const double *scale, int bias, int po2)
{
    Graph *g = im->g;
    int rank = g->t[x].rank, dims[IR_MAX_RANK];
    memcpy(dims, g->t[x].dims, sizeof dims);
    int ch = dims[rank - 1];
    long ne = ir_numel(&g->t[x]);
    double *sv = arena_array(&g->arena, (size_t)ne, sizeof(double)), *bv = NULL;
    for (long e = 0; e < ne; e++)
        sv[e] = scale[e % ch];
    if (bias >= 0) {
        bv = arena_array(&g->arena, (size_t)ne, sizeof(double));
        for (long e = 0; e < ne; e++)
            bv[e] = g->t[bias].data[e % ch];
    }
    const char *aname = unique_name(im, arena_printf(&g->arena, "%s_alpha", lname));
    int in[3] = {x, ir_add_const(g, arena_printf(&g->arena, "%s_scale", aname), rank, dims, sv), -1};
    if (po2) {
        Quantizer p2 = {.kind = QZ_PO2, .bits = 9, .scale = 1.0, .max_value = NAN};
        if (qz_values_type(im, &p2, sv, ne, "the alpha scale of kernel_quantizer", &g->t[in[1]].type) < 0)
            return -1;
        g->t[in[1]].type_pinned = true;
    }
    if (bias >= 0) {
        in[2] = ir_add_const(g, arena_printf(&g->arena, "%s_bias", aname), rank, dims, bv);
        g->t[in[2]].type = g->t[bias].type;
        g->t[in[2]].type_pinned = g->t[bias].type_pinned;
    }
    int out = new_node(im, OP_AFFINE, aname, in, 3, rank, dims);
    g->n[g->nn - 1].quantized = true;
    g->n[g->nn - 1].result_auto = !po2;   /* hls4ml: 'auto', which for a po2 scale falls back to the default */
    return out;
}

/* Give constant c the quantizer's values and its exact type. */
static int quantize_const(Importer *im, int c, const Quantizer *q, const char *what)
{
    Tensor *t = &im->g->t[c];
    long n = ir_const_numel(t);
    for (long k = 0; k < n; k++)
        t->data[k] = qz_apply(q, t->data[k]);
    t->type_pinned = true;
    return qz_values_type(im, q, t->data, n, what, &t->type);
}

/* An activation given as a string, a Keras activation mapping, or a QKeras quantizer. */
static int apply_activation_spec(Importer *im, const char *lname_base, const cJSON *spec, int x)
{
    if (jis_null(spec))
        return x;
    Quantizer q;
    int r = qz_parse(im, spec, "the activation", &q);
    if (r < 0)
        return -1;
    const char *act = cJSON_IsString(spec) ? spec->valuestring : jstr(spec, "class_name");
    if (!r && act && !strcmp(act, "linear"))
        return x;
    const char *lname = unique_name(im, lname_base);
    if (r)
        return add_quant_activation(im, lname, &q, x);
    if (!act)
        return LAYER_ERR(im, "expected an activation name, got %s", kind_of(spec));
    /* Keras 3 may serialise an activation as a mapping naming a function */
    return add_activation(im, lname, act, x);
}

/* ---- layers ------------------------------------------------------------ */

/* The activation of a QDense/QConv. A plain 'relu' there is QKeras's float relu: in a quantized
 * layer it is marked quantized too, so that with no precision configured its result is exact (the
 * QActivation after it does the rounding), as in QKeras. */
static int quantized_layer_activation(Importer *im, const char *base, const cJSON *act, int x, bool float_act)
{
    size_t before = im->g->nn;
    int out = apply_activation_spec(im, base, act, x);
    if (out >= 0 && float_act && im->g->nn == before + 1 && im->g->n[before].op == OP_RELU &&
        im->g->t[x].producer >= 0 && im->g->n[im->g->t[x].producer].quantized)
        im->g->n[before].quantized = true;
    return out;
}

static int import_dense(Importer *im, const Container *ct, const char *lpath, const cJSON *cfg, int x, int quant)
{
    Tensor *tx = &im->g->t[x];
    const cJSON *ju = jget(cfg, "units");
    int units = cJSON_IsNumber(ju) && ju->valuedouble >= 1 && ju->valuedouble <= (1 << 24) ? (int)ju->valuedouble : -1;
    int use_bias = jbool(cfg, "use_bias", 1);
    if (units < 1)
        return LAYER_ERR(im, "expected 'units' a positive integer up to 16777216, got %s", jdesc(&im->g->arena, ju));
    int nin = tx->dims[tx->rank - 1];
    static const char *const names[] = {"kernel", "bias"};
    Weight w[2];
    if (layer_weights(im, ct, lpath, names, use_bias ? 2 : 1, w) < 0)
        return -1;
    char s1[96], s2[96];
    if (w[0].rank != 2 || w[0].dims[0] != nin || w[0].dims[1] != units) {
        int want[2] = {nin, units};
        dims_str(2, want, s1, sizeof s1);
        dims_str(w[0].rank, w[0].dims, s2, sizeof s2);
        return WEIGHT_ERR(im, "expected kernel %s (input %d features, %d units), got %s", s1, nin, units, s2);
    }
    if (use_bias && (w[1].rank != 1 || w[1].dims[0] != units)) {
        dims_str(1, &units, s1, sizeof s1);
        dims_str(w[1].rank, w[1].dims, s2, sizeof s2);
        return WEIGHT_ERR(im, "expected bias %s, got %s", s1, s2);
    }
    const char *lname = unique_name(im, im->lname);
    int wd[2] = {nin, units};
    int in[3] = {x, ir_add_const(im->g, arena_printf(&im->g->arena, "%s_weight", lname), 2, wd, w[0].data), -1};
    if (use_bias)
        in[2] = ir_add_const(im->g, arena_printf(&im->g->arena, "%s_bias", lname), 1, &units, w[1].data);
    if (quant >= 2) {
        /* BinaryDense / TernaryDense: hls4ml's quantizers, weights (and bias) +-1, or -1/0/1 */
        double H = jnum(cfg, "H", 1.0);
        if (H != 1.0)
            return LAYER_ERR(im, "expected H = 1, got %g (hls4ml converts the weights to +-1 whatever H is; not "
                                 "supported)", H);
        for (int j = 1; j < 3; j++)
            if (in[j] >= 0) {
                Tensor *c = &im->g->t[in[j]];
                long n = ir_const_numel(c);
                for (long k = 0; k < n; k++) {
                    double v = c->data[k];
                    c->data[k] = quant == 2 ? (v >= 0 ? 1.0 : -1.0) : v > 0.5 ? 1.0 : v <= -0.5 ? -1.0 : 0.0;
                }
                FxType t2 = {2, 2, 1, FXQ_TRN, FXO_WRAP};
                c->type = t2;
                c->type_pinned = true;
            }
    }
    double *alpha = NULL;   /* per-unit scales of a kernel_quantizer with alpha 'auto'/'auto_po2' */
    int alpha_po2 = 0, alpha_bias = -1;
    if (quant == 1) {
        Quantizer q;
        im->qalpha_ok = 1;
        int r = qz_parse(im, jget(cfg, "kernel_quantizer"), "kernel_quantizer", &q);
        im->qalpha_ok = 0;
        if (r < 0)
            return -1;
        if (r && q.alpha_auto) {
            alpha = arena_array(&im->g->arena, (size_t)units, sizeof(double));
            alpha_po2 = q.alpha_auto == 2;
            qz_auto_scale(im, in[1], &q, alpha);
        } else if (r && quantize_const(im, in[1], &q, "kernel_quantizer") < 0)
            return -1;
        if (use_bias) {
            r = qz_parse(im, jget(cfg, "bias_quantizer"), "bias_quantizer", &q);
            if (r < 0)
                return -1;
            if (r && quantize_const(im, in[2], &q, "bias_quantizer") < 0)
                return -1;
        }
    }
    tx = &im->g->t[x];
    int rank = tx->rank, dims[IR_MAX_RANK];
    memcpy(dims, tx->dims, sizeof dims);
    dims[rank - 1] = units;
    if (alpha) {   /* the bias moves to the alpha layer, as hls4ml moves it */
        alpha_bias = in[2];
        in[2] = -1;
    }
    int out = new_node(im, OP_DENSE, lname, in, 3, rank, dims);
    Node *dn = &im->g->n[im->g->nn - 1];
    dn->quantized = quant && im->g->t[in[1]].type_pinned;
    if (alpha && (out = add_alpha_layer(im, lname, out, alpha, alpha_bias, alpha_po2)) < 0)
        return -1;
    int px = im->g->t[x].producer;
    if (quant >= 2 && px >= 0 && im->g->n[px].op == OP_THRESHOLD) {
        /* hls4ml: a binary/ternary dense reading thresholded values sums in int<ceil(log2(n))+2> */
        int b = 0;
        while ((1L << b) < nin)
            b++;
        FxType ti = {(int16_t)(b + 2), (int16_t)(b + 2), 1, FXQ_TRN, FXO_WRAP};
        dn->accum = ti;
        dn->accum_pinned = true;
        im->g->t[out].type = ti;
        im->g->t[out].type_pinned = true;
    }
    const cJSON *act = jget(cfg, "activation");
    const char *an = cJSON_IsString(act) ? act->valuestring : jstr(act, "class_name");
    if (jis_null(act) || (an && !strcmp(an, "linear")))
        return out;
    char base[160];
    Quantizer q;
    int r = quant == 1 ? qz_parse(im, act, "activation", &q) : 0;
    if (r < 0)
        return -1;
    snprintf(base, sizeof base, "%s_%s", lname, r ? "quant" : an ? an : "act");
    return quantized_layer_activation(im, base, act, out, quant && !r);
}

/* PReLU: max(x, 0) + alpha * min(x, 0), alpha one weight per element (1 on shared axes, broadcast). */
static int import_prelu(Importer *im, const Container *ct, const char *lpath, int x)
{
    static const char *const names[] = {"alpha"};
    Weight w[1];
    if (layer_weights(im, ct, lpath, names, 1, w) < 0)
        return -1;
    const Tensor *tx = &im->g->t[x];
    int rank = tx->rank, dims[IR_MAX_RANK];
    memcpy(dims, tx->dims, sizeof dims);
    int ok = w[0].rank == rank;
    for (int k = 0; ok && k < rank; k++)
        ok = w[0].dims[k] == dims[k] || w[0].dims[k] == 1;
    if (!ok) {
        char s1[96], s2[96];
        dims_str(w[0].rank, w[0].dims, s1, sizeof s1);
        dims_str(rank, dims, s2, sizeof s2);
        return WEIGHT_ERR(im, "expected alpha of the input's shape %s (1 on shared axes), got %s", s2, s1);
    }
    long ne = ir_numel(tx);
    double *a = arena_array(&im->g->arena, (size_t)(ne ? ne : 1), sizeof(double));
    for (long e = 0; e < ne; e++) {
        long rem = e, ia = 0, sa = 1;
        for (int k = rank - 1; k >= 0; k--) {
            long c = rem % dims[k];
            rem /= dims[k];
            ia += (w[0].dims[k] == 1 ? 0 : c) * sa;
            sa *= w[0].dims[k];
        }
        a[e] = w[0].data[ia];
    }
    const char *lname = unique_name(im, im->lname);
    int in[2] = {x, ir_add_const(im->g, arena_printf(&im->g->arena, "%s_alpha", lname), rank, dims, a)};
    return new_node(im, OP_PRELU, lname, in, 2, rank, dims);
}

/* Embedding(input_dim, output_dim): the table [input_dim, output_dim]; the indices are the input's values. */
static int import_embedding(Importer *im, const Container *ct, const char *lpath, const cJSON *cfg, int x)
{
    static const char *const names[] = {"embeddings"};
    Weight w[1];
    double vin = jnum(cfg, "input_dim", NAN), vout = jnum(cfg, "output_dim", NAN);
    if (jbool(cfg, "mask_zero", 0))
        return LAYER_ERR(im, "expected mask_zero false, got true (a mask for the layers after it; not supported)");
    if (layer_weights(im, ct, lpath, names, 1, w) < 0)
        return -1;
    if (w[0].rank != 2 || w[0].dims[0] != vin || w[0].dims[1] != vout) {
        char s1[96];
        dims_str(w[0].rank, w[0].dims, s1, sizeof s1);
        return WEIGHT_ERR(im, "expected embeddings [input_dim %g, output_dim %g], got %s", vin, vout, s1);
    }
    const Tensor *tx = &im->g->t[x];
    if (tx->rank + 1 > 6)
        return LAYER_ERR(im, "expected indices of rank 5 or less, got rank %d", tx->rank);
    int dims[IR_MAX_RANK];
    memcpy(dims, tx->dims, sizeof dims);
    dims[tx->rank] = w[0].dims[1];
    const char *lname = unique_name(im, im->lname);
    int in[2] = {x, ir_add_const(im->g, arena_printf(&im->g->arena, "%s_embeddings", lname), 2, w[0].dims, w[0].data)};
    return new_node(im, OP_EMBED, lname, in, 2, tx->rank + 1, dims);
}

/* A hook on a BatchNormalization's per-channel scale and shift before they are spread over the elements (HGQ2:
 * its quantizers); ctx is the caller's. */
typedef int (*BnHook)(Importer *im, void *ctx, int ch, double *scale, double *shift, int f32);

/* BatchNormalization as an affine layer; hgq2: no beta (center false) is 1, as hgq2 computes it, and hook
 * quantizes the per-channel values. */
static int import_batchnorm_h(Importer *im, const Container *ct, const char *lpath, const cJSON *cfg, int x, int hgq2,
                              BnHook hook, void *ctx)
{
    Tensor *tx = &im->g->t[x];
    int rank = tx->rank;
    const cJSON *ax = jget(cfg, "axis");
    if (cJSON_IsArray(ax) && cJSON_GetArraySize(ax) == 1)
        ax = ax->child;
    long axis = cJSON_IsNumber(ax) ? clamp_int(ax->valuedouble) : ax ? -1000 : -1;
    if (axis < 0)
        axis += rank + 1;
    if (axis < 1 || axis > rank)
        return LAYER_ERR(im, "expected one axis other than the batch axis (1..%d or -1), got %s", rank,
                         jdesc(&im->g->arena, jget(cfg, "axis")));
    int scale = jbool(cfg, "scale", 1), center = jbool(cfg, "center", 1);
    double eps = jnum(cfg, "epsilon", 1e-3);
    const char *names[4];
    int nw = 0;
    if (scale)
        names[nw++] = "gamma";
    if (center)
        names[nw++] = "beta";
    names[nw++] = "moving_mean";
    names[nw++] = "moving_variance";
    Weight w[4];
    if (layer_weights(im, ct, lpath, names, nw, w) < 0)
        return -1;
    tx = &im->g->t[x];
    int ch = tx->dims[axis - 1];
    for (int k = 0; k < nw; k++) {
        long n = 1;
        for (int j = 0; j < w[k].rank; j++)
            n *= w[k].dims[j];
        if (n != ch) {
            char s[96];
            dims_str(w[k].rank, w[k].dims, s, sizeof s);
            return WEIGHT_ERR(im, "expected %s of %d values (channels on axis %ld), got %s", names[k], ch, axis, s);
        }
    }
    const double *gamma = scale ? w[0].data : NULL, *beta = center ? w[scale].data : NULL;
    const double *mean = w[nw - 2].data, *var = w[nw - 1].data;
    double beta0 = hgq2 ? 1.0 : 0.0;
    long ne = ir_numel(tx), inner = 1;
    for (int k = (int)axis; k < rank; k++)
        inner *= tx->dims[k];
    double *cs = arena_array(&im->g->arena, (size_t)ch, sizeof(double));
    double *cb = arena_array(&im->g->arena, (size_t)ch, sizeof(double));
    int f32 = 1;
    for (int k = 0; k < nw; k++)
        f32 &= w[k].f32;
    for (int c = 0; c < ch; c++) {
        if (var[c] + eps <= 0)
            return WEIGHT_ERR(im, "expected moving_variance + epsilon > 0, got %g at channel %d", var[c] + eps, c);
        if (f32) {   /* float32 weights: scale and shift in float, as Keras (and hls4ml) compute them */
            float sf = (gamma ? (float)gamma[c] : 1.0f) / sqrtf((float)var[c] + (float)eps);
            cs[c] = sf;
            cb[c] = (beta ? (float)beta[c] : (float)beta0) - (float)mean[c] * sf;
        } else {
            cs[c] = (gamma ? gamma[c] : 1.0) / sqrt(var[c] + eps);
            cb[c] = (beta ? beta[c] : beta0) - mean[c] * cs[c];
        }
    }
    if (hook && hook(im, ctx, ch, cs, cb, f32) < 0)
        return -1;
    double *s = arena_array(&im->g->arena, (size_t)ne, sizeof(double));
    double *t = arena_array(&im->g->arena, (size_t)ne, sizeof(double));
    for (long e = 0; e < ne; e++) {
        long c = (e / inner) % ch;
        s[e] = cs[c];
        t[e] = cb[c];
    }
    const char *lname = unique_name(im, im->lname);
    int dims[IR_MAX_RANK];
    memcpy(dims, tx->dims, sizeof dims);
    int in[3] = {x, ir_add_const(im->g, arena_printf(&im->g->arena, "%s_scale", lname), rank, dims, s), -1};
    in[2] = ir_add_const(im->g, arena_printf(&im->g->arena, "%s_shift", lname), rank, dims, t);
    return new_node(im, OP_AFFINE, lname, in, 3, rank, dims);
}

static int import_batchnorm(Importer *im, const Container *ct, const char *lpath, const cJSON *cfg, int x)
{
    return import_batchnorm_h(im, ct, lpath, cfg, x, 0, NULL, NULL);
}

/* LayerNormalization over the last axis: gamma and beta (ones and zeros when scale / center are off) as constants
 * of its length, epsilon on the node (OP_LAYERNORM). */
static int import_layernorm(Importer *im, const Container *ct, const char *lpath, const cJSON *cfg, int x)
{
    int rank = im->g->t[x].rank;
    const cJSON *ax = jget(cfg, "axis");
    if (cJSON_IsArray(ax) && cJSON_GetArraySize(ax) == 1)
        ax = ax->child;
    long axis = cJSON_IsNumber(ax) ? clamp_int(ax->valuedouble) : ax ? -1000 : -1;
    if (axis < 0)
        axis += rank + 1;
    if (axis != rank)
        return LAYER_ERR(im, "expected a LayerNormalization over the last axis only (axis -1 or %d of a rank-%d input "
                             "with its batch axis), got axis %s", rank, rank + 1, jdesc(&im->g->arena, jget(cfg, "axis")));
    if (jbool(cfg, "rms_scaling", 0))
        return LAYER_ERR(im, "expected rms_scaling false (RMS normalisation is not supported), got true");
    double eps = jnum(cfg, "epsilon", 1e-3);
    if (!(eps > 0) || !isfinite(eps))
        return LAYER_ERR(im, "expected a positive finite epsilon, got %g", eps);
    int scale = jbool(cfg, "scale", 1), center = jbool(cfg, "center", 1);
    const char *names[2];
    int nw = 0;
    if (scale)
        names[nw++] = "gamma";
    if (center)
        names[nw++] = "beta";
    Weight w[2];
    if (nw && layer_weights(im, ct, lpath, names, nw, w) < 0)
        return -1;
    int m = im->g->t[x].dims[rank - 1];
    for (int k = 0; k < nw; k++) {
        long cnt = 1;
        for (int j = 0; j < w[k].rank; j++)
            cnt *= w[k].dims[j];
        if (cnt != m) {
            char sh[96];
            dims_str(w[k].rank, w[k].dims, sh, sizeof sh);
            return WEIGHT_ERR(im, "expected %s of %d values (the last axis), got %s", names[k], m, sh);
        }
    }
    double *gv = arena_array(&im->g->arena, (size_t)m, sizeof(double));
    double *bv = arena_array(&im->g->arena, (size_t)m, sizeof(double));
    for (int j = 0; j < m; j++) {
        gv[j] = scale ? w[0].data[j] : 1.0;
        bv[j] = center ? w[scale].data[j] : 0.0;
    }
    const char *lname = unique_name(im, im->lname);
    int in[3] = {x, ir_add_const(im->g, arena_printf(&im->g->arena, "%s_scale", lname), 1, &m, gv), -1};
    in[2] = ir_add_const(im->g, arena_printf(&im->g->arena, "%s_bias", lname), 1, &m, bv);
    int dims[IR_MAX_RANK];
    memcpy(dims, im->g->t[x].dims, sizeof dims);
    int out = new_node(im, OP_LAYERNORM, lname, in, 3, rank, dims);
    im->g->n[im->g->nn - 1].epsilon = eps;
    return out;
}

static int import_reshape(Importer *im, const cJSON *target, int x)
{
    Tensor *tx = &im->g->t[x];
    long numel = ir_numel(tx);
    int dims[IR_MAX_RANK], rank = 0, infer = -1;
    long known = 1;
    if (!target) {   /* Flatten */
        dims[0] = (int)numel;
        rank = 1;
    } else {
        const char *ts = jdesc(&im->g->arena, target);
        if (!cJSON_IsArray(target) || cJSON_GetArraySize(target) < 1 || cJSON_GetArraySize(target) > IR_MAX_RANK - 2)
            return LAYER_ERR(im, "expected target_shape as a list of 1..%d dimensions, got %s", IR_MAX_RANK - 2, ts);
        for (const cJSON *e = target->child; e; e = e->next) {
            if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) || e->valuedouble < -1 || e->valuedouble == 0 ||
                e->valuedouble > (1 << 24))
                return LAYER_ERR(im, "expected positive target dimensions (or one -1), got %s in %s",
                                 jdesc(&im->g->arena, e), ts);
            int v = (int)e->valuedouble;
            if (v == -1) {
                if (infer >= 0)
                    return LAYER_ERR(im, "expected at most one -1 in target_shape, got %s", ts);
                infer = rank;
            } else {
                known *= v;
            }
            dims[rank++] = v;
        }
        if (infer >= 0) {
            if (numel % known)
                return LAYER_ERR(im, "expected a target_shape whose known dimensions divide %ld elements, got %ld (%s)",
                                 numel, known, ts);
            dims[infer] = (int)(numel / known);
            known = numel;
        }
        if (known != numel)
            return LAYER_ERR(im, "expected a target_shape of %ld elements, got %ld (%s)", numel, known, ts);
    }
    int in[1] = {x};
    return new_node(im, OP_RESHAPE, unique_name(im, im->lname), in, 1, rank, dims);
}

/* ---- recurrent layers --------------------------------------------------
 * SimpleRNN, LSTM and GRU: the configuration and the weights are read here into
 * one OP_RNN node per direction (rnn.c); the rnn_unroll pass makes it the IR's own operations. */

/* A QKeras recurrent layer's activation k (0: activation, 1: recurrent_activation) as what rnn.c builds:
 * *act a function name, *slope hard_sigmoid's slope, *q the output quantizer's type (*has_q).  QKeras
 * resolves a plain name among its own functions first: its 'hard_sigmoid' is clip(x/2 + 1/2, 0, 1); a
 * quantized_tanh / quantized_sigmoid without use_real_* is that hard sigmoid (2 hs - 1 for tanh, which is
 * clip(x, -1, 1)), rounded to the quantizer's grid. */
static int qrnn_activation(Importer *im, const cJSON *spec, const char *what, const char **act, double *slope, FxType *q,
                           int *has_q)
{
    *has_q = 0;
    if (cJSON_IsString(spec) && !strchr(spec->valuestring, '(')) {
        *act = spec->valuestring;
        if (!strcmp(*act, "hard_sigmoid"))
            *slope = 0.5;
        else if (!strcmp(*act, "quantized_tanh") || !strcmp(*act, "quantized_sigmoid"))
            goto quantizer;   /* the class with its defaults (8 bits) */
        return 0;
    }
quantizer:;
    const cJSON *obj = spec;
    if (cJSON_IsString(spec)) {
        int bad;
        obj = qz_from_string(im, spec->valuestring, &bad);
        if (bad)
            return -1;
        if (!obj)
            return LAYER_ERR(im, "expected %s a function name or a QKeras quantizer, got '%s'", what,
                             spec->valuestring);
    }
    const char *cls = jstr(obj, "class_name");
    const cJSON *c = jget(obj, "config");
    if (cls && (!strcmp(cls, "quantized_tanh") || !strcmp(cls, "quantized_sigmoid"))) {
        int tanh_ = cls[10] == 't', bits = jint(c, "bits", 8), sym = jbool(c, "symmetric", 0);
        if (jbool(c, "use_stochastic_rounding", 0) || bits < 2 || bits > 24 || (sym && !tanh_))
            return LAYER_ERR(im, "expected %s %s with 2..24 bits%s and no stochastic rounding, got bits=%d%s", what, cls,
                             tanh_ ? "" : ", not symmetric", bits, sym && !tanh_ ? " symmetric" : "");
        int real = jbool(c, tanh_ ? "use_real_tanh" : "use_real_sigmoid", 0);
        *act = real ? (tanh_ ? "tanh" : "sigmoid") : tanh_ ? "linear" : "hard_sigmoid";
        *slope = 0.5;
        FxType t = {(int16_t)bits, (int16_t)(tanh_ ? 1 : 0), (uint8_t)tanh_, FXQ_RND_CONV,
                    tanh_ && sym ? FXO_SAT_SYM : FXO_SAT};
        *q = t;
        *has_q = 1;
        return 0;
    }
    Quantizer qz;
    int r = qz_parse(im, obj, what, &qz);
    if (r < 0)
        return -1;
    if (r == 0 || !((qz.kind == QZ_BITS && qz.bits - qz.keep_negative > 0) || (qz.kind == QZ_RELU && !qz.negative_slope)))
        return LAYER_ERR(im, "expected %s among tanh, sigmoid, hard_sigmoid, relu, linear, quantized_tanh, "
                             "quantized_sigmoid, quantized_bits, quantized_relu, got %s (not supported in a recurrent "
                             "layer)", what, cls ? cls : "a quantizer without a class");
    *act = qz.kind == QZ_RELU || !qz.keep_negative ? "relu" : "linear";
    *q = qz_type(&qz);
    *has_q = 1;
    return 0;
}

/* The RnnSpec of recurrent layer cfg (class cls) on x; Keras 3 reads the cell's variables under cellpath
 * (<layer>/cell, or <layer>/forward_layer/cell in a Bidirectional).  sp->layer is the caller's.
 * QSimpleRNN, QLSTM, QGRU (QKeras): the weights through their quantizers, with the quantizers' types;
 * the state quantizer on the state each step reads; quantized activations (qrnn_activation). */
static int recurrent_spec(Importer *im, const Container *ct, const char *lpath, const char *cellpath, const cJSON *cfg,
                          const char *cls, int x, RnnSpec *sp)
{
    Graph *g = im->g;
    int quant = cls && cls[0] == 'Q';
    const char *base = cls ? cls + quant : NULL;
    if (!base || (strcmp(base, "SimpleRNN") && strcmp(base, "LSTM") && strcmp(base, "GRU")))
        return LAYER_ERR(im, "expected a SimpleRNN, LSTM, GRU, QSimpleRNN, QLSTM or QGRU, got %s", cls ? cls : "no class");
    int kind = !strcmp(base, "SimpleRNN") ? 0 : !strcmp(base, "LSTM") ? 1 : 2;
    int gates = kind == 0 ? 1 : kind == 1 ? 4 : 3;
    const Tensor *tx = &g->t[x];
    if (tx->rank != 2)
        return LAYER_ERR(im, "expected a sequence input [timesteps, features], got rank %d", tx->rank);
    int T = tx->dims[0], F = tx->dims[1];
    const cJSON *ju = jget(cfg, "units");
    int U = cJSON_IsNumber(ju) && ju->valuedouble >= 1 && ju->valuedouble <= (1 << 16) ? (int)ju->valuedouble : -1;
    if (U < 1)
        return LAYER_ERR(im, "expected 'units' a positive integer up to 65536, got %s", jdesc(&g->arena, ju));
    if (T > 4096)
        return LAYER_ERR(im, "expected at most 4096 time steps (the layer is unrolled), got %d", T);
    if (jbool(cfg, "stateful", 0))
        return LAYER_ERR(im, "expected stateful false, got true (a state kept across inputs is not supported)");
    if (jbool(cfg, "return_state", 0))
        return LAYER_ERR(im, "expected return_state false, got true (not supported yet)");
    if (jbool(cfg, "time_major", 0))
        return LAYER_ERR(im, "expected time_major false, got true");
    const char *act = NULL, *ract = NULL;
    double slope[2] = {im->keras3 ? 1.0 / 6.0 : 0.2, im->keras3 ? 1.0 / 6.0 : 0.2};
    FxType *aq = arena_array(&g->arena, 3, sizeof(FxType));
    int has_q[3] = {0, 0, 0};
    if (quant) {
        /* QKeras' defaults: quantized_tanh (8 bits), and its own hard_sigmoid */
        static const char *const keys[2] = {"activation", "recurrent_activation"};
        for (int k = 0; k < (kind ? 2 : 1); k++) {
            const cJSON *spec = jget(cfg, keys[k]);
            cJSON dflt;
            memset(&dflt, 0, sizeof dflt);
            dflt.type = cJSON_String;
            dflt.valuestring = (char *)(k ? "hard_sigmoid" : "quantized_tanh");
            if (qrnn_activation(im, jis_null(spec) ? &dflt : spec, keys[k], k ? &ract : &act, &slope[k], &aq[k],
                                &has_q[k]) < 0)
                return -1;
        }
    } else {
        act = jstr(cfg, "activation");
        ract = kind ? jstr(cfg, "recurrent_activation") : NULL;
    }
    if (!act)
        act = "tanh";
    if (kind && !ract)
        ract = im->keras3 ? "sigmoid" : "hard_sigmoid";
    for (int k = 0; k < 2; k++) {
        const char *a = k ? ract : act;
        if (a && strcmp(a, "linear") && strcmp(a, "tanh") && strcmp(a, "sigmoid") && strcmp(a, "hard_sigmoid") &&
            strcmp(a, "relu"))
            return LAYER_ERR(im, "expected an activation of tanh, sigmoid, hard_sigmoid, relu or linear, got '%s' (not "
                                 "supported in a recurrent layer yet)", a);
    }
    int use_bias = jbool(cfg, "use_bias", 1), seq = jbool(cfg, "return_sequences", 0), back = jbool(cfg, "go_backwards", 0);
    int reset_after = kind == 2 ? jbool(cfg, "reset_after", im->keras3 ? 1 : 0) : 0;
    static const char *const names[] = {"kernel", "recurrent_kernel", "bias"};
    Weight w[3];
    memset(w, 0, sizeof w);
    int rc;
    if (im->wlayout == WL_KERAS3) {
        /* Keras 3 keeps the cell's variables under <layer>/cell/vars */
        char cp[600];
        snprintf(cp, sizeof cp, "%s%s", cellpath[0] == '/' ? "" : "/", cellpath);
        rc = 0;
        for (int k = 0; k < (use_bias ? 3 : 2) && rc == 0; k++) {
            char dp[700];
            snprintf(dp, sizeof dp, "%s/vars/%d", cp + 1, k);
            if (im->wroot < 0 || !h5_exists(im->wroot, dp))
                rc = WEIGHT_ERR(im, "expected the cell's variable %d (%s) under '%s/vars', got none", k, names[k], cp + 1);
            else
                rc = h5_read_weight(im, im->wroot, dp, names[k], &w[k]);
        }
    } else {
        rc = layer_weights(im, ct, lpath, names, use_bias ? 3 : 2, w);
    }
    if (rc < 0)
        return -1;
    int G = gates * U;
    char s1[96], s2[96];
    if (w[0].rank != 2 || w[0].dims[0] != F || w[0].dims[1] != G) {
        int want[2] = {F, G};
        dims_str(2, want, s1, sizeof s1);
        dims_str(w[0].rank, w[0].dims, s2, sizeof s2);
        return WEIGHT_ERR(im, "expected kernel %s (%d features, %d gates x %d units), got %s", s1, F, gates, U, s2);
    }
    if (w[1].rank != 2 || w[1].dims[0] != U || w[1].dims[1] != G) {
        int want[2] = {U, G};
        dims_str(2, want, s1, sizeof s1);
        dims_str(w[1].rank, w[1].dims, s2, sizeof s2);
        return WEIGHT_ERR(im, "expected recurrent_kernel %s, got %s", s1, s2);
    }
    const double *bx = NULL, *bh = NULL;   /* input bias; GRU reset_after: the recurrent bias */
    if (use_bias) {
        int two = kind == 2 && reset_after;
        if ((two && (w[2].rank != 2 || w[2].dims[0] != 2 || w[2].dims[1] != G)) || (!two && (w[2].rank != 1 || w[2].dims[0] != G))) {
            dims_str(w[2].rank, w[2].dims, s2, sizeof s2);
            return WEIGHT_ERR(im, "expected bias %s, got %s", two ? arena_printf(&g->arena, "[2,%d]", G)
                                                                  : arena_printf(&g->arena, "[%d]", G), s2);
        }
        bx = w[2].data;
        bh = two ? w[2].data + G : NULL;
    }
    const FxType *wq[3] = {NULL, NULL, NULL};
    if (quant) {
        /* the weights as QKeras' quantizers give them, with their exact types */
        static const char *const qkeys[4] = {"kernel_quantizer", "recurrent_quantizer", "bias_quantizer", "state_quantizer"};
        FxType *qt = arena_array(&g->arena, 4, sizeof(FxType));
        for (int k = 0; k < 4; k++) {
            if (k == 2 && !use_bias)
                continue;
            Quantizer q;
            int r = qz_parse(im, jget(cfg, qkeys[k]), qkeys[k], &q);
            if (r < 0)
                return -1;
            if (!r)
                continue;
            if (k == 3 && !((q.kind == QZ_BITS && q.bits - q.keep_negative > 0) || (q.kind == QZ_RELU && !q.negative_slope)))
                return LAYER_ERR(im, "expected state_quantizer quantized_bits (2 bits or more) or quantized_relu without "
                                     "negative_slope, got %s (not supported)", q.name);
            if (k == 3) {
                qt[k] = qz_type(&q);
                aq[2] = qt[3];
                has_q[2] = 1;
                continue;
            }
            long n = (long)w[k].dims[0] * (w[k].rank > 1 ? w[k].dims[1] : 1);
            for (long e = 0; e < n; e++)
                w[k].data[e] = qz_apply(&q, w[k].data[e]);
            if (qz_values_type(im, &q, w[k].data, n, qkeys[k], &qt[k]) < 0)
                return -1;
            wq[k] = &qt[k];
        }
    }
    /* QKeras' forward pass is exact in fixed point when every activation is piecewise linear (hard sigmoid,
     * quantized) and the state quantizer bounds the state: then, with no precision configured, the cell
     * computes exactly between its quantizers; otherwise the configuration's types apply inside it */
    int exact = quant && has_q[2];
    for (int k = 0; k < (kind ? 2 : 1); k++) {
        const char *a = k ? ract : act;
        exact &= !strcmp(a, "linear") || !strcmp(a, "relu") || !strcmp(a, "hard_sigmoid");
    }
    if (quant && !exact)
        diag_warn(im->d, "%s: layer '%s' (%s): its forward pass is not exact in fixed point (%s): the configuration's "
                  "types (default fixed<16,6>) apply inside the cell; the weights keep their quantizers' types",
                  im->file, im->lname, im->lclass, has_q[2] ? "a float tanh or sigmoid" : "no state_quantizer");
    RnnSpec s = {.kind = kind == 0 ? RNN_SIMPLE : kind == 1 ? RNN_LSTM : RNN_GRU, .T = T, .F = F, .U = U,
                 .W = w[0].data, .R = w[1].data, .bx = bx, .bh = bh, .act = act, .ract = ract,
                 .hs_slope = {slope[0], slope[1]}, .act_q = {has_q[0] ? &aq[0] : NULL, has_q[1] ? &aq[1] : NULL},
                 .state_q = has_q[2] ? &aq[2] : NULL, .W_t = wq[0], .R_t = wq[1], .b_t = wq[2], .quantized = exact,
                 .reset_after = reset_after, .go_backwards = back, .return_sequences = seq, .layer = NULL,
                 .src_op = im->lclass, .step_h = NULL};
    *sp = s;
    return 0;
}

static int import_recurrent(Importer *im, const Container *ct, const char *lpath, const cJSON *cfg, const char *cls, int x)
{
    char cp[600];
    snprintf(cp, sizeof cp, "%s/cell", lpath);
    RnnSpec sp;
    if (recurrent_spec(im, ct, lpath, cp, cfg, cls, x, &sp) < 0)
        return -1;
    sp.layer = unique_name(im, im->lname);
    return rnn_add_node(im->g, &sp, x);
}

/* Bidirectional(SimpleRNN|LSTM|GRU), Keras 3 and Keras 2: a forward and a backward layer, their states merged per
 * step (return_sequences, the backward states in input order, as Keras aligns them) or at the end. */
static int import_bidirectional(Importer *im, const Container *ct, const char *lpath, const cJSON *cfg, int x)
{
    Graph *g = im->g;
    const char *mode = jstr(cfg, "merge_mode");
    Op op = !mode || !strcmp(mode, "concat") ? OP_CONCAT : !strcmp(mode, "sum") ? OP_ADD : !strcmp(mode, "mul") ? OP_MUL
          : !strcmp(mode, "ave") ? OP_AVERAGE : OP_COUNT_;
    if (op == OP_COUNT_)
        return LAYER_ERR(im, "expected merge_mode concat, sum, mul or ave, got %s", jdesc(&g->arena, jget(cfg, "merge_mode")));
    const cJSON *fl = jget(cfg, "layer"), *bl = jget(cfg, "backward_layer");
    if (!bl)
        bl = fl;   /* Keras builds the backward layer from the forward one, going backwards */
    RnnSpec sp[2];
    const char *const part[2] = {"forward_layer", "backward_layer"};
    const cJSON *lc[2] = {fl, bl};
    int tmax = g->t[x].rank == 2 ? g->t[x].dims[0] : 1;
    int *steps = arena_array(&g->arena, (size_t)(2 * tmax), sizeof(int));
    const char *L = unique_name(im, im->lname);
    size_t first = g->nn;
    int last[2];
    for (int k = 0; k < 2; k++) {
        char cp[600];
        snprintf(cp, sizeof cp, "%s/%s/cell", lpath, part[k]);
        /* Keras 2 names the two layers' weights <layer>/forward_<inner>/... and <layer>/backward_<inner>/... */
        im->wpart = k ? "backward_" : "forward_";
        int rc = recurrent_spec(im, ct, lpath, cp, jget(lc[k], "config"), jstr(lc[k], "class_name"), x, &sp[k]);
        im->wpart = NULL;
        if (rc < 0)
            return -1;
        if (k == 1)   /* the saved backward layer says it; one built from the forward layer goes the other way */
            sp[k].go_backwards = bl != fl ? jbool(jget(bl, "config"), "go_backwards", 1)
                                          : !jbool(jget(fl, "config"), "go_backwards", 0);
        sp[k].return_sequences = 0;
        sp[k].dir = k ? RNN_DIR_BACKWARD : RNN_DIR_FORWARD;
        sp[k].step_h = steps + k * tmax;
        sp[k].layer = arena_printf(&g->arena, "%s_%s", L, k ? "backward" : "forward");
        last[k] = rnn_add_node(g, &sp[k], x);
    }
    int seq = jbool(jget(fl, "config"), "return_sequences", 0), U = sp[0].U, T = sp[0].T;
    if (sp[1].U != U)
        return LAYER_ERR(im, "expected the forward and backward layers to have the same units, got %d and %d", U, sp[1].U);
    int wm = op == OP_CONCAT ? 2 * U : U, out = -1, acc = -1;
    for (int t = 0; t < (seq ? T : 1); t++) {
        int a = seq ? steps[t] : last[0], b = seq ? steps[tmax + t] : last[1];
        int two[2] = {a, b};
        const char *nm = seq ? arena_printf(&g->arena, "%s_t%d_merge", L, t) : L;
        int mg = new_node(im, op, nm, two, 2, 1, &wm);
        g->n[g->nn - 1].axis = 0;
        if (!seq) {
            out = mg;
        } else if (acc < 0) {
            acc = mg;
        } else {
            int cat[2] = {acc, mg}, n2 = (t + 1) * wm;
            acc = new_node(im, OP_CONCAT, arena_printf(&g->arena, "%s_t%d_seq", L, t), cat, 2, 1, &n2);
            g->n[g->nn - 1].axis = 0;
        }
    }
    if (seq) {
        int od[2] = {T, wm}, in1[1] = {acc};
        out = new_node(im, OP_RESHAPE, arena_printf(&g->arena, "%s_seq", L), in1, 1, 2, od);
    }
    for (size_t k = first; k < g->nn; k++)
        g->n[k].layer = L;
    return out;
}


/* ---- convolutional layers: conv, pooling, padding, resizing, merges ------
 * Keras data is channels-last, as the IR: [L,C] or [H,W,C] per sample. */

/* An int or a list of n ints (Keras accepts both); returns 0 or -1. */
static int k_ints(Importer *im, const cJSON *cfg, const char *key, int n, int def, int *out)
{
    const cJSON *v = jget(cfg, key);
    for (int k = 0; k < n; k++)
        out[k] = def;
    if (jis_null(v))
        return 0;
    if (!cJSON_IsNumber(v) && (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != n))
        return LAYER_ERR(im, "expected '%s' as an integer or a list of %d, got %s", key, n, jdesc(&im->g->arena, v));
    int k = 0;
    for (const cJSON *e = cJSON_IsNumber(v) ? v : v->child; e; e = cJSON_IsNumber(v) ? NULL : e->next, k++) {
        if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) || fabs(e->valuedouble) > (1 << 20))
            return LAYER_ERR(im, "expected integers within +-1048576 (2^20) in '%s', got %s", key, jdesc(&im->g->arena, e));
        out[k] = (int)e->valuedouble;
    }
    if (cJSON_IsNumber(v))
        for (k = 1; k < n; k++)
            out[k] = out[0];
    return 0;
}

/* (before, after) pairs of ZeroPadding / Cropping: int, [a, b] (per axis), or [[a, b], [c, d]]. */
static int k_pairs(Importer *im, const cJSON *cfg, const char *key, int ns, int *lo, int *hi)
{
    const cJSON *v = jget(cfg, key);
    double dl[2] = {0, 0}, dh[2] = {0, 0};   /* as given */
    for (int a = 0; a < ns; a++)
        lo[a] = hi[a] = 0;
    if (cJSON_IsNumber(v)) {
        for (int a = 0; a < ns; a++)
            dl[a] = dh[a] = v->valuedouble;
    } else if (!cJSON_IsArray(v)) {
        return LAYER_ERR(im, "expected '%s' as an integer or a list, got %s", key, jdesc(&im->g->arena, v));
    } else if (ns == 1 && cJSON_GetArraySize(v) == 2 && cJSON_IsNumber(v->child) && cJSON_IsNumber(v->child->next)) {
        dl[0] = v->child->valuedouble;
        dh[0] = v->child->next->valuedouble;
    } else {
        int n = cJSON_GetArraySize(v), k = 0;
        if (n != ns)
            return LAYER_ERR(im, "expected '%s' with %d entries, got %d (%s)", key, ns, n, jdesc(&im->g->arena, v));
        for (const cJSON *e = v->child; e; e = e->next, k++) {
            if (cJSON_IsNumber(e)) {
                dl[k] = dh[k] = e->valuedouble;
            } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsNumber(e->child) &&
                       cJSON_IsNumber(e->child->next)) {
                dl[k] = e->child->valuedouble;
                dh[k] = e->child->next->valuedouble;
            } else {
                return LAYER_ERR(im, "expected '%s' entries as integers or pairs, got %s", key, jdesc(&im->g->arena, e));
            }
        }
    }
    for (int a = 0; a < ns; a++) {
        if (!(dl[a] >= 0 && dh[a] >= 0 && dl[a] <= (1 << 20) && dh[a] <= (1 << 20)) || dl[a] != floor(dl[a]) ||
            dh[a] != floor(dh[a]))
            return LAYER_ERR(im, "expected '%s' values in 0..1048576 (2^20), got %g and %g", key, dl[a], dh[a]);
        lo[a] = (int)dl[a];
        hi[a] = (int)dh[a];
    }
    return 0;
}

/* Window geometry from kernel/pool size, strides, dilation and padding
 * ('valid' or 'same': TensorFlow puts the odd pixel after). */
static int k_window(Importer *im, const cJSON *cfg, const Tensor *tx, const char *size_key, const char *stride_key,
                    int *kernel, Node *nd)
{
    int ns = tx->rank - 1, st[2], dl[2];
    if (k_ints(im, cfg, size_key, ns, 1, kernel) < 0 || k_ints(im, cfg, stride_key, ns, -1, st) < 0 ||
        k_ints(im, cfg, "dilation_rate", ns, 1, dl) < 0)
        return -1;
    const char *pad = jstr(cfg, "padding");
    if (!pad)
        pad = "valid";
    /* 'causal' (Conv1D, DepthwiseConv1D): (kernel - 1) * dilation zeros before the sequence, none after */
    bool causal = pad && !strcmp(pad, "causal") && ns == 1 && !strcmp(size_key, "kernel_size");
    if (strcmp(pad, "valid") && strcmp(pad, "same") && !causal)
        return LAYER_ERR(im, "expected padding 'valid' or 'same'%s, got '%s'",
                         ns == 1 && !strcmp(size_key, "kernel_size") ? " or 'causal'" : "", pad);
    const char *fmt = jstr(cfg, "data_format");
    if (fmt && strcmp(fmt, "channels_last"))
        return LAYER_ERR(im, "expected data_format 'channels_last', got '%s' (not supported yet)", fmt);
    for (int a = 0; a < ns; a++) {
        if (st[a] < 0)
            st[a] = strcmp(stride_key, "strides") == 0 && strcmp(size_key, "pool_size") == 0 ? kernel[a] : 1;
        if (kernel[a] < 1 || st[a] < 1 || dl[a] < 1)
            return LAYER_ERR(im, "expected %s, %s and dilation_rate >= 1 on every spatial axis, got %d, %d and %d on "
                                 "spatial axis %d", size_key, stride_key, kernel[a], st[a], dl[a], a);
        int d = ns == 1 ? 1 : a, in = tx->dims[a];
        int span = (kernel[a] - 1) * dl[a] + 1, lo = 0, hi = 0;
        if (!strcmp(pad, "same")) {
            int outsz = (in + st[a] - 1) / st[a];
            int total = (outsz - 1) * st[a] + span - in;
            total = total > 0 ? total : 0;
            lo = total / 2;
            hi = total - lo;
        } else if (causal) {
            lo = span - 1;
        }
        if (in + lo + hi < span)
            return LAYER_ERR(im, "expected an input of at least %d pixels (the window) on spatial axis %d, got %d", span, a,
                             in);
        nd->kernel[d] = kernel[a];
        nd->stride[d] = st[a];
        nd->dilation[d] = dl[a];
        nd->pad_lo[d] = lo;
        nd->pad_hi[d] = hi;
    }
    return 0;
}

static int k_window_node(Importer *im, Op op, const char *lname, const int *in, int nin, const Tensor *tx, const Node *geo,
                         int cout)
{
    int ns = tx->rank - 1, dims[IR_MAX_RANK];
    for (int a = 0; a < ns; a++) {
        int d = ns == 1 ? 1 : a;
        int span = (geo->kernel[d] - 1) * geo->dilation[d] + 1;
        dims[a] = (tx->dims[a] + geo->pad_lo[d] + geo->pad_hi[d] - span) / geo->stride[d] + 1;
    }
    dims[ns] = cout;
    int out = new_node(im, op, lname, in, nin, tx->rank, dims);
    Node *nd = &im->g->n[im->g->nn - 1];
    memcpy(nd->kernel, geo->kernel, sizeof nd->kernel);
    memcpy(nd->stride, geo->stride, sizeof nd->stride);
    memcpy(nd->dilation, geo->dilation, sizeof nd->dilation);
    memcpy(nd->pad_lo, geo->pad_lo, sizeof nd->pad_lo);
    memcpy(nd->pad_hi, geo->pad_hi, sizeof nd->pad_hi);
    nd->groups = geo->groups > 1 ? geo->groups : 1;
    return out;
}

static int k_spatial(Importer *im, int x, int ns)
{
    const Tensor *tx = &im->g->t[x];
    if (tx->rank != ns + 1) {
        char s[96];
        dims_str(tx->rank, tx->dims, s, sizeof s);
        return LAYER_ERR(im, "expected a channels-last input of rank %d (%s), got %s", ns + 1, ns == 1 ? "[L,C]" : "[H,W,C]",
                         s);
    }
    return 0;
}

static Node k_blank_geo(void)
{
    Node g;
    memset(&g, 0, sizeof g);
    for (int a = 0; a < 2; a++)
        g.kernel[a] = g.stride[a] = g.dilation[a] = 1;
    g.groups = 1;
    return g;
}

/* A convolution's kernel has the shape want[0..wr-1] and its bias (when it has one) `filters` values. */
static int conv_weight_shapes(Importer *im, const Weight *w, const int *want, int wr, int use_bias, int filters)
{
    char s1[96], s2[96];
    if (w[0].rank != wr || memcmp(w[0].dims, want, sizeof(int) * (size_t)wr)) {
        dims_str(wr, want, s1, sizeof s1);
        dims_str(w[0].rank, w[0].dims, s2, sizeof s2);
        return WEIGHT_ERR(im, "expected kernel %s, got %s", s1, s2);
    }
    if (use_bias && (w[1].rank != 1 || w[1].dims[0] != filters)) {
        dims_str(1, &filters, s1, sizeof s1);
        dims_str(w[1].rank, w[1].dims, s2, sizeof s2);
        return WEIGHT_ERR(im, "expected bias %s, got %s", s1, s2);
    }
    return 0;
}

static int import_conv(Importer *im, const Container *ct, const char *lpath, const char *cls, const cJSON *cfg, int x)
{
    int quant = cls[0] == 'Q', depthwise = strstr(cls, "Depthwise") != NULL;
    int ns = strstr(cls, "1D") ? 1 : 2;
    if (k_spatial(im, x, ns) < 0)
        return -1;
    const Tensor *tx = &im->g->t[x];
    int cin = tx->dims[ns], use_bias = jbool(cfg, "use_bias", 1);
    int dmul = jint(cfg, "depth_multiplier", 1);
    long lf = depthwise ? (long)cin * dmul : jint(cfg, "filters", -1);
    int filters = lf > (1 << 24) ? -1 : (int)lf;
    int groups = depthwise ? cin : jint(cfg, "groups", 1);
    if (filters < 1 || groups < 1 || cin % groups || filters % groups)
        return LAYER_ERR(im, "expected positive filters (up to 16777216) and groups dividing %d input channels, got "
                             "filters %ld and groups %d", cin, lf, groups);
    int kernel[2];
    Node geo = k_blank_geo();
    if (k_window(im, cfg, tx, "kernel_size", "strides", kernel, &geo) < 0)
        return -1;
    geo.groups = groups;
    static const char *const names[] = {"kernel", "bias"}, *const dnames[] = {"depthwise_kernel", "bias"};
    Weight w[2];
    if (layer_weights(im, ct, lpath, depthwise ? dnames : names, use_bias ? 2 : 1, w) < 0)
        return -1;
    int want[4], wr = 0;
    for (int a = 0; a < ns; a++)
        want[wr++] = kernel[a];
    want[wr++] = depthwise ? cin : cin / groups;
    want[wr++] = depthwise ? filters / cin : filters;
    if (conv_weight_shapes(im, w, want, wr, use_bias, filters) < 0)
        return -1;
    double *wv = w[0].data;
    if (depthwise) {   /* [k..., C, M] -> [k..., 1, C*M]: output channel c*M + m reads input channel c */
        long taps = (long)kernel[0] * (ns == 2 ? kernel[1] : 1);
        want[wr - 2] = 1;
        want[wr - 1] = filters;
        wv = arena_array(&im->g->arena, (size_t)(taps * filters), sizeof(double));
        memcpy(wv, w[0].data, sizeof(double) * (size_t)(taps * filters));
    }
    const char *lname = unique_name(im, im->lname);
    int in[3] = {x, ir_add_const(im->g, arena_printf(&im->g->arena, "%s_weight", lname), wr, want, wv), -1};
    if (use_bias)
        in[2] = ir_add_const(im->g, arena_printf(&im->g->arena, "%s_bias", lname), 1, &filters, w[1].data);
    double *alpha = NULL;   /* per-filter scales of a kernel_quantizer with alpha 'auto'/'auto_po2' */
    int alpha_po2 = 0, alpha_bias = -1;
    if (quant) {
        Quantizer q;
        const char *kq = depthwise ? "depthwise_quantizer" : "kernel_quantizer";
        im->qalpha_ok = !depthwise;
        int r = qz_parse(im, jget(cfg, kq), kq, &q);
        im->qalpha_ok = 0;
        if (r < 0)
            return -1;
        if (r && q.alpha_auto) {
            alpha = arena_array(&im->g->arena, (size_t)filters, sizeof(double));
            alpha_po2 = q.alpha_auto == 2;
            qz_auto_scale(im, in[1], &q, alpha);
        } else if (r && quantize_const(im, in[1], &q, kq) < 0)
            return -1;
        if (use_bias) {
            r = qz_parse(im, jget(cfg, "bias_quantizer"), "bias_quantizer", &q);
            if (r < 0)
                return -1;
            if (r && quantize_const(im, in[2], &q, "bias_quantizer") < 0)
                return -1;
        }
    }
    if (alpha) {   /* the bias moves to the alpha layer, as hls4ml moves it */
        alpha_bias = in[2];
        in[2] = -1;
    }
    tx = &im->g->t[x];
    int out = k_window_node(im, ns == 1 ? OP_CONV1D : OP_CONV2D, lname, in, 3, tx, &geo, filters);
    im->g->n[im->g->nn - 1].quantized = quant && im->g->t[in[1]].type_pinned;
    if (alpha && (out = add_alpha_layer(im, lname, out, alpha, alpha_bias, alpha_po2)) < 0)
        return -1;
    const cJSON *act = jget(cfg, "activation");
    const char *an = cJSON_IsString(act) ? act->valuestring : jstr(act, "class_name");
    if (jis_null(act) || (an && !strcmp(an, "linear")))
        return out;
    char base[160];
    Quantizer q;
    int r = quant ? qz_parse(im, act, "activation", &q) : 0;
    if (r < 0)
        return -1;
    snprintf(base, sizeof base, "%s_%s", lname, r ? "quant" : an ? an : "act");
    return quantized_layer_activation(im, base, act, out, quant && !r);
}

/* Conv1DTranspose/Conv2DTranspose: the convolution, stride 1, of the input with strides - 1 zeros between its
 * pixels (Node.in_dil), the kernel [k..., filters, C] flipped and its channel axes swapped to [k..., C, filters].
 * The output size is Keras's ((in - 1) * stride + window + output_padding, 'valid'; in * stride, or with an
 * output_padding (in - 1) * stride + window % 2 + output_padding, 'same'); TensorFlow's transposed convolution
 * crops (window - 1 - (in - 1) * stride - window + out) / 2 (floor) pixels before, the rest after. */
static int import_conv_transpose(Importer *im, const Container *ct, const char *lpath, const char *cls, const cJSON *cfg,
                                 int x)
{
    int ns = strstr(cls, "1D") ? 1 : 2;
    if (k_spatial(im, x, ns) < 0)
        return -1;
    const Tensor *tx = &im->g->t[x];
    int cin = tx->dims[ns], use_bias = jbool(cfg, "use_bias", 1);
    long lf = jint(cfg, "filters", -1);
    int filters = lf > (1 << 24) ? -1 : (int)lf;
    if (filters < 1)
        return LAYER_ERR(im, "expected positive filters (up to 16777216), got %ld", lf);
    if (jint(cfg, "groups", 1) != 1)
        return LAYER_ERR(im, "expected groups 1, got %d (grouped transposed convolutions: not supported)",
                         jint(cfg, "groups", 1));
    int kernel[2] = {1, 1}, st[2], dl[2], op[2];
    if (k_ints(im, cfg, "kernel_size", ns, 1, kernel) < 0 || k_ints(im, cfg, "strides", ns, 1, st) < 0 ||
        k_ints(im, cfg, "dilation_rate", ns, 1, dl) < 0 || k_ints(im, cfg, "output_padding", ns, -1, op) < 0)
        return -1;
    const char *pad = jstr(cfg, "padding");
    if (!pad)
        pad = "valid";
    if (strcmp(pad, "valid") && strcmp(pad, "same"))
        return LAYER_ERR(im, "expected padding 'valid' or 'same', got '%s'", pad);
    const char *fmt = jstr(cfg, "data_format");
    if (fmt && strcmp(fmt, "channels_last"))
        return LAYER_ERR(im, "expected data_format 'channels_last', got '%s' (not supported yet)", fmt);
    Node geo = k_blank_geo();
    int dims[IR_MAX_RANK];
    for (int a = 0; a < ns; a++) {
        if (kernel[a] < 1 || st[a] < 1 || dl[a] < 1)
            return LAYER_ERR(im, "expected kernel_size, strides and dilation_rate >= 1 on every spatial axis, got %d, "
                                 "%d and %d on spatial axis %d", kernel[a], st[a], dl[a], a);
        if (op[a] >= 0 && op[a] >= (st[a] > dl[a] ? st[a] : dl[a]))
            return LAYER_ERR(im, "expected output_padding below the stride (%d) on spatial axis %d, got %d", st[a], a,
                             op[a]);
        long span = (long)(kernel[a] - 1) * dl[a] + 1, in = tx->dims[a], out;
        if (!strcmp(pad, "valid"))
            out = (in - 1) * st[a] + span + (op[a] >= 0 ? op[a] : (st[a] > span ? st[a] - span : 0));
        else
            out = op[a] >= 0 ? (in - 1) * st[a] + span % 2 + op[a] : in * st[a];
        long crop = (in - 1) * st[a] + span - out;   /* pixels of the full result the output leaves out */
        long before = crop > 0 ? crop / 2 : 0;
        if (out < 1 || out > (1 << 24))
            return LAYER_ERR(im, "expected an output of 1 to 16777216 pixels on spatial axis %d, got %ld", a, out);
        int d = ns == 1 ? 1 : a;
        geo.kernel[d] = kernel[a];
        geo.dilation[d] = dl[a];
        geo.in_dil[d] = st[a];
        geo.pad_lo[d] = (int)(span - 1 - before);
        geo.pad_hi[d] = (int)(out - (in - 1) * st[a] - 1 - geo.pad_lo[d] + span - 1);
        dims[a] = (int)out;
    }
    if (ns == 1)
        geo.in_dil[0] = 1;
    dims[ns] = filters;
    static const char *const names[] = {"kernel", "bias"};
    Weight w[2];
    if (layer_weights(im, ct, lpath, names, use_bias ? 2 : 1, w) < 0)
        return -1;
    int want[4], wr = 0;
    for (int a = 0; a < ns; a++)
        want[wr++] = kernel[a];
    want[wr++] = filters;
    want[wr++] = cin;
    if (conv_weight_shapes(im, w, want, wr, use_bias, filters) < 0)
        return -1;
    long taps = (long)kernel[0] * kernel[1];
    double *wv = arena_array(&im->g->arena, (size_t)(taps * cin * filters), sizeof(double));
    for (long t = 0; t < taps; t++)   /* [k..., M, C] -> [k..., C, M], the taps reversed */
        for (int c = 0; c < cin; c++)
            for (int o = 0; o < filters; o++)
                wv[(t * cin + c) * filters + o] = w[0].data[((taps - 1 - t) * filters + o) * cin + c];
    want[wr - 2] = cin;
    want[wr - 1] = filters;
    const char *lname = unique_name(im, im->lname);
    int in[3] = {x, ir_add_const(im->g, arena_printf(&im->g->arena, "%s_weight", lname), wr, want, wv), -1};
    if (use_bias)
        in[2] = ir_add_const(im->g, arena_printf(&im->g->arena, "%s_bias", lname), 1, &filters, w[1].data);
    int out = new_node(im, ns == 1 ? OP_CONV1D : OP_CONV2D, lname, in, 3, ns + 1, dims);   /* (tx may have moved) */
    Node *nd = &im->g->n[im->g->nn - 1];
    memcpy(nd->kernel, geo.kernel, sizeof nd->kernel);
    memcpy(nd->dilation, geo.dilation, sizeof nd->dilation);
    memcpy(nd->in_dil, geo.in_dil, sizeof nd->in_dil);
    memcpy(nd->pad_lo, geo.pad_lo, sizeof nd->pad_lo);
    memcpy(nd->pad_hi, geo.pad_hi, sizeof nd->pad_hi);
    const cJSON *act = jget(cfg, "activation");
    const char *an = cJSON_IsString(act) ? act->valuestring : jstr(act, "class_name");
    if (jis_null(act) || (an && !strcmp(an, "linear")))
        return out;
    char base[160];
    snprintf(base, sizeof base, "%s_%s", lname, an ? an : "act");
    return quantized_layer_activation(im, base, act, out, 0);
}

/* SeparableConv1D/2D: a depthwise convolution (depth_multiplier outputs per input channel, no bias)
 * named <layer>_depthwise, then a pointwise 1x1 convolution with the bias named <layer>.
 * QSeparableConv1D/2D (QKeras): the depthwise, pointwise and bias quantizers give the weights their
 * values and types; the depthwise result is exact, as QKeras' float separable convolution. */
static int import_separable(Importer *im, const Container *ct, const char *lpath, const char *cls, const cJSON *cfg,
                            int x)
{
    int ns = strstr(cls, "1D") ? 1 : 2;
    if (k_spatial(im, x, ns) < 0)
        return -1;
    const Tensor *tx = &im->g->t[x];
    int cin = tx->dims[ns], use_bias = jbool(cfg, "use_bias", 1);
    int dm = jint(cfg, "depth_multiplier", 1), filters = jint(cfg, "filters", -1);
    if (dm < 1 || filters < 1 || filters > (1 << 24) || (long)cin * dm > (1 << 24))
        return LAYER_ERR(im, "expected positive filters and depth_multiplier (up to 16777216 channels), got filters %d and "
                             "depth_multiplier %d", filters, dm);
    int kernel[2];
    Node geo = k_blank_geo();
    if (k_window(im, cfg, tx, "kernel_size", "strides", kernel, &geo) < 0)
        return -1;
    geo.groups = cin;
    static const char *const names[] = {"depthwise_kernel", "pointwise_kernel", "bias"};
    Weight w[3];
    if (layer_weights(im, ct, lpath, names, use_bias ? 3 : 2, w) < 0)
        return -1;
    int dw[4], pw[4], r = 0;
    for (; r < ns; r++) {
        dw[r] = kernel[r];
        pw[r] = 1;
    }
    dw[r] = cin, dw[r + 1] = dm;
    pw[r] = cin * dm, pw[r + 1] = filters;
    r += 2;
    char s1[96], s2[96];
    for (int j = 0; j < 2; j++)
        if (w[j].rank != r || memcmp(w[j].dims, j ? pw : dw, sizeof(int) * (size_t)r)) {
            dims_str(r, j ? pw : dw, s1, sizeof s1);
            dims_str(w[j].rank, w[j].dims, s2, sizeof s2);
            return WEIGHT_ERR(im, "expected %s %s, got %s", names[j], s1, s2);
        }
    if (use_bias && (w[2].rank != 1 || w[2].dims[0] != filters)) {
        dims_str(1, &filters, s1, sizeof s1);
        dims_str(w[2].rank, w[2].dims, s2, sizeof s2);
        return WEIGHT_ERR(im, "expected bias %s, got %s", s1, s2);
    }
    /* depthwise [k..., C, M] is [k..., 1, C*M]: output channel c*M + m reads input channel c */
    dw[r - 2] = 1;
    dw[r - 1] = cin * dm;
    const char *lname = unique_name(im, im->lname);
    const char *dname = unique_name(im, arena_printf(&im->g->arena, "%s_depthwise", lname));
    Op op = ns == 1 ? OP_CONV1D : OP_CONV2D;
    int quant = cls[0] == 'Q';
    int in1[3] = {x, ir_add_const(im->g, arena_printf(&im->g->arena, "%s_weight", dname), r, dw, w[0].data), -1};
    int wp = ir_add_const(im->g, arena_printf(&im->g->arena, "%s_weight", lname), r, pw, w[1].data), wb = -1;
    if (use_bias)
        wb = ir_add_const(im->g, arena_printf(&im->g->arena, "%s_bias", lname), 1, &filters, w[2].data);
    if (quant) {
        static const char *const qkeys[3] = {"depthwise_quantizer", "pointwise_quantizer", "bias_quantizer"};
        const int consts[3] = {in1[1], wp, wb};
        for (int k = 0; k < 3; k++) {
            Quantizer q;
            int qr = consts[k] >= 0 ? qz_parse(im, jget(cfg, qkeys[k]), qkeys[k], &q) : 0;
            if (qr < 0 || (qr && quantize_const(im, consts[k], &q, qkeys[k]) < 0))
                return -1;
        }
    }
    tx = &im->g->t[x];   /* the constants above may have moved the tensor array */
    int d = k_window_node(im, op, dname, in1, 3, tx, &geo, cin * dm);
    im->g->n[im->g->nn - 1].quantized = quant && im->g->t[in1[1]].type_pinned;
    int in2[3] = {d, wp, wb};
    Node pgeo = k_blank_geo();
    int out = k_window_node(im, op, lname, in2, 3, &im->g->t[d], &pgeo, filters);
    im->g->n[im->g->nn - 1].quantized = quant && im->g->t[wp].type_pinned;
    const cJSON *act = jget(cfg, "activation");
    const char *an = cJSON_IsString(act) ? act->valuestring : jstr(act, "class_name");
    if (jis_null(act) || (an && !strcmp(an, "linear")))
        return out;
    char base[160];
    Quantizer q;
    int qr = quant ? qz_parse(im, act, "activation", &q) : 0;
    if (qr < 0)
        return -1;
    snprintf(base, sizeof base, "%s_%s", lname, qr ? "quant" : an ? an : "act");
    return quant ? quantized_layer_activation(im, base, act, out, !qr) : apply_activation_spec(im, base, act, out);
}

static int import_pool(Importer *im, const char *cls, const cJSON *cfg, int x)
{
    int ns = strstr(cls, "1D") ? 1 : 2, global = !strncmp(cls, "Global", 6), is_max = strstr(cls, "Max") != NULL;
    if (k_spatial(im, x, ns) < 0)
        return -1;
    const Tensor *tx = &im->g->t[x];
    Node geo = k_blank_geo();
    int kernel[2];
    if (global) {
        const char *fmt = jstr(cfg, "data_format");
        if (fmt && strcmp(fmt, "channels_last"))
            return LAYER_ERR(im, "expected data_format 'channels_last', got '%s' (not supported yet)", fmt);
        for (int a = 0; a < ns; a++) {
            int d = ns == 1 ? 1 : a;
            geo.kernel[d] = geo.stride[d] = tx->dims[a];
        }
    } else if (k_window(im, cfg, tx, "pool_size", "strides", kernel, &geo) < 0) {
        return -1;
    }
    Op op = is_max ? (ns == 1 ? OP_MAXPOOL1D : OP_MAXPOOL2D) : (ns == 1 ? OP_AVGPOOL1D : OP_AVGPOOL2D);
    int in[1] = {x};
    const char *lname = unique_name(im, im->lname);
    int out = k_window_node(im, op, lname, in, 1, tx, &geo, tx->dims[ns]);
    /* max pooling of a quantized tensor keeps its type (see the precision pass) */
    if (is_max && (im->g->t[x].type_pinned || (im->g->t[x].producer >= 0 && im->g->n[im->g->t[x].producer].quantized)))
        im->g->n[im->g->nn - 1].quantized = true;
    if (global && !jbool(cfg, "keepdims", 0)) {
        tx = &im->g->t[out];
        int c = tx->dims[tx->rank - 1], in1[1] = {out};
        out = new_node(im, OP_RESHAPE, unique_name(im, arena_printf(&im->g->arena, "%s_flat", lname)), in1, 1, 1, &c);
    }
    return out;
}

/* ZeroPadding, Cropping (negative padding), UpSampling (nearest). */
static int import_resize(Importer *im, const char *cls, const cJSON *cfg, int x)
{
    int ns = strstr(cls, "1D") ? 1 : 2;
    if (k_spatial(im, x, ns) < 0)
        return -1;
    const char *fmt = jstr(cfg, "data_format");
    if (fmt && strcmp(fmt, "channels_last"))
        return LAYER_ERR(im, "expected data_format 'channels_last', got '%s' (not supported yet)", fmt);
    const Tensor *tx = &im->g->t[x];
    Node geo = k_blank_geo();
    int lo[2], hi[2], dims[IR_MAX_RANK];
    Op op = OP_PAD;
    if (!strncmp(cls, "UpSampling", 10)) {
        const char *interp = jstr(cfg, "interpolation");
        if (interp && strcmp(interp, "nearest"))
            return LAYER_ERR(im, "expected interpolation 'nearest', got '%s' (not supported yet)", interp);
        int size[2];
        if (k_ints(im, cfg, "size", ns, 2, size) < 0)
            return -1;
        for (int a = 0; a < ns; a++) {
            if (size[a] < 1)
                return LAYER_ERR(im, "expected size >= 1, got %d", size[a]);
            geo.stride[ns == 1 ? 1 : a] = size[a];
            dims[a] = tx->dims[a] * size[a];
        }
        op = OP_UPSAMPLE;
    } else {
        int crop = !strncmp(cls, "Cropping", 8);
        if (k_pairs(im, cfg, crop ? "cropping" : "padding", ns, lo, hi) < 0)
            return -1;
        for (int a = 0; a < ns; a++) {
            int d = ns == 1 ? 1 : a;
            geo.pad_lo[d] = crop ? -lo[a] : lo[a];
            geo.pad_hi[d] = crop ? -hi[a] : hi[a];
            dims[a] = tx->dims[a] + geo.pad_lo[d] + geo.pad_hi[d];
            if (dims[a] < 1)
                return LAYER_ERR(im, "expected cropping that leaves at least one pixel, got %d and %d of %d on spatial axis "
                                     "%d", lo[a], hi[a], tx->dims[a], a);
        }
    }
    dims[ns] = tx->dims[ns];
    int in[1] = {x};
    int out = new_node(im, op, unique_name(im, im->lname), in, 1, tx->rank, dims);
    Node *nd = &im->g->n[im->g->nn - 1];
    memcpy(nd->stride, geo.stride, sizeof nd->stride);
    memcpy(nd->pad_lo, geo.pad_lo, sizeof nd->pad_lo);
    memcpy(nd->pad_hi, geo.pad_hi, sizeof nd->pad_hi);
    return out;
}

static int import_permute(Importer *im, const cJSON *cfg, int x)
{
    const Tensor *tx = &im->g->t[x];
    int r = tx->rank, perm[IR_MAX_RANK], dims[IR_MAX_RANK], seen[IR_MAX_RANK] = {0};
    if (k_ints(im, cfg, "dims", r, 0, perm) < 0)
        return -1;
    for (int k = 0; k < r; k++) {
        if (perm[k] < 1 || perm[k] > r || seen[perm[k] - 1]++)
            return LAYER_ERR(im, "expected dims as a permutation of 1..%d, got %s", r, jdesc(&im->g->arena, jget(cfg, "dims")));
        perm[k]--;
        dims[k] = tx->dims[perm[k]];
    }
    int in[1] = {x};
    int out = new_node(im, OP_TRANSPOSE, unique_name(im, im->lname), in, 1, r, dims);
    memcpy(im->g->n[im->g->nn - 1].perm, perm, sizeof perm);
    return out;
}

/* Concatenate and the elementwise merges, chained over two inputs at a time. */
static int import_merge(Importer *im, const char *cls, const cJSON *cfg, const int *in, int nin)
{
    Op op = !strcmp(cls, "Add") ? OP_ADD : !strcmp(cls, "Subtract") ? OP_SUB : !strcmp(cls, "Multiply") ? OP_MUL
          : !strcmp(cls, "Average") ? OP_AVERAGE : !strcmp(cls, "Maximum") ? OP_MAXIMUM
          : !strcmp(cls, "Minimum") ? OP_MINIMUM : OP_CONCAT;
    if (nin < 2 || ((op == OP_SUB || op == OP_AVERAGE) && nin != 2))
        return LAYER_ERR(im, "expected %s inputs, got %d input%s", op == OP_SUB || op == OP_AVERAGE ? "two" : "two or more",
                         nin, nin == 1 ? "" : "s");
    int cur = in[0];
    for (int k = 1; k < nin; k++) {
        const Tensor *a = &im->g->t[cur], *b = &im->g->t[in[k]];
        int dims[IR_MAX_RANK], ax = -1, ok = a->rank == b->rank;
        if (op == OP_CONCAT) {
            long axis = jint(cfg, "axis", -1);
            ax = (int)(axis < 0 ? axis + a->rank : axis - 1);
            if (ax < 0 || ax >= a->rank)
                return LAYER_ERR(im, "expected an axis other than the batch axis (1..%d or -1), got %g", a->rank,
                                 jnum(cfg, "axis", -1));
        }
        for (int j = 0; ok && j < a->rank; j++) {
            ok = j == ax || a->dims[j] == b->dims[j];
            dims[j] = j == ax ? a->dims[j] + b->dims[j] : a->dims[j];
        }
        if (!ok) {
            char s1[96], s2[96];
            dims_str(a->rank, a->dims, s1, sizeof s1);
            dims_str(b->rank, b->dims, s2, sizeof s2);
            return LAYER_ERR(im, "expected inputs of the same shape%s, got %s and %s",
                             op == OP_CONCAT ? arena_printf(&im->g->arena, " except on axis %d", ax + 1) : "", s1, s2);
        }
        int two[2] = {cur, in[k]};
        const char *nm = k + 1 == nin ? im->lname : arena_printf(&im->g->arena, "%s_part%d", im->lname, k);
        cur = new_node(im, op, unique_name(im, nm), two, 2, a->rank, dims);
        im->g->n[im->g->nn - 1].axis = ax;
    }
    return cur;
}

/* Dot (hls4ml's Dot): the dot product of two vectors of equal length (axes 1 or -1, normalize false), as
 * the elementwise product <layer>_product (part of the layer: its type is the layer's accum) and the sum OP_DOT
 * <layer> ([1]; made a Dense over ones after the precision pass, passes/dot.c). */
static int import_dot(Importer *im, const cJSON *cfg, const int *in, int nin)
{
    if (nin != 2)
        return LAYER_ERR(im, "expected two inputs, got %d", nin);
    const Tensor *a = &im->g->t[in[0]], *b = &im->g->t[in[1]];
    if (a->rank != 1 || b->rank != 1 || a->dims[0] != b->dims[0]) {
        char s1[96], s2[96];
        dims_str(a->rank, a->dims, s1, sizeof s1);
        dims_str(b->rank, b->dims, s2, sizeof s2);
        return LAYER_ERR(im, "expected two vectors of the same length (the dot product of rank-1 inputs, as hls4ml's "
                             "Dot), got %s and %s", s1, s2);
    }
    const cJSON *ax = jget(cfg, "axes");
    int axes[2];
    if (k_ints(im, cfg, "axes", 2, 1, axes) < 0)
        return -1;
    if (jis_null(ax) || (axes[0] != 1 && axes[0] != -1) || (axes[1] != 1 && axes[1] != -1))
        return LAYER_ERR(im, "expected axes 1 or -1 (the vectors' axis), got %s", jdesc(&im->g->arena, ax));
    if (jbool(cfg, "normalize", 0))
        return LAYER_ERR(im, "expected normalize false, got true (the cosine similarity is not built)");
    int n = a->dims[0], one = 1, two[2] = {in[0], in[1]};
    const char *lname = unique_name(im, im->lname);
    int p = new_node(im, OP_MUL, unique_name(im, arena_printf(&im->g->arena, "%s_product", lname)), two, 2, 1, &n);
    im->g->n[im->g->nn - 1].layer = lname;
    return new_node(im, OP_DOT, lname, &p, 1, 1, &one);
}

/* EinsumDense (Keras 3): an einsum of the input with the kernel, plus a bias over bias_axes, lowered onto
 * transposes, reshapes and a Dense (frontends/einsum.c); an activation after it as a Dense's. */
/* A hook on an EinsumDense's kernel and bias (w[0], w[1] when nw is 2) as read (HGQ2: its quantizers). */
typedef int (*WeightHook)(Importer *im, void *ctx, Weight *w, int nw);

static int import_einsum_dense_h(Importer *im, const Container *ct, const char *lpath, const cJSON *cfg, int x,
                                 WeightHook hook, void *ctx)
{
    const char *eq = jstr(cfg, "equation");
    if (!eq)
        return LAYER_ERR(im, "expected an 'equation' string, got %s", jdesc(&im->g->arena, jget(cfg, "equation")));
    const char *qm = jstr(cfg, "quantization_mode");
    if (qm && strcmp(qm, "None"))
        return LAYER_ERR(im, "expected no quantization_mode, got '%s' (Keras's own int8 quantization is not read)", qm);
    const cJSON *ba = jget(cfg, "bias_axes");
    int use_bias = !jis_null(ba) && cJSON_IsString(ba) && ba->valuestring[0];
    static const char *const names[] = {"kernel", "bias"};
    Weight w[2];
    if (layer_weights(im, ct, lpath, names, use_bias ? 2 : 1, w) < 0)
        return -1;
    if (hook && hook(im, ctx, w, use_bias ? 2 : 1) < 0)
        return -1;
    Tensor *tx = &im->g->t[x];
    EinsumPlan p;
    char msg[400];
    if (einsum_plan(eq, 0, tx->rank, tx->dims, w[0].rank, w[0].dims, &p, msg, sizeof msg) < 0)
        return LAYER_ERR(im, "%s (kernel of rank %d)", msg, w[0].rank);
    int od[IR_MAX_RANK], ro = einsum_out_shape(&p, od);
    long nout = 1;
    for (int k = 0; k < ro; k++)
        nout *= od[k];
    double *bias = NULL;
    if (use_bias) {   /* broadcast to the output, numpy's way (bias axes aligned at the end) */
        int off = ro - w[1].rank, ok = off >= 0;
        for (int k = 0; ok && k < w[1].rank; k++)
            ok = w[1].dims[k] == 1 || w[1].dims[k] == od[off + k];
        if (!ok) {
            char s1[96], s2[96];
            dims_str(ro, od, s1, sizeof s1);
            dims_str(w[1].rank, w[1].dims, s2, sizeof s2);
            return WEIGHT_ERR(im, "expected a bias that broadcasts to the output %s, got %s", s1, s2);
        }
        bias = arena_array(&im->g->arena, (size_t)nout, sizeof(double));
        for (long e = 0; e < nout; e++) {
            long r = e, bo = 0, stride = 1;
            for (int k = ro - 1; k >= 0; k--) {
                int c = (int)(r % od[k]);
                r /= od[k];
                if (k >= off) {
                    int bd = w[1].dims[k - off];
                    bo += (bd == 1 ? 0 : c) * stride;
                    stride *= bd;
                }
            }
            bias[e] = w[1].data[bo];
        }
    }
    const char *lname = unique_name(im, im->lname);
    int out = einsum_emit_dense(im->g, &p, lname, im->lclass, "EinsumDense", x, w[0].data, bias, msg, sizeof msg);
    if (out < 0)
        return LAYER_ERR(im, "equation '%s': %s", eq, msg);
    const cJSON *act = jget(cfg, "activation");
    const char *an = cJSON_IsString(act) ? act->valuestring : jstr(act, "class_name");
    if (jis_null(act) || (an && !strcmp(an, "linear")))
        return out;
    char base[160];
    snprintf(base, sizeof base, "%s_%s", lname, an ? an : "act");
    return quantized_layer_activation(im, base, act, out, 0);
}

static int import_einsum_dense(Importer *im, const Container *ct, const char *lpath, const cJSON *cfg, int x)
{
    return import_einsum_dense_h(im, ct, lpath, cfg, x, NULL, NULL);
}

/* The layers above: 1 and out[0] set if cls is one of them, 0 if not, -1 on error. */
static int import_conv_layer(Importer *im, const cJSON *cfg, const Container *ct, const char *lpath, const char *cls,
                             const int *in, int nin, int *out)
{
    static const char *const merges[] = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"};
    static const char *const single[] = {"Conv1D", "Conv2D", "QConv1D", "QConv2D", "DepthwiseConv1D", "DepthwiseConv2D",
                                         "QDepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "QSeparableConv1D", "QSeparableConv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
                                         "AveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
                                         "GlobalAveragePooling1D", "GlobalAveragePooling2D", "ZeroPadding1D",
                                         "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D",
                                         "Permute", "Conv1DTranspose", "Conv2DTranspose"};
    if (!cls)
        return 0;
    if (!strcmp(cls, "Dot")) {
        out[0] = import_dot(im, cfg, in, nin);
        return out[0] < 0 ? -1 : 1;
    }
    for (size_t k = 0; k < sizeof merges / sizeof merges[0]; k++)
        if (!strcmp(cls, merges[k])) {
            out[0] = import_merge(im, cls, cfg, in, nin);
            return out[0] < 0 ? -1 : 1;
        }
    size_t k = 0;
    while (k < sizeof single / sizeof single[0] && strcmp(cls, single[k]))
        k++;
    if (k == sizeof single / sizeof single[0])
        return 0;
    if (nin != 1)
        return LAYER_ERR(im, "expected one input, got %d", nin);
    if (strstr(cls, "Separable"))
        out[0] = import_separable(im, ct, lpath, cls, cfg, in[0]);
    else if (strstr(cls, "Transpose"))
        out[0] = import_conv_transpose(im, ct, lpath, cls, cfg, in[0]);
    else if (strstr(cls, "Conv"))
        out[0] = import_conv(im, ct, lpath, cls, cfg, in[0]);
    else if (strstr(cls, "Pooling"))
        out[0] = import_pool(im, cls, cfg, in[0]);
    else if (!strcmp(cls, "Permute"))
        out[0] = import_permute(im, cfg, in[0]);
    else
        out[0] = import_resize(im, cls, cfg, in[0]);
    return out[0] < 0 ? -1 : 1;
}

static int is_model_class(const char *cls)
{
    return cls && (!strcmp(cls, "Sequential") || !strcmp(cls, "Model") || !strcmp(cls, "Functional"));
}

static int import_model(Importer *im, const cJSON *m, Container *ct, const int *in, int nin, int *out, int *nout);

/* One layer call: inputs in[0..nin), outputs written to out (returns their count, or -1). */
/* ---- HGQ proxy models ---------------------------------------------------- */

/* An HGQ FixedPointQuantizer: per-element ap_[u]fixed<bits, integers> (keep_negative: signed;
 * bits and integers count the sign bit; bits = 0: pruned to 0) stored as int8 arrays of shape
 * (1, ...) broadcast over the tensor; rounding and overflow modes in the config (RND, SAT).
 * Becomes a QUANT node whose output type (pinned) is the container of the element types.
 * A quantizer reading the model input directly also fixes the input's type: the container,
 * with one more fractional bit when it rounds (RND: floor to that bit, then round, is rounding
 * from the exact value; other rounding modes: 24 fractional bits, as hls4ml) and the quantizer's
 * overflow mode. */
static int hgq_mode(Importer *im, const cJSON *cfg, const char *key, const char *const *names, int n, int def)
{
    const char *v = jstr(cfg, key);
    if (!v)
        return jget(cfg, key) ? LAYER_ERR(im, "expected '%s' to be a string, got %s", key, kind_of(jget(cfg, key))) : def;
    for (int k = 0; k < n; k++)
        if (!strcmp(v, names[k]))
            return k;
    Buf have = {0};
    for (int k = 0; k < n; k++)
        buf_printf(&have, "%s%s", k ? ", " : "", names[k]);
    LAYER_ERR(im, "expected %s among %s, got '%s'", key, have.data, v);
    buf_free(&have);
    return -1;
}

/* A QUANT node named after base on x with element types qt[0..ne) (all equal: one), modes q/o (FXQ_*, FXO_*) of the
 * quantizer, for messages and the model input's type (see import_hgq_quantizer). */
static int quant_node(Importer *im, const char *base, int x, FxType *qt, long ne, int q, int o)
{
    Graph *g = im->g;
    int rank = g->t[x].rank, dims[IR_MAX_RANK];
    memcpy(dims, g->t[x].dims, sizeof dims);
    long nq = ne;
    int same = 1;
    for (long e = 1; e < ne && same; e++)
        same = fx_type_eq(qt[e], qt[0]);
    if (same)
        nq = 1;
    FxType cont;
    if (ir_quant_container(qt, nq, &cont) < 0)
        return LAYER_ERR(im, "expected element types that fit one container of at most 64 bits, got a container of "
                             "%d bits", cont.w);
    int in[1] = {x};
    const char *lname = unique_name(im, base);
    int out = new_node(im, OP_QUANT, lname, in, 1, rank, dims);
    Node *nd = &g->n[g->nn - 1];
    nd->qtypes = qt;
    nd->nq = nq;
    nd->quantized = true;
    g->t[out].type = cont;
    g->t[out].type_pinned = true;
    int p = g->t[x].producer;
    if (p >= 0 && g->n[p].op == OP_INPUT && !g->t[x].type_pinned) {
        FxType ti = cont;
        if (q == FXQ_RND) {
            ti.w = (int16_t)(ti.w + 1);
        } else if (q != FXQ_TRN) {   /* as hls4ml: 24 fractional bits (no finite input type makes these exact) */
            ti.w = (int16_t)(ti.i + 24);
        }
        if (q != FXQ_TRN) {
            if (ti.w > (ti.sign ? 64 : 63))
                return LAYER_ERR(im, "expected an input type of at most 64 bits, got %d", ti.w);
        }
        ti.o = (uint8_t)o;
        g->t[x].type = ti;
        g->t[x].type_pinned = true;
    }
    return out;
}

static int import_hgq_quantizer(Importer *im, const Container *ct, const char *lpath, const cJSON *cfg, int x)
{
    Graph *g = im->g;
    int q = hgq_mode(im, cfg, "RND", fx_quant_names, 7, FXQ_TRN);
    int o = q < 0 ? -1 : hgq_mode(im, cfg, "SAT", fx_overflow_names, 4, FXO_WRAP);
    if (q < 0 || o < 0)
        return -1;
    static const char *const names[] = {"keep_negative", "bits", "integers"};
    Weight w[3];
    if (layer_weights(im, ct, lpath, names, 3, w) < 0)
        return -1;
    const Tensor *tx = &g->t[x];
    int rank = tx->rank, dims[IR_MAX_RANK];
    memcpy(dims, tx->dims, sizeof dims);
    long ne = ir_numel(tx);
    char s1[96], s2[96];
    dims_str(rank, dims, s1, sizeof s1);
    for (int k = 0; k < 3; k++) {
        /* (1, d1, ...) broadcast to the per-sample shape, numpy style (aligned on the right) */
        int ok = w[k].rank >= 1 && w[k].dims[0] == 1 && w[k].rank - 1 <= rank;
        for (int a = 1; a < w[k].rank && ok; a++) {
            int d = w[k].dims[a], td = dims[rank - (w[k].rank - 1) + (a - 1)];
            ok = d == 1 || d == td;
        }
        if (!ok || ir_numel(tx) < 1) {
            dims_str(w[k].rank, w[k].dims, s2, sizeof s2);
            return WEIGHT_ERR(im, "expected %s of shape (1, ...) broadcastable to the input %s, got %s", names[k], s1, s2);
        }
    }
    FxType *qt = arena_array(&g->arena, (size_t)ne, sizeof(FxType));
    for (long e = 0; e < ne; e++) {
        long rem = e, src[3] = {0, 0, 0}, stride[3] = {1, 1, 1};
        for (int a = rank - 1; a >= 0; a--) {
            long idx = rem % dims[a];
            rem /= dims[a];
            for (int k = 0; k < 3; k++) {
                int wa = a - rank + w[k].rank;   /* axis of the stored array (after the leading 1), or < 1 */
                if (wa >= 1) {
                    if (w[k].dims[wa] != 1)
                        src[k] += idx * stride[k];
                    stride[k] *= w[k].dims[wa];
                }
            }
        }
        double kn = w[0].data[src[0]], b = w[1].data[src[1]], i = w[2].data[src[2]];
        if ((kn != 0 && kn != 1) || b != floor(b) || i != floor(i) || b < 0 || b > 64 || (kn == 0 && b > 63) ||
            fabs(i) > 256) {
            return WEIGHT_ERR(im, "expected keep_negative 0 or 1, bits 0..64 (63 unsigned) and integers within +-256 at "
                                  "element %ld, got keep_negative %g, bits %g, integers %g", e, kn, b, i);
        }
        FxType t = {(int16_t)b, (int16_t)i, (uint8_t)kn, (uint8_t)q, (uint8_t)o};
        qt[e] = t;
    }
    return quant_node(im, im->lname, x, qt, ne, q, o);
}

/* A model with HGQ quantizers computes exactly between them: every layer is a quantized one. */
static void hgq_finish(Graph *g)
{
    int hgq = 0;
    for (size_t k = 0; k < g->nn && !hgq; k++)
        hgq = g->n[k].op == OP_QUANT;
    for (size_t k = 0; k < g->nn && hgq; k++)
        g->n[k].quantized = true;
}

/* ---- HGQ2 (Keras 3 .keras files, hgq2 0.2) -------------------------------- */

/* An hgq2 fixed-point quantizer (FixedPointQuantizerKIF / KBI inside an hgq Quantizer): modes from its
 * QuantizerConfig (q_type kif or kbi, round_mode, overflow_mode; S_* rounding is stochastic only in
 * training), per-element bit widths from its stored variables.  Keras 3 stores a layer's trainable
 * variables first, then the others, each in creation order, so the file holds
 *   kif: i, f, k (SAT, SAT_SYM)   or  f, k, i, i_decay_speed (WRAP: i is not trained)
 *   kbi: b, i, k                  or  b, k, i, i_decay_speed
 * with k (uint8) keeping the sign, i integer bits without the sign, f fractional bits (kbi: f = b - i),
 * the floats rounded half to even.  An element is ap_fixed<k + i + f, k + i> with the quantizer's modes,
 * and 0 where k + i + f <= 0 (pruned).  A weight quantizer (is_weight) that wraps, is trainable and is
 * kif or rounds with RND only rounds at inference: no overflow, no pruning (raw). */
typedef struct {
    int q, o;           /* FXQ_*, FXO_* */
    int kbi;
    int raw;
    Weight k, a, b;     /* k; kif: a = i, b = f; kbi: a = b, b = i */
} Hgq2Q;

static int hgq2_is(const cJSON *L)
{
    const char *mod = jstr(L, "module"), *reg = jstr(L, "registered_name");
    return (mod && !strncmp(mod, "hgq.", 4)) || (reg && !strncmp(reg, "hgq>", 4));
}

static int hgq2_qconf(Importer *im, const cJSON *conf, const char *what, int layer_trainable, Hgq2Q *q)
{
    const cJSON *c = jget(conf, "config");
    const char *cls = jstr(conf, "class_name");
    if (!cls || strcmp(cls, "QuantizerConfig") || !cJSON_IsObject(c))
        return LAYER_ERR(im, "expected %s to be an hgq QuantizerConfig, got %s", what, jdesc(&im->g->arena, conf));
    const char *qt = jstr(c, "q_type");
    if (!qt || (strcmp(qt, "kif") && strcmp(qt, "kbi")))
        return LAYER_ERR(im, "expected %s of q_type 'kif' or 'kbi' (fixed point), got %s (not supported)", what,
                         jdesc(&im->g->arena, jget(c, "q_type")));
    static const char *const opts[] = {"scaler", "affine"};
    for (int k = 0; k < 2; k++)
        if (!jis_null(jget(c, opts[k])))
            return LAYER_ERR(im, "expected %s without %s, got %s (not supported)", what, opts[k],
                             jdesc(&im->g->arena, jget(c, opts[k])));
    const cJSON *bm = jget(c, "bw_mapper");
    if (!jis_null(bm) && (!jstr(bm, "class_name") || strcmp(jstr(bm, "class_name"), "DefaultBitwidthMapper")))
        return LAYER_ERR(im, "expected %s with the default bit-width mapper, got %s (not supported)", what,
                         jdesc(&im->g->arena, bm));
    const char *rm = jstr(c, "round_mode"), *om = jstr(c, "overflow_mode");
    const char *r0 = rm && !strncmp(rm, "S_", 2) ? rm + 2 : rm;
    q->q = q->o = -1;
    for (int k = 0; r0 && k < 7; k++)
        if (!strcmp(r0, fx_quant_names[k]))
            q->q = k;
    for (int k = 0; om && k < 4; k++)
        if (!strcmp(om, fx_overflow_names[k]) && k != FXO_SAT_ZERO)
            q->o = k;
    if (q->q < 0)
        return LAYER_ERR(im, "expected %s round_mode among TRN, TRN_ZERO, RND, RND_ZERO, RND_MIN_INF, RND_INF, RND_CONV "
                             "(or S_ and one of them), got %s", what, jdesc(&im->g->arena, jget(c, "round_mode")));
    if (q->o < 0)
        return LAYER_ERR(im, "expected %s overflow_mode WRAP, SAT or SAT_SYM, got %s (not supported)", what,
                         jdesc(&im->g->arena, jget(c, "overflow_mode")));
    q->kbi = !strcmp(qt, "kbi");
    q->raw = q->o == FXO_WRAP && jbool(c, "is_weight", 0) && jbool(c, "trainable", 1) && layer_trainable &&
             (!q->kbi || q->q == FXQ_RND);
    return 0;
}

/* The variables of the quantizer whose group is gpath (<layer>/<iq|kq|bq|oq>/quantizer). */
static int hgq2_qvars(Importer *im, const char *gpath, Hgq2Q *q)
{
    static const char *const order[2][2][3] = {{{"i", "f", "k"}, {"f", "k", "i"}}, {{"b", "i", "k"}, {"b", "k", "i"}}};
    const char *const *names = order[q->kbi][q->o == FXO_WRAP];
    Weight w[3];
    memset(w, 0, sizeof w);
    if (k3_vars(im, gpath, names, 3, w) < 0)
        return -1;
    for (int k = 0; k < 3; k++) {
        Weight *dst = names[k][0] == 'k' ? &q->k : !strcmp(names[k], q->kbi ? "b" : "i") ? &q->a : &q->b;
        if ((names[k][0] == 'k') != w[k].integer)
            return WEIGHT_ERR(im, "expected variable %d under '%s/vars' to be %s (%s), got %s values", k, gpath, names[k],
                              names[k][0] == 'k' ? "integers" : "floats", w[k].integer ? "integer" : "float");
        *dst = w[k];
    }
    return 0;
}

static double hgq2_rint(double v) { return v - floor(v) == 0.5 ? 2.0 * round(v / 2.0) : round(v); }

/* k, i, f of every element of a tensor of shape dims[0..rank) (the quantizer's arrays broadcast numpy-style,
 * aligned on the right) into kif[3 * e ...]. */
static int *hgq2_expand(Importer *im, const Hgq2Q *q, const char *what, int rank, const int *dims, long *pne)
{
    const Weight *w[3] = {&q->k, &q->a, &q->b};
    char s1[96], s2[96];
    long ne = 1;
    for (int a = 0; a < rank; a++)
        ne *= dims[a];
    for (int k = 0; k < 3; k++) {
        int ok = w[k]->rank <= rank;
        for (int a = 0; a < w[k]->rank && ok; a++) {
            int d = w[k]->dims[a], td = dims[rank - w[k]->rank + a];
            ok = d == 1 || d == td;
        }
        if (!ok) {
            dims_str(rank, dims, s1, sizeof s1);
            dims_str(w[k]->rank, w[k]->dims, s2, sizeof s2);
            WEIGHT_ERR(im, "expected the %s bit widths broadcastable to %s, got an array of shape %s", what, s1, s2);
            return NULL;
        }
    }
    int *kif = arena_array(&im->g->arena, (size_t)(3 * (ne ? ne : 1)), sizeof(int));
    for (long e = 0; e < ne; e++) {
        long rem = e, src[3] = {0, 0, 0}, stride[3] = {1, 1, 1};
        for (int a = rank - 1; a >= 0; a--) {
            long idx = rem % dims[a];
            rem /= dims[a];
            for (int k = 0; k < 3; k++) {
                int wa = a - rank + w[k]->rank;
                if (wa >= 0) {
                    if (w[k]->dims[wa] != 1)
                        src[k] += idx * stride[k];
                    stride[k] *= w[k]->dims[wa];
                }
            }
        }
        double kn = w[0]->data[src[0]], va = hgq2_rint(w[1]->data[src[1]]), vb = hgq2_rint(w[2]->data[src[2]]);
        double i = q->kbi ? vb : va, f = q->kbi ? va - vb : vb;
        if ((kn != 0 && kn != 1) || fabs(i) > 100 || fabs(f) > 100) {
            WEIGHT_ERR(im, "expected the %s's k 0 or 1 and integer and fractional bits within +-100 at element %ld, got "
                           "k %g, i %g, f %g", what, e, kn, i, f);
            return NULL;
        }
        if (kn + i + f > (kn ? 64 : 63) && !q->raw) {
            WEIGHT_ERR(im, "expected the %s's element types of at most 64 bits (63 unsigned), got k + i + f = %g at "
                           "element %ld", what, kn + i + f, e);
            return NULL;
        }
        kif[3 * e] = (int)kn;
        kif[3 * e + 1] = (int)i;
        kif[3 * e + 2] = (int)f;
    }
    *pne = ne;
    return kif;
}

/* hgq2's rounding of s (already scaled by 2^f), in float32 arithmetic for float32 models, as Keras computes it. */
static double hgq2_round(int q, double s, int f32)
{
    if (f32) {
        float v = (float)s, sg = v > 0 ? 1.0f : v < 0 ? -1.0f : 0.0f;
        switch (q) {
        case FXQ_TRN: return floorf(v);
        case FXQ_RND: return floorf(v + 0.5f);
        case FXQ_RND_CONV: return nearbyintf(v);
        case FXQ_TRN_ZERO: return floorf(fabsf(v)) * sg;
        case FXQ_RND_ZERO: return -floorf(-fabsf(v) + 0.5f) * sg;
        case FXQ_RND_MIN_INF: return -floorf(-v + 0.5f);
        default: return floorf(fabsf(v) + 0.5f) * sg;   /* RND_INF */
        }
    }
    double sg = s > 0 ? 1.0 : s < 0 ? -1.0 : 0.0;
    switch (q) {
    case FXQ_TRN: return floor(s);
    case FXQ_RND: return floor(s + 0.5);
    case FXQ_RND_CONV: return nearbyint(s);
    case FXQ_TRN_ZERO: return floor(fabs(s)) * sg;
    case FXQ_RND_ZERO: return -floor(-fabs(s) + 0.5) * sg;
    case FXQ_RND_MIN_INF: return -floor(-s + 0.5);
    default: return floor(fabs(s) + 0.5) * sg;
    }
}

/* A weight x through the quantizer (element k, i, f), as hgq2's inference call computes it: saturate
 * (SAT, SAT_SYM: the bounds 2^i - 2^-f computed in the model's float type), round, wrap (WRAP), 0 where
 * pruned; raw: round only. */
static double hgq2_value(const Hgq2Q *q, int k, int i, int f, double x, int f32)
{
    if (q->raw)
        return ldexp(hgq2_round(q->q, ldexp(x, f), f32), -f);
    if (k + i + f <= 0)
        return 0.0;
    if (q->o != FXO_WRAP) {
        double mx = ldexp(1.0, i) - ldexp(1.0, -f);
        if (f32)
            mx = (float)mx;
        double mn = q->o == FXO_SAT ? -ldexp(1.0, i) * k : -mx * k;
        x = x > mx ? mx : x < mn ? mn : x;
        return ldexp(hgq2_round(q->q, ldexp(x, f), f32), -f);
    }
    double v = ldexp(hgq2_round(q->q, ldexp(x, f), f32), -f);
    double span = ldexp(1.0, i + k), bias = k ? ldexp(1.0, i + k - 1) : 0.0;
    double r = v + bias;
    return r - span * floor(r / span) - bias;
}

/* Parse the quantizer conf (what: "iq", ...) and read its variables at gpath. */
static int hgq2_load(Importer *im, const cJSON *conf, const char *gpath, const char *what, int layer_trainable, Hgq2Q *q)
{
    memset(q, 0, sizeof *q);
    if (hgq2_qconf(im, conf, what, layer_trainable, q) < 0)
        return -1;
    return hgq2_qvars(im, gpath, q);
}

/* x through the quantizer: a QUANT node named base. */
static int hgq2_quantize(Importer *im, const cJSON *conf, const char *gpath, const char *what, const char *base,
                         int layer_trainable, int x)
{
    Hgq2Q q;
    if (hgq2_load(im, conf, gpath, what, layer_trainable, &q) < 0)
        return -1;
    if (q.raw)
        return LAYER_ERR(im, "expected %s not to be a trainable WRAP weight quantizer (is_weight: hgq2 only rounds), got "
                             "one on data (not supported)", what);
    const Tensor *tx = &im->g->t[x];
    int dims[IR_MAX_RANK + 1];
    dims[0] = 1;   /* the batch axis */
    memcpy(dims + 1, tx->dims, sizeof(int) * (size_t)tx->rank);
    long ne;
    int *kif = hgq2_expand(im, &q, what, tx->rank + 1, dims, &ne);
    if (!kif)
        return -1;
    FxType *qt = arena_array(&im->g->arena, (size_t)(ne ? ne : 1), sizeof(FxType));
    for (long e = 0; e < ne; e++) {
        int k = kif[3 * e], i = kif[3 * e + 1], f = kif[3 * e + 2];
        FxType t = {0, 0, 0, (uint8_t)q.q, (uint8_t)q.o};
        if (k + i + f > 0) {
            t.w = (int16_t)(k + i + f);
            t.i = (int16_t)(k + i);
            t.sign = (uint8_t)k;
        }
        qt[e] = t;
    }
    return quant_node(im, base, x, qt, ne, q.q, q.o);
}

/* Values data[] of shape dims[0..rank) through the weight quantizer. */
static int hgq2_quantize_array(Importer *im, const cJSON *conf, const char *gpath, const char *what, int layer_trainable,
                               int rank, const int *dims, double *data, int f32)
{
    Hgq2Q q;
    if (hgq2_load(im, conf, gpath, what, layer_trainable, &q) < 0)
        return -1;
    long ne;
    int *kif = hgq2_expand(im, &q, what, rank, dims, &ne);
    if (!kif)
        return -1;
    for (long e = 0; e < ne; e++)
        data[e] = hgq2_value(&q, kif[3 * e], kif[3 * e + 1], kif[3 * e + 2], data[e], f32);
    return 0;
}

/* Constant c (a kernel or bias) through the weight quantizer. */
static int hgq2_quantize_const(Importer *im, const cJSON *conf, const char *gpath, const char *what, int layer_trainable,
                               int c, int f32)
{
    Tensor *t = &im->g->t[c];
    return hgq2_quantize_array(im, conf, gpath, what, layer_trainable, t->rank, t->const_dims, t->data, f32);
}

static int hgq2_child(char *out, size_t n, const char *gp, const char *sub)
{
    return snprintf(out, n, "%s/%s", gp, sub) >= (int)n ? -1 : 0;
}

/* The quantizers of a QBatchNormalization (kq on the per-channel scale, bq on the shift). */
typedef struct {
    const cJSON *cfg;
    const char *gp;
    int tr;
    int f32;            /* QEinsumDense: the layer computes in float32 */
} Hgq2Bn;

static int hgq2_bn_hook(Importer *im, void *ctx, int ch, double *scale, double *shift, int f32)
{
    const Hgq2Bn *b = ctx;
    char qp[700];
    if (hgq2_child(qp, sizeof qp, b->gp, "kq/quantizer") < 0)
        return LAYER_ERR(im, "expected a shorter weights path, got '%s'", b->gp);
    if (hgq2_quantize_array(im, jget(b->cfg, "kq_conf"), qp, "kq", b->tr, 1, &ch, scale, f32) < 0)
        return -1;
    snprintf(qp, sizeof qp, "%s/bq/quantizer", b->gp);
    return hgq2_quantize_array(im, jget(b->cfg, "bq_conf"), qp, "bq", b->tr, 1, &ch, shift, f32);
}

/* QEinsumDense's kernel and bias through its kq and bq (over their stored shapes). */
static int hgq2_einsum_hook(Importer *im, void *ctx, Weight *w, int nw)
{
    const Hgq2Bn *b = ctx;
    static const char *const conf[2] = {"kq_conf", "bq_conf"}, *const sub[2] = {"kq/quantizer", "bq/quantizer"};
    for (int j = 0; j < nw; j++) {
        char qp[700];
        if (hgq2_child(qp, sizeof qp, b->gp, sub[j]) < 0)
            return LAYER_ERR(im, "expected a shorter weights path, got '%s'", b->gp);
        if (hgq2_quantize_array(im, jget(b->cfg, conf[j]), qp, j ? "bq" : "kq", b->tr, w[j].rank, w[j].dims, w[j].data,
                                b->f32) < 0)
            return -1;
    }
    return 0;
}

/* QBatchNormDense: hgq2 folds a normalization of the layer's input features into the kernel and bias before
 * its quantizers, as its forward pass computes them in float32: kernel[i][u] scale[i], scale = gamma /
 * sqrt(var + eps), and bias[u] - sum_i mean[i] kernel[i][u] (the kernel not scaled; the sum in double, rounded
 * to float32 once). */
static int hgq2_bn_dense(Importer *im, const cJSON *cfg, const char *gp, int kc, int bc)
{
    int scale = jbool(cfg, "scale", 1);
    double eps = jnum(cfg, "epsilon", 1e-3);
    static const char *const all[] = {"kernel", "bias", "bn_gamma", "beta", "ebops", "moving_mean", "moving_variance"};
    const char *names[7];
    int nw = 0;
    for (int k = 0; k < 7; k++)
        if (k != 2 || scale)
            names[nw++] = all[k];
    Weight w[7];
    memset(w, 0, sizeof w);
    if (bc < 0)
        return LAYER_ERR(im, "expected use_bias true in a QBatchNormDense (hgq2 requires it), got false");
    if (k3_vars(im, gp, names, nw, w) < 0)
        return -1;
    Tensor *kt = &im->g->t[kc], *bt = &im->g->t[bc];
    int nin = kt->const_dims[0], units = kt->const_dims[1];
    const Weight *gamma = scale ? &w[2] : NULL, *mean = &w[nw - 2], *var = &w[nw - 1];
    for (int k = 2; k < nw; k++) {
        long n = 1;
        for (int j = 0; j < w[k].rank; j++)
            n *= w[k].dims[j];
        if (strcmp(names[k], "beta") && strcmp(names[k], "ebops") && n != nin)
            return WEIGHT_ERR(im, "expected %s of %d values (the input features), got %ld", names[k], nin, n);
    }
    for (int u = 0; u < units; u++) {
        double dot = 0;
        for (int i = 0; i < nin; i++)
            dot += (double)(float)mean->data[i] * (double)(float)kt->data[(long)i * units + u];
        bt->data[u] = (float)((float)bt->data[u] + -(float)dot);
    }
    for (int i = 0; i < nin; i++) {
        if (var->data[i] + eps <= 0)
            return WEIGHT_ERR(im, "expected moving_variance + epsilon > 0, got %g at feature %d", var->data[i] + eps, i);
        float sc = (gamma ? (float)gamma->data[i] : 1.0f) / sqrtf((float)var->data[i] + (float)eps);
        for (int u = 0; u < units; u++)
            kt->data[(long)i * units + u] = (float)(sc * (float)kt->data[(long)i * units + u]);
    }
    return 0;
}

/* The Keras activations a QUnaryFunctionLUT may name, in double (rounded to the model's float type after). */
static const char *const hgq2_lut_fns[] = {"linear", "relu", "tanh", "sigmoid", "softplus", "softsign", "exponential",
                                           "silu", "swish", "elu", "selu"};

static double hgq2_lut_fn(int k, double x)
{
    switch (k) {
    case 0: return x;
    case 1: return x > 0 ? x : 0.0;
    case 2: return tanh(x);
    case 3: return 1.0 / (1.0 + exp(-x));
    case 4: return x > 20 ? x : log1p(exp(x));   /* torch's softplus: x above 20 */
    case 5: return x / (1.0 + fabs(x));
    case 6: return exp(x);
    case 7:
    case 8: return x / (1.0 + exp(-x));
    case 9: return x > 0 ? x : expm1(x);
    default: return 1.0507009873554804934193349852946 * (x > 0 ? x : 1.6732632423543772848170429916717 * expm1(x));
    }
}

/* QUnaryFunctionLUT: its input quantizer (a QUANT node), then a table over every value of the quantizer's widest
 * type (its largest k, i and f over the elements, as hls4ml tabulates it) of the activation, computed in the
 * model's float type and put through the output quantizer, which must give every element one type. */
static int hgq2_lut(Importer *im, const cJSON *cfg, const char *gp, int tr, int x, int iqx)
{
    const cJSON *act = jget(cfg, "activation");
    const char *an = cJSON_IsString(act) ? act->valuestring : NULL;
    int fn = -1;
    for (int k = 0; an && k < (int)ETN_COUNTOF(hgq2_lut_fns); k++)
        if (!strcmp(an, hgq2_lut_fns[k]))
            fn = k;
    if (fn < 0)
        return LAYER_ERR(im, "expected the activation of a QUnaryFunctionLUT to be one of linear, relu, tanh, sigmoid, "
                             "softplus, softsign, exponential, silu, swish, elu, selu, got %s (not supported)",
                         jdesc(&im->g->arena, act));
    if (!jbool(cfg, "enable_iq", 1) || !jbool(cfg, "enable_oq", 1))
        return LAYER_ERR(im, "expected a QUnaryFunctionLUT with enable_iq and enable_oq true (the table is indexed by "
                             "the input quantizer's codes and holds the output quantizer's), got %s false",
                         jbool(cfg, "enable_iq", 1) ? "enable_oq" : "enable_iq");
    const cJSON *dt = jget(cfg, "dtype");
    const char *dts = cJSON_IsString(dt) ? dt->valuestring : jstr(jget(dt, "config"), "name");
    int f32 = !dts || strcmp(dts, "float64");
    Tensor *tx = &im->g->t[x];
    int dims[IR_MAX_RANK + 1], rank = tx->rank + 1;
    dims[0] = 1;
    memcpy(dims + 1, tx->dims, sizeof(int) * (size_t)tx->rank);
    char qp[700];
    Hgq2Q iq, oq;
    long ne;
    snprintf(qp, sizeof qp, "%s/iq/quantizer", gp);
    if (hgq2_load(im, jget(cfg, "iq_conf"), qp, "iq", tr, &iq) < 0)
        return -1;
    int *ik = hgq2_expand(im, &iq, "iq", rank, dims, &ne);
    if (!ik)
        return -1;
    int K = 0, I = -1000, F = -1000;
    for (long e = 0; e < ne; e++)
        if (ik[3 * e] + ik[3 * e + 1] + ik[3 * e + 2] > 0) {
            K = ik[3 * e] > K ? ik[3 * e] : K;
            I = ik[3 * e + 1] > I ? ik[3 * e + 1] : I;
            F = ik[3 * e + 2] > F ? ik[3 * e + 2] : F;
        }
    if (I == -1000 || K + I + F > 16 || K + I + F < 1)
        return LAYER_ERR(im, "expected the iq of a QUnaryFunctionLUT to span 1 to 16 bits (its widest element type), got "
                             "%s", I == -1000 ? "every element pruned" : arena_printf(&im->g->arena, "%d", K + I + F));
    snprintf(qp, sizeof qp, "%s/oq/quantizer", gp);
    if (hgq2_load(im, jget(cfg, "oq_conf"), qp, "oq", tr, &oq) < 0)
        return -1;
    int *ok = hgq2_expand(im, &oq, "oq", rank, dims, &ne);
    if (!ok)
        return -1;
    for (long e = 1; e < ne; e++)
        if (memcmp(ok + 3 * e, ok, 3 * sizeof(int)))
            return LAYER_ERR(im, "expected one output type for every element of a QUnaryFunctionLUT (one table; hls4ml "
                                 "requires allow_heterogeneous_table false), got k, i, f %d, %d, %d at element 0 and %d, "
                                 "%d, %d at element %ld (not supported)", ok[0], ok[1], ok[2], ok[3 * e], ok[3 * e + 1],
                             ok[3 * e + 2], e);
    if (ok[0] + ok[1] + ok[2] < 1)
        return LAYER_ERR(im, "expected the oq of a QUnaryFunctionLUT to keep at least one bit, got k + i + f = %d",
                         ok[0] + ok[1] + ok[2]);
    long n = 1L << (K + I + F);
    double lo = -K * ldexp(1.0, I), *lut = arena_array(&im->g->arena, (size_t)n, sizeof(double));
    for (long j = 0; j < n; j++) {
        double v = hgq2_lut_fn(fn, lo + ldexp((double)j, -F));
        if (f32)
            v = (float)v;
        lut[j] = hgq2_value(&oq, ok[0], ok[1], ok[2], v, f32);
    }
    int in[1] = {iqx};
    int out = new_node(im, OP_LUT, unique_name(im, im->lname), in, 1, tx->rank, tx->dims);
    if (out < 0)
        return -1;
    Node *nd = &im->g->n[im->g->nn - 1];
    nd->lut = lut;
    nd->nlut = n;
    nd->lut_lo = lo;
    nd->lut_f = F;
    nd->quantized = true;
    FxType t = {(int16_t)(ok[0] + ok[1] + ok[2]), (int16_t)(ok[0] + ok[1]), (uint8_t)ok[0], (uint8_t)oq.q, (uint8_t)oq.o};
    im->g->t[out].type = t;
    im->g->t[out].type_pinned = true;
    return out;
}

/* An HGQ2 layer: its input quantizer(s) (iq: QUANT nodes), the Keras layer with quantized weights (kq,
 * bq), its activation (linear or relu: exact), its output quantizer (oq). */
static int import_hgq2(Importer *im, const cJSON *cfg, const Container *ct, const char *lpath, const char *cls,
                       const int *in, int nin, int *out)
{
    static const char *const merges[] = {"QAdd", "QSubtract", "QMultiply", "QMaximum", "QMinimum"};
    int merge = 0;
    for (size_t k = 0; k < ETN_COUNTOF(merges); k++)
        merge |= !strcmp(cls, merges[k]);
    int bnd = !strcmp(cls, "QBatchNormDense"), bn = !strcmp(cls, "QBatchNormalization");
    int lut = !strcmp(cls, "QUnaryFunctionLUT"), ein = !strcmp(cls, "QEinsumDense");
    int dense = !strcmp(cls, "QDense") || bnd, conv = !strcmp(cls, "QConv1D") || !strcmp(cls, "QConv2D");
    if (strcmp(cls, "Quantizer") && !dense && !conv && !merge && !bn && !lut && !ein)
        return LAYER_ERR(im, "unsupported HGQ2 layer class: expected one of Quantizer, QDense, QBatchNormDense, "
                             "QEinsumDense, QConv1D, QConv2D, QBatchNormalization, QUnaryFunctionLUT, QAdd, QSubtract, "
                             "QMultiply, QMaximum, QMinimum, got '%s'", cls);
    if (im->wlayout != WL_KERAS3)
        return LAYER_ERR(im, "expected HGQ2 layers in a Keras 3 file (.keras, or config.json with model.weights.h5), got "
                             "a Keras 2 weights layout");
    if (!merge && nin != 1)
        return LAYER_ERR(im, "expected one input, got %d", nin);
    char gp[600], qp[700];
    if (k3_layer_group(im, ct, lpath, gp, sizeof gp) < 0)
        return -1;
    int tr = jbool(cfg, "trainable", 1);
    const char *lname = im->lname;
    if (!strcmp(cls, "Quantizer")) {
        if (hgq2_child(qp, sizeof qp, gp, "quantizer") < 0)
            return LAYER_ERR(im, "expected a shorter weights path, got '%s'", gp);
        out[0] = hgq2_quantize(im, jget(cfg, "config"), qp, "quantizer", lname, tr, in[0]);
        return out[0] < 0 ? -1 : 1;
    }
    if (!jis_null(jget(cfg, "quantization_config")))
        return LAYER_ERR(im, "expected no Keras quantization_config in an HGQ2 layer, got %s",
                         jdesc(&im->g->arena, jget(cfg, "quantization_config")));
    const cJSON *act = jget(cfg, "activation");
    const char *an = cJSON_IsString(act) ? act->valuestring : jstr(act, "class_name");
    if (lut && (!jbool(cfg, "enable_iq", 1) || !cJSON_IsString(act)))
        return hgq2_lut(im, cfg, gp, tr, in[0], in[0]);   /* refused there, naming what */
    if ((dense || conv || ein) && !jis_null(act) && (!an || (strcmp(an, "linear") && strcmp(an, "relu"))))
        return LAYER_ERR(im, "expected activation linear or relu (exact) in an HGQ2 layer, got %s (not bit-exact in "
                             "hgq2; not supported)", jdesc(&im->g->arena, act));
    int xs[MAX_IO];
    const char *base = arena_printf(&im->g->arena, "%s_iq", lname);
    for (int j = 0; j < nin; j++) {
        xs[j] = in[j];
        if (!jbool(cfg, "enable_iq", 1))
            continue;
        const cJSON *conf = jget(cfg, merge ? "iq_confs" : "iq_conf");
        if (merge && cJSON_IsArray(conf)) {
            if (cJSON_GetArraySize(conf) != nin)
                return LAYER_ERR(im, "expected %d iq_confs (one per input), got %d", nin, cJSON_GetArraySize(conf));
            conf = cJSON_GetArrayItem(conf, j);
        }
        char sub[64];
        if (merge)
            snprintf(sub, sizeof sub, j ? "iq/quantizers/quantizer_%d/quantizer" : "iq/quantizers/quantizer/quantizer", j);
        else
            snprintf(sub, sizeof sub, "iq/quantizer");
        if (hgq2_child(qp, sizeof qp, gp, sub) < 0)
            return LAYER_ERR(im, "expected a shorter weights path, got '%s'", gp);
        xs[j] = hgq2_quantize(im, conf, qp, "iq", base, tr, in[j]);
        if (xs[j] < 0)
            return -1;
    }
    int y;
    const cJSON *dt = jget(cfg, "dtype");
    const char *dts = cJSON_IsString(dt) ? dt->valuestring : jstr(jget(dt, "config"), "name");
    int f32 = !dts || strcmp(dts, "float64");
    if (merge) {
        y = import_merge(im, cls + 1, cfg, xs, nin);
    } else if (ein) {
        Hgq2Bn ctx = {cfg, gp, tr, f32};
        y = import_einsum_dense_h(im, ct, lpath, cfg, xs[0], hgq2_einsum_hook, &ctx);
    } else if (lut) {
        y = hgq2_lut(im, cfg, gp, tr, in[0], xs[0]);
        if (y >= 0) {
            out[0] = y;
            return 1;
        }
    } else if (bn) {
        Hgq2Bn ctx = {cfg, gp, tr, f32};
        y = import_batchnorm_h(im, ct, lpath, cfg, xs[0], 1, hgq2_bn_hook, &ctx);
    } else {
        size_t before = im->g->nn;
        y = dense ? import_dense(im, ct, lpath, cfg, xs[0], 0) : import_conv(im, ct, lpath, cls + 1, cfg, xs[0]);
        if (y < 0)
            return -1;
        Node *n = NULL;
        for (size_t k = before; k < im->g->nn && !n; k++)
            if (im->g->n[k].op == OP_DENSE || im->g->n[k].op == OP_CONV1D || im->g->n[k].op == OP_CONV2D)
                n = &im->g->n[k];
        if (bnd && n && hgq2_bn_dense(im, cfg, gp, n->in[1], n->in[2]) < 0)
            return -1;
        static const char *const wq[2][2] = {{"kq_conf", "kq/quantizer"}, {"bq_conf", "bq/quantizer"}};
        for (int j = 0; j < 2 && n; j++) {
            int c = n->in[1 + j];
            if (c < 0)
                continue;
            if (hgq2_child(qp, sizeof qp, gp, wq[j][1]) < 0)
                return LAYER_ERR(im, "expected a shorter weights path, got '%s'", gp);
            if (hgq2_quantize_const(im, jget(cfg, wq[j][0]), qp, j ? "bq" : "kq", tr, c, f32) < 0)
                return -1;
        }
    }
    if (y >= 0 && jbool(cfg, "enable_oq", 0)) {
        if (hgq2_child(qp, sizeof qp, gp, "oq/quantizer") < 0)
            return LAYER_ERR(im, "expected a shorter weights path, got '%s'", gp);
        y = hgq2_quantize(im, jget(cfg, "oq_conf"), qp, "oq", arena_printf(&im->g->arena, "%s_oq", lname), tr, y);
    }
    out[0] = y;
    return y < 0 ? -1 : 1;
}

static int import_layer(Importer *im, const cJSON *L, Container *ct, const char *lpath, const int *in, int nin, int *out)
{
    const char *cls = jstr(L, "class_name");
    const cJSON *cfg = jget(L, "config");
    if (is_model_class(cls)) {
        if (im->depth >= MAX_DEPTH)
            return LAYER_ERR(im, "expected models nested at most %d deep, got %d levels or more", MAX_DEPTH, MAX_DEPTH + 1);
        Container sub;
        memset(&sub, 0, sizeof sub);
        snprintf(sub.path, sizeof sub.path, "%s", lpath);
        im->scope[im->depth++] = im->lname;
        int nout = 0;
        int rc = import_model(im, L, &sub, in, nin, out, &nout);
        im->depth--;
        free(sub.used);
        return rc < 0 ? -1 : nout;
    }
    if (cls && hgq2_is(L))
        return import_hgq2(im, cfg, ct, lpath, cls, in, nin, out);
    int conv = import_conv_layer(im, cfg, ct, lpath, cls, in, nin, out);
    if (conv != 0)
        return conv;
    int x = in[0];
    if (nin != 1)
        return LAYER_ERR(im, "expected one input, got %d", nin);
    Tensor *tx = &im->g->t[x];
    if (!strcmp(cls, "Dense") || !strcmp(cls, "QDense")) {
        out[0] = import_dense(im, ct, lpath, cfg, x, cls[0] == 'Q');
    } else if (!strcmp(cls, "EinsumDense")) {
        out[0] = import_einsum_dense(im, ct, lpath, cfg, x);
    } else if (!strcmp(cls, "SimpleRNN") || !strcmp(cls, "LSTM") || !strcmp(cls, "GRU") || !strcmp(cls, "QSimpleRNN") ||
               !strcmp(cls, "QLSTM") || !strcmp(cls, "QGRU")) {
        out[0] = import_recurrent(im, ct, lpath, cfg, cls, x);
    } else if (!strcmp(cls, "Bidirectional")) {
        out[0] = import_bidirectional(im, ct, lpath, cfg, x);
    } else if (!strcmp(cls, "TimeDistributed")) {
        /* TimeDistributed(Dense): the Dense applied to every step, which the IR's Dense already does on [T, F] */
        const cJSON *inner = jget(cfg, "layer");
        const char *icls = jstr(inner, "class_name");
        if (!icls || (strcmp(icls, "Dense") && strcmp(icls, "QDense")))
            return LAYER_ERR(im, "expected TimeDistributed(Dense) or TimeDistributed(QDense), got TimeDistributed(%s) (not "
                                 "supported yet)", icls ? icls : "?");
        if (tx->rank < 2)
            return LAYER_ERR(im, "expected an input of rank 2 or more (steps, features), got rank %d", tx->rank);
        char lp[600];
        snprintf(lp, sizeof lp, "%s/layer", lpath);
        im->wname = jstr(jget(inner, "config"), "name");
        out[0] = import_dense(im, ct, im->wlayout == WL_KERAS3 ? lp : lpath, jget(inner, "config"), x, icls[0] == 'Q');
        im->wname = NULL;
    } else if (!strcmp(cls, "BinaryDense") || !strcmp(cls, "TernaryDense")) {
        out[0] = import_dense(im, ct, lpath, cfg, x, cls[0] == 'B' ? 2 : 3);
    } else if (!strcmp(cls, "Activation") || !strcmp(cls, "QActivation")) {
        const cJSON *act = jget(cfg, "activation");
        if (jis_null(act))
            return LAYER_ERR(im, "expected an activation, got none");
        out[0] = apply_activation_spec(im, im->lname, act, x);
    } else if (!strcmp(cls, "ReLU")) {
        double maxv = jnum(cfg, "max_value", NAN), slope = jnum(cfg, "negative_slope", 0), th = jnum(cfg, "threshold", 0);
        if (!isfinite(th))
            return LAYER_ERR(im, "expected a finite threshold, got %g", th);
        if (th != 0 && (slope != 0 || !isnan(maxv))) {
            char mv[64] = "none";
            if (!isnan(maxv))
                snprintf(mv, sizeof mv, "%g", maxv);
            return LAYER_ERR(im, "expected threshold %g with negative_slope 0 and no max_value (a ThresholdedReLU), "
                                 "got negative_slope %g and max_value %s (not supported)", th, slope, mv);
        }
        int in1[1] = {x};
        if (th != 0) {   /* Keras 3: x > threshold ? x : 0 */
            out[0] = new_node(im, OP_THRESHRELU, unique_name(im, im->lname), in1, 1, tx->rank, tx->dims);
            im->g->n[im->g->nn - 1].alpha = th;
        } else if (slope == 0 && isnan(maxv)) {
            out[0] = new_node(im, OP_RELU, unique_name(im, im->lname), in1, 1, tx->rank, tx->dims);
        } else if (slope == 0) {
            out[0] = new_node(im, OP_CLIP, unique_name(im, im->lname), in1, 1, tx->rank, tx->dims);
            im->g->n[im->g->nn - 1].alpha = 0.0;
            im->g->n[im->g->nn - 1].beta = maxv;
        } else if (isnan(maxv)) {
            out[0] = new_node(im, OP_LEAKYRELU, unique_name(im, im->lname), in1, 1, tx->rank, tx->dims);
            im->g->n[im->g->nn - 1].alpha = slope;
        } else {
            return LAYER_ERR(im, "expected either negative_slope or max_value, got both: negative_slope %g and max_value %g "
                                 "(not supported yet)", slope, maxv);
        }
    } else if (!strcmp(cls, "ThresholdedReLU")) {   /* Keras 2: x > theta ? x : 0 */
        double th = jnum(cfg, "theta", 1.0);
        if (!isfinite(th))
            return LAYER_ERR(im, "expected a finite theta, got %s", jdesc(&im->g->arena, jget(cfg, "theta")));
        int in1[1] = {x};
        out[0] = new_node(im, OP_THRESHRELU, unique_name(im, im->lname), in1, 1, tx->rank, tx->dims);
        im->g->n[im->g->nn - 1].alpha = th;
    } else if (!strcmp(cls, "PReLU")) {
        out[0] = import_prelu(im, ct, lpath, x);
    } else if (!strcmp(cls, "ELU")) {
        int in1[1] = {x};
        out[0] = new_node(im, OP_ELU, unique_name(im, im->lname), in1, 1, tx->rank, tx->dims);
        im->g->n[im->g->nn - 1].alpha = jnum(cfg, "alpha", 1.0);
    } else if (!strcmp(cls, "LeakyReLU")) {
        double a = jnum(cfg, "negative_slope", jnum(cfg, "alpha", 0.3));
        int in1[1] = {x};
        out[0] = new_node(im, OP_LEAKYRELU, unique_name(im, im->lname), in1, 1, tx->rank, tx->dims);
        im->g->n[im->g->nn - 1].alpha = a;
    } else if (!strcmp(cls, "Softmax")) {
        const cJSON *ax = jget(cfg, "axis");
        if (cJSON_IsArray(ax) && cJSON_GetArraySize(ax) == 1)
            ax = ax->child;
        long axis = cJSON_IsNumber(ax) ? clamp_int(ax->valuedouble) : ax ? -1000 : -1;
        if (axis < 0)
            axis += tx->rank + 1;
        if (axis < 1 || axis > tx->rank)
            return LAYER_ERR(im, "expected a softmax axis other than the batch axis (1..%d or -1), got %s", tx->rank,
                             jdesc(&im->g->arena, jget(cfg, "axis")));
        int in1[1] = {x};
        out[0] = new_node(im, OP_SOFTMAX, unique_name(im, im->lname), in1, 1, tx->rank, tx->dims);
        im->g->n[im->g->nn - 1].axis = (int)axis - 1;
    } else if (!strcmp(cls, "BatchNormalization")) {
        out[0] = import_batchnorm(im, ct, lpath, cfg, x);
    } else if (!strcmp(cls, "Embedding")) {
        out[0] = import_embedding(im, ct, lpath, cfg, x);
    } else if (!strcmp(cls, "LayerNormalization")) {
        out[0] = import_layernorm(im, ct, lpath, cfg, x);
    } else if (!strcmp(cls, "Dropout") || !strcmp(cls, "SpatialDropout1D") || !strcmp(cls, "SpatialDropout2D") ||
               !strcmp(cls, "GaussianDropout") || !strcmp(cls, "GaussianNoise") || !strcmp(cls, "AlphaDropout") ||
               !strcmp(cls, "ActivityRegularization")) {
        out[0] = x;   /* identity at inference */
    } else if (!strcmp(cls, "FixedPointQuantizer") || !strcmp(cls, "HGQ>FixedPointQuantizer")) {
        out[0] = import_hgq_quantizer(im, ct, lpath, cfg, x);
    } else if (!strcmp(cls, "Flatten")) {
        out[0] = import_reshape(im, NULL, x);
    } else if (!strcmp(cls, "Reshape")) {
        out[0] = import_reshape(im, jget(cfg, "target_shape"), x);
    } else {
        return LAYER_ERR(im, "unsupported layer class: expected one of InputLayer, Dense, Activation, ReLU, LeakyReLU, ELU, PReLU, "
                             "ThresholdedReLU, "
                             "Softmax, BatchNormalization, Embedding, Dropout, Flatten, Reshape, QDense, QActivation, BinaryDense, "
                             "SimpleRNN, LSTM, GRU, Bidirectional, TimeDistributed(Dense), "
                             "TernaryDense, Sequential, "
                             "Functional, Conv1D, Conv2D, Conv1DTranspose, Conv2DTranspose, DepthwiseConv1D/2D, SeparableConv1D/2D, QConv1D, QConv2D, QDepthwiseConv2D, QSeparableConv1D/2D, "
                             "MaxPooling1D/2D, AveragePooling1D/2D, GlobalMaxPooling1D/2D, GlobalAveragePooling1D/2D, "
                             "ZeroPadding1D/2D, "
                             "Cropping1D/2D, UpSampling1D/2D, Permute, Add, Subtract, Multiply, Average, Maximum, "
                             "Minimum, Concatenate, Dot, FixedPointQuantizer, got '%s'", cls);
    }
    return out[0] < 0 ? -1 : 1;
}

/* Set im->lname / lclass for the layer entry L; returns its name. */
static const char *enter_layer(Importer *im, const cJSON *L)
{
    const char *cls = jstr(L, "class_name");
    const char *name = jstr(jget(L, "config"), "name");
    if (!name)
        name = jstr(L, "name");
    im->lclass = cls ? cls : "?";
    im->lname = name ? name : "?";
    return name;
}

static const cJSON *input_shape_of(const cJSON *cfg)
{
    const cJSON *s = jget(cfg, "batch_input_shape");
    if (!s)
        s = jget(cfg, "batch_shape");
    return s;
}

static int import_sequential(Importer *im, const cJSON *m, Container *ct, const int *in, int nin, int *out, int *nout)
{
    const cJSON *cfg = jget(m, "config");
    const cJSON *layers = cJSON_IsArray(cfg) ? cfg : jget(cfg, "layers");
    if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) < 1)
        return LAYER_ERR(im, "expected a Sequential model with a list of layers, got %s", kind_of(layers));
    if (in && nin != 1)
        return LAYER_ERR(im, "expected one input for a Sequential model, got %d", nin);
    int cur = in ? in[0] : -1;
    for (const cJSON *L = layers->child; L; L = L->next) {
        const char *name = enter_layer(im, L);
        const char *cls = jstr(L, "class_name");
        const cJSON *lcfg = jget(L, "config");
        if (!name || !cls || !cJSON_IsObject(lcfg))
            return LAYER_ERR(im, "expected a layer with class_name and a config naming it, got %s", kind_of(L));
        char lpath[512];
        k3_path(ct, cls, lpath, sizeof lpath);
        if (!strcmp(cls, "InputLayer")) {
            if (cur < 0 && (cur = make_input(im, name, input_shape_of(lcfg))) < 0)
                return -1;
            continue;
        }
        if (cur < 0) {
            /* no InputLayer: the first layer (or the model's build config) gives the shape */
            const cJSON *shape = input_shape_of(lcfg);
            if (!shape)
                shape = jget(jget(m, "build_config"), "input_shape");
            if (!shape && cJSON_IsObject(cfg))
                shape = jget(cfg, "build_input_shape");
            char iname[160];
            snprintf(iname, sizeof iname, "%s_input", name);
            if ((cur = make_input(im, iname, shape)) < 0)
                return -1;
            enter_layer(im, L);
        }
        int o[MAX_IO];
        int n = import_layer(im, L, ct, lpath, &cur, 1, o);
        if (n < 0)
            return -1;
        if (n != 1)
            return LAYER_ERR(im, "expected one output in a Sequential model, got %d", n);
        cur = o[0];
    }
    if (cur < 0)
        return LAYER_ERR(im, "expected at least one layer, got none");
    out[0] = cur;
    *nout = 1;
    return 0;
}

/* A reference to a Keras tensor: [name, node_index, tensor_index(, kwargs)]. */
static int parse_ref(const cJSON *r, const char **name, int *node, int *tensor)
{
    if (cJSON_IsObject(r) && jstr(r, "class_name") && !strcmp(jstr(r, "class_name"), "__keras_tensor__"))
        r = jget(jget(r, "config"), "keras_history");
    if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) < 3)
        return -1;
    const cJSON *a = cJSON_GetArrayItem(r, 0), *b = cJSON_GetArrayItem(r, 1), *c = cJSON_GetArrayItem(r, 2);
    if (!cJSON_IsString(a) || !cJSON_IsNumber(c) || !(c->valuedouble >= 0 && c->valuedouble <= 1 << 20))
        return -1;   /* a tensor index out of range is no reference (the caller says what it expected) */
    *name = a->valuestring;
    *node = cJSON_IsNumber(b) && b->valuedouble >= 0 && b->valuedouble <= 1 << 20 ? (int)b->valuedouble : 0;
    *tensor = (int)c->valuedouble;
    return 0;
}

/* Collect the tensors a call reads: Keras 2 [[name, i, j, {}], ...] or Keras 3 {"args": [...]}. */
static void collect_refs(const cJSON *v, const char **names, int *nodes, int *tensors, int *n, int depth)
{
    if (!v || depth > 8 || *n >= MAX_IO)
        return;
    const char *nm;
    int t, nd;
    if (parse_ref(v, &nm, &nd, &t) == 0) {
        names[*n] = nm;
        nodes[*n] = nd;
        tensors[(*n)++] = t;
        return;
    }
    if (cJSON_IsObject(v)) {
        collect_refs(jget(v, "args"), names, nodes, tensors, n, depth + 1);
        return;
    }
    if (cJSON_IsArray(v))
        for (const cJSON *e = v->child; e; e = e->next)
            collect_refs(e, names, nodes, tensors, n, depth + 1);
}

/* input_layers / output_layers: a list of refs, or one ref (Keras 3, single). */
static int parse_io(const cJSON *v, const char **names, int *nodes, int *tensors, int *n)
{
    *n = 0;
    const char *nm;
    int t, nd;
    if (parse_ref(v, &nm, &nd, &t) == 0) {
        names[0] = nm;
        nodes[0] = nd;
        tensors[0] = t;
        *n = 1;
        return 0;
    }
    if (!cJSON_IsArray(v))
        return -1;
    for (const cJSON *e = v->child; e; e = e->next) {
        if (*n >= MAX_IO || parse_ref(e, &names[*n], &nodes[*n], &tensors[*n]) < 0)
            return -1;
        (*n)++;
    }
    return 0;
}

static int slot_find(const Slot *s, size_t n, const char *layer, int node, int tensor)
{
    for (size_t k = 0; k < n; k++)
        if (!strcmp(s[k].layer, layer) && s[k].tensor == tensor && (s[k].node < 0 || s[k].node == node))
            return s[k].id;
    return -1;
}

static int import_functional(Importer *im, const cJSON *m, Container *ct, const int *in, int nin, int *out, int *nout)
{
    const cJSON *cfg = jget(m, "config");
    const cJSON *layers = jget(cfg, "layers");
    const char *model_name = jstr(cfg, "name");
    im->lname = model_name ? model_name : "model";
    im->lclass = jstr(m, "class_name");
    if (!cJSON_IsArray(layers))
        return LAYER_ERR(im, "expected a functional model with a list of layers, got %s", kind_of(layers));
    const char *inames[MAX_IO], *onames[MAX_IO];
    int itens[MAX_IO], otens[MAX_IO], inodes[MAX_IO], onodes[MAX_IO], ni, no;
    if (parse_io(jget(cfg, "input_layers"), inames, inodes, itens, &ni) < 0 || ni < 1)
        return LAYER_ERR(im, "expected input_layers as [name, node, tensor] references, got %s",
                         kind_of(jget(cfg, "input_layers")));
    if (parse_io(jget(cfg, "output_layers"), onames, onodes, otens, &no) < 0 || no < 1)
        return LAYER_ERR(im, "expected output_layers as [name, node, tensor] references, got %s",
                         kind_of(jget(cfg, "output_layers")));
    if (in && nin != ni)
        return LAYER_ERR(im, "expected %d inputs for this model, got %d", ni, nin);
    int nl = cJSON_GetArraySize(layers);
    Slot *slots = NULL;
    size_t ns = 0, cs = 0;
    char (*paths)[512] = calloc((size_t)nl + 1, sizeof *paths);
    int *done = calloc((size_t)nl + 1, sizeof(int));   /* calls of each layer imported */
    int rc = -1;
    if (!paths || !done)
        goto out;
    /* Keras 3 weight paths follow the order of the layer list */
    int k = 0;
    for (const cJSON *L = layers->child; L; L = L->next, k++) {
        const char *cls = jstr(L, "class_name");
        k3_path(ct, cls ? cls : "", paths[k], sizeof paths[k]);
    }
    for (int i = 0; i < ni; i++) {
        int id = -1;
        if (in) {
            id = in[i];
        } else {
            for (const cJSON *L = layers->child; L && id < 0; L = L->next) {
                const char *name = enter_layer(im, L);
                if (name && !strcmp(name, inames[i])) {
                    if (!jstr(L, "class_name") || strcmp(jstr(L, "class_name"), "InputLayer")) {
                        LAYER_ERR(im, "expected model input '%s' to be an InputLayer, got a %s", inames[i],
                                  jstr(L, "class_name") ? jstr(L, "class_name") : "layer without class_name");
                        goto out;
                    }
                    if ((id = make_input(im, name, input_shape_of(jget(L, "config")))) < 0)
                        goto out;
                }
            }
            if (id < 0) {
                diag_error(im->d, "%s: model '%s': expected input layer '%s' among the layers, got none", im->file,
                           model_name ? model_name : "", inames[i]);
                goto out;
            }
        }
        Slot s = {inames[i], itens[i], id, -1};
        VEC_PUSH(slots, ns, cs, s);
    }
    /* layers whose inputs are known, until none is left (or no progress) */
    for (int progress = 1; progress;) {
        progress = 0;
        k = 0;
        for (const cJSON *L = layers->child; L; L = L->next, k++) {
            if (done[k] < 0)
                continue;
            const char *name = enter_layer(im, L);
            const char *cls = jstr(L, "class_name");
            if (!name || !cls) {
                LAYER_ERR(im, "expected a layer with a name and a class_name, got %s", kind_of(L));
                goto out;
            }
            if (!strcmp(cls, "InputLayer")) {
                done[k] = -1;
                continue;
            }
            const cJSON *calls = jget(L, "inbound_nodes");
            if (!cJSON_IsArray(calls)) {
                LAYER_ERR(im, "expected inbound_nodes as a list, got %s", kind_of(calls));
                goto out;
            }
            int ncalls = cJSON_GetArraySize(calls);
            if (ncalls > 1 && is_model_class(cls)) {
                LAYER_ERR(im, "expected a nested model to be called once, got %d calls (shared nested models are not "
                              "supported yet; shared layers are)", ncalls);
                goto out;
            }
            /* a shared layer: each call (in the order Keras lists them) is its own nodes, with the same weights */
            while (done[k] >= 0 && done[k] < ncalls) {
                const char *rn[MAX_IO];
                int rt[MAX_IO], rnd[MAX_IO], nr = 0, ids[MAX_IO];
                collect_refs(cJSON_GetArrayItem(calls, done[k]), rn, rnd, rt, &nr, 0);
                if (nr < 1) {
                    LAYER_ERR(im, "expected the call to read at least one tensor, got none");
                    goto out;
                }
                int ready = 1;
                for (int r = 0; r < nr && ready; r++)
                    ready = (ids[r] = slot_find(slots, ns, rn[r], rnd[r], rt[r])) >= 0;
                if (!ready)
                    break;
                int o[MAX_IO];
                int n = import_layer(im, L, ct, paths[k], ids, nr, o);
                if (n < 0)
                    goto out;
                enter_layer(im, L);
                for (int j = 0; j < n; j++) {
                    Slot s = {name, j, o[j], ncalls > 1 ? done[k] : -1};
                    VEC_PUSH(slots, ns, cs, s);
                }
                done[k]++;
                progress = 1;
            }
            if (done[k] == ncalls)
                done[k] = -1;
        }
    }
    k = 0;
    for (const cJSON *L = layers->child; L; L = L->next, k++)
        if (done[k] >= 0) {
            enter_layer(im, L);
            const char *rn[MAX_IO];
            int rt[MAX_IO], rnd[MAX_IO], nr = 0, r = 0;
            collect_refs(cJSON_GetArrayItem(jget(L, "inbound_nodes"), done[k]), rn, rnd, rt, &nr, 0);
            while (r < nr - 1 && slot_find(slots, ns, rn[r], rnd[r], rt[r]) >= 0)
                r++;
            LAYER_ERR(im, "expected inputs computed by other layers of the model, got a reference to '%s' (tensor %d): "
                          "an unknown layer or a cycle", nr ? rn[r] : "", nr ? rt[r] : 0);
            goto out;
        }
    for (int i = 0; i < no; i++) {
        int id = slot_find(slots, ns, onames[i], onodes[i], otens[i]);
        if (id < 0) {
            diag_error(im->d, "%s: model '%s': expected output '%s' (tensor %d) to be computed by a layer, got none",
                       im->file, model_name ? model_name : "", onames[i], otens[i]);
            goto out;
        }
        out[i] = id;
    }
    *nout = no;
    rc = 0;
out:
    free(slots);
    free(paths);
    free(done);
    return rc;
}

static int import_model(Importer *im, const cJSON *m, Container *ct, const int *in, int nin, int *out, int *nout)
{
    const char *cls = jstr(m, "class_name");
    if (cls && !strcmp(cls, "Sequential"))
        return import_sequential(im, m, ct, in, nin, out, nout);
    if (cls && (!strcmp(cls, "Model") || !strcmp(cls, "Functional")))
        return import_functional(im, m, ct, in, nin, out, nout);
    return diag_error(im->d, "%s: expected a Keras model of class Sequential, Functional or Model, got %s%s%s", im->file,
                      cls ? "'" : "", cls ? cls : "no class_name", cls ? "'" : "");
}

/* ---- files ------------------------------------------------------------- */

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* Open an HDF5 file from disk or from memory (image != NULL). */
static hid_t h5_open(Diag *d, const char *path, const void *image, size_t len)
{
    if (!image) {
        FILE *f = fopen(path, "rb");
        if (!f)
            return diag_error(d, "%s: cannot open the weights file", path);
        fclose(f);
        htri_t is = H5Fis_hdf5(path);
        if (is <= 0)
            return diag_error(d, "%s: expected an HDF5 file, got data without the HDF5 signature (truncated or corrupt)",
                              path);
        hid_t f2 = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f2 < 0)
            return diag_error(d, "%s: expected a readable HDF5 file, got one HDF5 cannot open (truncated or corrupt)", path);
        return f2;
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t f = -1;
    if (fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0 && H5Pset_file_image(fapl, (void *)image, len) >= 0)
        f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (f < 0)
        return diag_error(d, "%s: expected a readable HDF5 file, got one HDF5 cannot open (truncated or corrupt)", path);
    return f;
}

/* Find the weights' root and layout in an open file. */
static int weights_root(Importer *im)
{
    hid_t f = im->h5;
    if (H5Lexists(f, "model_weights", H5P_DEFAULT) > 0)
        im->wroot = H5Gopen2(f, "model_weights", H5P_DEFAULT);
    else
        im->wroot = H5Gopen2(f, "/", H5P_DEFAULT);
    if (im->wroot < 0)
        return diag_error(im->d, "%s: expected a group of weights, got none", im->wfile);
    if (H5Aexists(im->wroot, "layer_names") > 0) {
        im->wlayout = WL_KERAS2;
        return 0;
    }
    if (H5Lexists(im->wroot, "layers", H5P_DEFAULT) > 0 || H5Lexists(im->wroot, "vars", H5P_DEFAULT) > 0) {
        im->wlayout = WL_KERAS3;
        return 0;
    }
    return diag_error(im->d, "%s: expected Keras weights (a layer_names attribute, or a Keras 3 'layers' group), got "
                             "neither", im->wfile);
}

static char *zip_entry(Diag *d, zip_t *z, const char *path, const char *name, size_t *len)
{
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(z, name, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE)) {
        diag_error(d, "%s: expected a Keras 3 archive holding '%s', got none", path, name);
        return NULL;
    }
    if (st.size > (1u << 30)) {
        diag_error(d, "%s: expected '%s' of at most 1 GiB, got %llu bytes", path, name, (unsigned long long)st.size);
        return NULL;
    }
    zip_file_t *zf = zip_fopen(z, name, 0);
    char *buf = malloc((size_t)st.size + 1);
    zip_int64_t got = zf && buf ? zip_fread(zf, buf, st.size) : -1;
    if (zf)
        zip_fclose(zf);
    if (got < 0 || (zip_uint64_t)got != st.size) {
        free(buf);
        diag_error(d, "%s: expected a readable '%s' in the archive, got a read error (corrupt archive?)", path, name);
        return NULL;
    }
    buf[st.size] = 0;
    *len = (size_t)st.size;
    return buf;
}

static void set_model_name(Graph *g, const char *file)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char stem[96];
    snprintf(stem, sizeof stem, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot)
        *dot = 0;
    for (char *c = stem; *c; c++)
        if (!isalnum((unsigned char)*c))
            *c = '_';
    g->name = isalpha((unsigned char)stem[0]) ? arena_strdup(&g->arena, stem) : arena_printf(&g->arena, "m_%s", stem);
}

/* A Keras model from a file (mem == NULL) or from memory (mem, mlen: the
 * bytes of a .keras archive or of a Keras 2 .h5 file; path names it in
 * messages). */
/* Python's json writes float('inf') as Infinity (hgq2: i_decay_speed), which JSON lacks: outside strings,
 * Infinity becomes 1e999 (strtod: inf) and spaces, in place. */
static void json_infinity(char *s)
{
    int in_str = 0;
    for (char *p = s; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_str = 0;
        } else if (*p == '"') {
            in_str = 1;
        } else if (!strncmp(p, "Infinity", 8)) {
            memcpy(p, "1e999   ", 8);
            p += 7;
        }
    }
}

static int load_model(Graph *g, Diag *d, const char *path, const char *weights_path, const void *mem, size_t mlen)
{
    Importer im;
    memset(&im, 0, sizeof im);
    im.g = g;
    im.d = d;
    im.file = path;
    im.h5 = -1;
    im.wroot = -1;
    im.lname = "";
    im.lclass = "";
    im.scratch = cJSON_CreateArray();
    int rc = -1;
    char *json_text = NULL, *wimage = NULL, *version = NULL;
    size_t wlen = 0;
    cJSON *doc = NULL;
    zip_t *z = NULL;
    char wpath[1024];

    /* hdf5 prints its own error stack unless told not to; restore it after */
    H5E_auto2_t old_func;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    static const unsigned char hdf5_sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    int mem_h5 = mem && mlen >= 8 && !memcmp(mem, hdf5_sig, 8);
    if (mem && !mem_h5) {
        zip_error_t ze;
        zip_error_init(&ze);
        zip_source_t *src = zip_source_buffer_create(mem, mlen, 0, &ze);
        z = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
        if (!z) {
            diag_error(d, "%s: expected a Keras 3 archive (zip) or a Keras .h5 file, got data libzip cannot open (%s)",
                       path, zip_error_strerror(&ze));
            if (src)
                zip_source_free(src);
            zip_error_fini(&ze);
            goto done;
        }
        zip_error_fini(&ze);
    }
    if (mem_h5) {
        if ((im.h5 = h5_open(d, path, mem, mlen)) < 0)
            goto done;
        json_text = h5_attr_string(im.h5, "model_config");
        if (!json_text) {
            diag_error(d, "%s: expected a Keras model (HDF5 data with a model_config attribute), got none", path);
            goto done;
        }
        version = h5_attr_string(im.h5, "keras_version");
        snprintf(wpath, sizeof wpath, "%s", path);
    } else if (mem) {
        /* read below, as a .keras file */
    } else if (has_suffix(path, ".json")) {
        size_t len;
        json_text = (char *)util_read_file(d, path, &len);
        if (!json_text)
            goto done;
        if (weights_path) {
            snprintf(wpath, sizeof wpath, "%s", weights_path);
        } else {
            /* NAME_weights.h5 (Keras 2 examples) or NAME.weights.h5 (Keras 3 save_weights) */
            FILE *f = NULL;
            for (int k = 0; k < 2 && !f; k++) {
                snprintf(wpath, sizeof wpath, "%.*s%s", (int)(strlen(path) - 5), path, k ? ".weights.h5" : "_weights.h5");
                f = fopen(wpath, "rb");
            }
            if (!f) {
                diag_error(d, "%s: expected weights in %.*s_weights.h5 beside it (or given with --weights FILE.h5), got "
                              "no such file", path, (int)(strlen(path) - 5), path);
                goto done;
            }
            fclose(f);
        }
        if ((im.h5 = h5_open(d, wpath, NULL, 0)) < 0)
            goto done;
    } else if (has_suffix(path, ".h5")) {
        if ((im.h5 = h5_open(d, path, NULL, 0)) < 0)
            goto done;
        json_text = h5_attr_string(im.h5, "model_config");
        if (!json_text) {
            diag_error(d, "%s: expected a Keras model (an HDF5 file with a model_config attribute), got none: a weights-only "
                          "file goes with the architecture JSON (MODEL.json --weights %s)", path, path);
            goto done;
        }
        version = h5_attr_string(im.h5, "keras_version");
        snprintf(wpath, sizeof wpath, "%s", path);
        if (weights_path) {
            H5Fclose(im.h5);
            snprintf(wpath, sizeof wpath, "%s", weights_path);
            if ((im.h5 = h5_open(d, wpath, NULL, 0)) < 0)
                goto done;
        }
    }
    if (!mem && has_suffix(path, ".keras")) {
        int err = 0;
        z = zip_open(path, ZIP_RDONLY, &err);
        if (!z) {
            zip_error_t ze;
            zip_error_init_with_code(&ze, err);
            diag_error(d, "%s: expected a Keras 3 archive (zip), got a file libzip cannot open (%s)", path,
                       zip_error_strerror(&ze));
            zip_error_fini(&ze);
            goto done;
        }
    }
    if (z) {
        size_t len;
        json_text = zip_entry(d, z, path, "config.json", &len);
        if (!json_text)
            goto done;
        char *meta = zip_name_locate(z, "metadata.json", 0) >= 0 ? zip_entry(d, z, path, "metadata.json", &len) : NULL;
        if (meta) {
            cJSON *mj = cJSON_Parse(meta);
            const char *v = jstr(mj, "keras_version");
            if (v)
                version = strdup(v);
            cJSON_Delete(mj);
            free(meta);
        }
        if (weights_path) {
            snprintf(wpath, sizeof wpath, "%s", weights_path);
            if ((im.h5 = h5_open(d, wpath, NULL, 0)) < 0)
                goto done;
        } else {
            snprintf(wpath, sizeof wpath, "%s:model.weights.h5", path);
            wimage = zip_entry(d, z, path, "model.weights.h5", &wlen);
            if (!wimage)
                goto done;
            if ((im.h5 = h5_open(d, wpath, wimage, wlen)) < 0)
                goto done;
        }
    } else if (!mem && !has_suffix(path, ".json") && !has_suffix(path, ".h5")) {
        diag_error(d, "%s: expected a Keras model ending in .json, .h5 or .keras, got '%s'", path,
                   strrchr(path, '.') && !strchr(strrchr(path, '.'), '/') ? strrchr(path, '.') : "no extension");
        goto done;
    }
    im.wfile = wpath;
    if (weights_root(&im) < 0)
        goto done;

    json_infinity(json_text);
    doc = cJSON_Parse(json_text);
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        diag_error(d, "%s: expected a Keras model configuration in JSON, got a syntax error near '%.20s'", path, at ? at : "");
        goto done;
    }
    const cJSON *model = doc;
    if (!jstr(model, "class_name") && jget(model, "config") == NULL) {
        diag_error(d, "%s: expected a Keras model configuration (class_name and config), got none", path);
        goto done;
    }
    const char *kv = version ? version : jstr(doc, "keras_version");
    im.keras3 = kv ? kv[0] >= '3' : jget(doc, "module") != NULL;
    set_model_name(g, path);

    Container top;
    memset(&top, 0, sizeof top);
    int outs[MAX_IO], nout = 0;
    int r = import_model(&im, model, &top, NULL, 0, outs, &nout);
    free(top.used);
    if (r < 0)
        goto done;
    for (int k = 0; k < nout; k++) {
        if (g->t[outs[k]].producer < 0 || g->n[g->t[outs[k]].producer].op == OP_INPUT) {
            diag_error(d, "%s: expected outputs computed by layers, got the input '%s' itself", path, g->t[outs[k]].name);
            goto done;
        }
        VEC_PUSH(g->outputs, g->noutputs, g->coutputs, outs[k]);
    }
    hgq_finish(g);
    if (g->ninputs == 0 || g->noutputs == 0) {
        diag_error(d, "%s: expected a model with inputs and outputs, got none", path);
        goto done;
    }
    rc = 0;
done:
    if (im.wroot >= 0)
        H5Gclose(im.wroot);
    if (im.h5 >= 0)
        H5Fclose(im.h5);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    if (z)
        zip_discard(z);
    cJSON_Delete(doc);
    cJSON_Delete(im.scratch);
    free(json_text);
    free(wimage);
    free(version);
    free(im.used);
    return rc;
}

int keras_load(Graph *g, Diag *d, const char *path, const char *weights_path)
{
    return load_model(g, d, path, weights_path, NULL, 0);
}

int keras_load_buffer(Graph *g, Diag *d, const void *buf, size_t len, const char *name)
{
    if (!buf || len == 0)
        return diag_error(d, "%s: expected a Keras model in memory (.keras or .h5 bytes), got no data", name);
    return load_model(g, d, name, NULL, buf, len);
}
