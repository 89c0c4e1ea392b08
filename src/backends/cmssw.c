/* cmssw.c — the CMSSW emulator library (--emit cmssw, issue 14 item 5).
 *
 * CMS Level-1 trigger emulators run hls4ml networks through the
 * hls4mlEmulatorExtras package: a model is a shared library that exports two
 * extern "C" functions, create_model() returning a new hls4mlEmulator::Model*
 * and destroy_model(Model*), and an hls4mlEmulator::ModelLoader constructed
 * with the model's name ("NAME_v1") dlopens "NAME_v1.so" (RTLD_LAZY |
 * RTLD_LOCAL; found on LD_LIBRARY_PATH, i.e. the externals' lib folder) and
 * returns the model.  The class has three pure virtual methods taking or
 * returning nothing but std::any: prepare_input(std::any), predict(),
 * read_result(std::any), and a virtual destructor.  That is all this writer
 * relies on; the interface header written here (include/hls4ml/emulator.h)
 * declares only that, for building outside CMSSW; inside CMSSW the external's
 * header of the same include path is used instead.
 *
 * DIR/cmssw/ holds:
 *   c/NAME.{c,h}             the C emulator, written by cemu_write itself: the
 *                            arithmetic is `etchnn predict`'s by construction;
 *   NAME_vN.cpp              the class (NAME_predict on doubles) and the factories;
 *   include/hls4ml/emulator.h, exports.map, Makefile, README.md.
 *
 * Two versions of one model in one process: the C emulator's symbols
 * (NAME_predict, NAME_predict_codes) have the same names in both libraries.
 * Everything is compiled with -fvisibility=hidden (calls inside the library
 * bind inside it, never through the PLT to another library's copy) and linked
 * with a version script whose only global symbols are create_model and
 * destroy_model: the .so exports nothing else, whether loaded RTLD_LOCAL (as
 * ModelLoader does) or RTLD_GLOBAL. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backends.h"
#include "backends/cmssw.h"
#include "etchnn.h"
#include "util/names.h"

int cmssw_parse_version(Diag *d, const char *value)
{
    long v = 0;
    const char *p = value;
    for (; *p >= '0' && *p <= '9' && v <= CMSSW_VERSION_MAX; p++)
        v = v * 10 + (*p - '0');
    if (p == value || *p || v < 1 || v > CMSSW_VERSION_MAX)
        return diag_error(d, "--cmssw-version: expected a positive integer (1 to %d; the library is NAME_v<N>.so), "
                          "got '%s'", CMSSW_VERSION_MAX, value);
    return (int)v;
}

/* Template text: @KEY@ becomes the value of KEY; any other '@' is copied. */
typedef struct {
    const char *key, *value;
} Subst;

static void expand(Buf *b, const char *t, const Subst *s, size_t ns)
{
    while (*t) {
        const char *at = strchr(t, '@');
        if (!at) {
            buf_append(b, t, strlen(t));
            return;
        }
        buf_append(b, t, (size_t)(at - t));
        const char *end = strchr(at + 1, '@');
        size_t k = ns;
        if (end)
            for (k = 0; k < ns; k++)
                if (strlen(s[k].key) == (size_t)(end - at - 1) && !strncmp(at + 1, s[k].key, (size_t)(end - at - 1)))
                    break;
        if (k < ns) {
            buf_append(b, s[k].value, strlen(s[k].value));
            t = end + 1;
        } else {
            buf_append(b, "@", 1);
            t = at + 1;
        }
    }
}

/* @V@ etchnn's version. */
static const char emulator_h[] =
    "// hls4ml/emulator.h: the hls4mlEmulator::Model interface, written by etchnn @V@ so that this\n"
    "// library builds on its own.  Inside CMSSW the hls4mlEmulatorExtras external provides the header\n"
    "// of the same include path, and that one is used instead (make EMULATOR_INCLUDE=...).  The two\n"
    "// agree on everything a model library uses:\n"
    "//   namespace hls4mlEmulator, class Model with the pure virtual methods\n"
    "//     void prepare_input(std::any input), void predict(), void read_result(std::any result)\n"
    "//   and the virtual destructor ~Model() = default; the factory types\n"
    "//     typedef Model *create_model_cls();  typedef void destroy_model_cls(Model *);\n"
    "// The ModelLoader class (which dlopens NAME.so and calls the factories) lives in the external's\n"
    "// own library and is not declared here.\n"
    "#ifndef ETCHNN_HLS4ML_EMULATOR_H\n"
    "#define ETCHNN_HLS4ML_EMULATOR_H\n"
    "\n"
    "#include <any>\n"
    "\n"
    "namespace hls4mlEmulator {\n"
    "\n"
    "// A network behind three calls: take one event's inputs, evaluate, hand out the outputs.\n"
    "class Model {\n"
    "public:\n"
    "    virtual void prepare_input(std::any input) = 0;\n"
    "    virtual void predict() = 0;\n"
    "    virtual void read_result(std::any result) = 0;\n"
    "    virtual ~Model() = default;\n"
    "};\n"
    "\n"
    "// What a model library exports with C linkage: create_model() and destroy_model(Model *).\n"
    "typedef Model *create_model_cls();\n"
    "typedef void destroy_model_cls(Model *);\n"
    "\n"
    "}  // namespace hls4mlEmulator\n"
    "\n"
    "#endif\n";

/* @C@ class and library name (NAME_vN), @P@ the C emulator's prefix (NAME), @N@ the version,
 * @F@ the model file (a comment), @NI@/@NO@ value counts, @TI@/@TO@ their types. */
static const char model_cpp[] =
    "// @C@.cpp: the hls4mlEmulator::Model of @F@ (version @N@), generated by etchnn @V@. Do not edit.\n"
    "// One event: @NI@ input values (type @TI@), @NO@ output values (type @TO@), in the order of the\n"
    "// columns of `etchnn predict`.  The arithmetic is the C emulator's (c/@P@.c, the file that\n"
    "// `etchnn compile --emit c` writes): the outputs are etchnn predict's, bit for bit.\n"
    "//\n"
    "// prepare_input(std::any) takes std::vector<float> or std::vector<double> of exactly @NI@ values\n"
    "// (by value, or a pointer to one, const or not), or a float* or double* (const or not) to @NI@\n"
    "// values; inputs are quantized to @TI@ as etchnn predict does.  read_result(std::any) takes a\n"
    "// std::vector<float>* or std::vector<double>* (resized to @NO@), or a float* or double* to room for\n"
    "// @NO@ values.  A float holds every output exactly when the output type has at most 24 significant\n"
    "// bits; a double when at most 53.  Anything else throws std::invalid_argument naming what was\n"
    "// expected.  Before the first prepare_input the inputs are 0; before the first predict the\n"
    "// outputs are 0.  One object is not safe to share between threads; separate objects are.\n"
    "#include <any>\n"
    "#include <cstddef>\n"
    "#include <stdexcept>\n"
    "#include <string>\n"
    "#include <vector>\n"
    "\n"
    "#include \"hls4ml/emulator.h\"\n"
    "\n"
    "extern \"C\" {\n"
    "#include \"c/@P@.h\"\n"
    "}\n"
    "\n"
    "namespace {\n"
    "\n"
    "const std::size_t kIn = @P@_N_IN, kOut = @P@_N_OUT;\n"
    "\n"
    "const char kInputs[] =\n"
    "    \"std::vector<float> or std::vector<double> of @NI@ values (or a pointer to one), or a float* or \"\n"
    "    \"double* to @NI@ values\";\n"
    "const char kResults[] =\n"
    "    \"std::vector<float>* or std::vector<double>* (resized to @NO@ values), or a float* or double* to \"\n"
    "    \"room for @NO@ values\";\n"
    "\n"
    "[[noreturn]] void refuse(const char *method, const std::string &what)\n"
    "{\n"
    "    throw std::invalid_argument(std::string(\"@C@::\") + method + \": \" + what);\n"
    "}\n"
    "\n"
    "std::string held(const std::any &a)\n"
    "{\n"
    "    return a.has_value() ? std::string(\"a std::any holding \") + a.type().name() : \"an empty std::any\";\n"
    "}\n"
    "\n"
    "// The vector a std::any holds by value or by pointer (const or not); nullptr when none.\n"
    "template <typename T> const std::vector<T> *vector_in(const std::any &a, bool *null)\n"
    "{\n"
    "    const std::vector<T> *v = std::any_cast<std::vector<T>>(&a);\n"
    "    if (!v) {\n"
    "        if (const auto *p = std::any_cast<std::vector<T> *>(&a))\n"
    "            *null = !(v = *p);\n"
    "        else if (const auto *q = std::any_cast<const std::vector<T> *>(&a))\n"
    "            *null = !(v = *q);\n"
    "    }\n"
    "    return v;\n"
    "}\n"
    "\n"
    "class @C@ final : public hls4mlEmulator::Model {\n"
    "public:\n"
    "    void prepare_input(std::any input) override\n"
    "    {\n"
    "        if (!take<float>(input) && !take<double>(input))\n"
    "            refuse(\"prepare_input\", std::string(\"expected \") + kInputs + \", got \" + held(input));\n"
    "    }\n"
    "\n"
    "    void predict() override { @P@_predict(in_, out_); }\n"
    "\n"
    "    void read_result(std::any result) override\n"
    "    {\n"
    "        if (!give<float>(result) && !give<double>(result))\n"
    "            refuse(\"read_result\", std::string(\"expected \") + kResults + \", got \" + held(result));\n"
    "    }\n"
    "\n"
    "private:\n"
    "    double in_[kIn] = {};\n"
    "    double out_[kOut] = {};\n"
    "\n"
    "    template <typename T> bool take(const std::any &a)\n"
    "    {\n"
    "        bool null = false;\n"
    "        const T *p = nullptr;\n"
    "        if (const std::vector<T> *v = vector_in<T>(a, &null)) {\n"
    "            if (v->size() != kIn)\n"
    "                refuse(\"prepare_input\", \"expected @NI@ input values, got a vector of \" +\n"
    "                                              std::to_string(v->size()));\n"
    "            p = v->data();\n"
    "        } else if (const auto *q = std::any_cast<T *>(&a)) {\n"
    "            p = *q;\n"
    "            null = !p;\n"
    "        } else if (const auto *r = std::any_cast<const T *>(&a)) {\n"
    "            p = *r;\n"
    "            null = !p;\n"
    "        }\n"
    "        if (null)\n"
    "            refuse(\"prepare_input\", \"expected @NI@ input values, got a null pointer\");\n"
    "        if (!p)\n"
    "            return false;\n"
    "        for (std::size_t k = 0; k < kIn; k++)\n"
    "            in_[k] = static_cast<double>(p[k]);\n"
    "        return true;\n"
    "    }\n"
    "\n"
    "    template <typename T> bool give(const std::any &a) const\n"
    "    {\n"
    "        T *p = nullptr;\n"
    "        bool found = false;\n"
    "        if (const auto *v = std::any_cast<std::vector<T> *>(&a)) {\n"
    "            found = true;\n"
    "            if (*v) {\n"
    "                (*v)->resize(kOut);\n"
    "                p = (*v)->data();\n"
    "            }\n"
    "        } else if (const auto *q = std::any_cast<T *>(&a)) {\n"
    "            found = true;\n"
    "            p = *q;\n"
    "        }\n"
    "        if (found && !p)\n"
    "            refuse(\"read_result\", \"expected room for @NO@ output values, got a null pointer\");\n"
    "        if (!found)\n"
    "            return false;\n"
    "        for (std::size_t k = 0; k < kOut; k++)\n"
    "            p[k] = static_cast<T>(out_[k]);\n"
    "        return true;\n"
    "    }\n"
    "};\n"
    "\n"
    "}  // namespace\n"
    "\n"
    "// The only symbols the library exports (exports.map): ModelLoader looks them up with dlsym.\n"
    "extern \"C\" __attribute__((visibility(\"default\"))) hls4mlEmulator::Model *create_model()\n"
    "{\n"
    "    return new @C@();\n"
    "}\n"
    "\n"
    "extern \"C\" __attribute__((visibility(\"default\"))) void destroy_model(hls4mlEmulator::Model *m)\n"
    "{\n"
    "    delete m;\n"
    "}\n";

static const char exports_map[] =
    "/* exports.map: the symbols @C@.so exports (ld --version-script).  Everything else, the C\n"
    "   emulator's @P@_* functions included, stays inside the library, so that two versions of\n"
    "   one model load in one process without one's symbols standing in for the other's. */\n"
    "{\n"
    "  global:\n"
    "    create_model;\n"
    "    destroy_model;\n"
    "  local:\n"
    "    *;\n"
    "};\n";

static const char makefile[] =
    "# Makefile: builds @C@.so, the hls4mlEmulator model library of @F@, generated by etchnn @V@.\n"
    "#   make                       with the interface header in include/hls4ml/emulator.h\n"
    "#   make EMULATOR_INCLUDE=DIR  with hls4mlEmulatorExtras' header DIR/hls4ml/emulator.h (inside CMSSW)\n"
    "# Load it with hls4mlEmulator::ModelLoader(\"@C@\"), which dlopens @C@.so (on LD_LIBRARY_PATH).\n"
    "LIB := @C@.so\n"
    "EMULATOR_INCLUDE ?= include\n"
    "OPT ?= -O2\n"
    "ETN_FLAGS := -fPIC -fvisibility=hidden -Wall -Wextra -Werror\n"
    "\n"
    "all: $(LIB)\n"
    "\n"
    "$(LIB): @C@.o c/@P@.o exports.map\n"
    "\t$(CXX) -shared $(OPT) $(LDFLAGS) -Wl,--version-script=exports.map -Wl,--no-undefined -o $@ @C@.o c/@P@.o\n"
    "\n"
    "@C@.o: @C@.cpp c/@P@.h $(EMULATOR_INCLUDE)/hls4ml/emulator.h\n"
    "\t$(CXX) -std=c++17 $(OPT) $(CXXFLAGS) $(ETN_FLAGS) -fvisibility-inlines-hidden -I$(EMULATOR_INCLUDE) -c -o $@ $<\n"
    "\n"
    "c/@P@.o: c/@P@.c c/@P@.h\n"
    "\t$(CC) -std=c99 $(OPT) $(CFLAGS) $(ETN_FLAGS) -c -o $@ $<\n"
    "\n"
    "clean:\n"
    "\trm -f $(LIB) @C@.o c/@P@.o\n"
    "\n"
    ".PHONY: all clean\n";

static const char readme[] =
    "# @C@: the CMSSW emulator library of `@F@`\n"
    "\n"
    "Generated by etchnn @V@ (`etchnn compile MODEL --emit c,cmssw --cmssw-version @N@`).\n"
    "\n"
    "- `make` builds `@C@.so` (C99 and C++17, `-O2 -fPIC -Wall -Wextra -Werror`).\n"
    "  Inside CMSSW use the interface header of the hls4mlEmulatorExtras external:\n"
    "  `make EMULATOR_INCLUDE=<its include folder>` (the folder holding `hls4ml/emulator.h`).\n"
    "  `include/hls4ml/emulator.h` here declares the same interface, for building elsewhere.\n"
    "- Load it as CMS emulators do: `hls4mlEmulator::ModelLoader loader(\"@C@\");\n"
    "  auto model = loader.load_model();` dlopens `@C@.so` (put its folder on\n"
    "  `LD_LIBRARY_PATH`, or install it in the external's `lib` folder), then\n"
    "  `model->prepare_input(in); model->predict(); model->read_result(&out);`.\n"
    "- One event is @NI@ input values (type `@TI@`) and @NO@ output values\n"
    "  (type `@TO@`), in the order of `etchnn predict`'s columns.\n"
    "  `prepare_input` takes `std::vector<float>` or `std::vector<double>` of exactly\n"
    "  @NI@ values (by value or a pointer to one), or a `float*` / `double*` to @NI@\n"
    "  values (const or not); `read_result` takes `std::vector<float>*` /\n"
    "  `std::vector<double>*` (resized to @NO@) or a `float*` / `double*` with room\n"
    "  for @NO@ values.  Anything else throws `std::invalid_argument`.  ap_fixed\n"
    "  arrays are not taken: pass their `to_double()` values (exact for the input type).\n"
    "- The arithmetic is `c/@P@.c`, the C emulator `etchnn compile --emit c` writes:\n"
    "  the outputs equal `etchnn predict` bit for bit (as doubles; as floats when the\n"
    "  output type has at most 24 significant bits).\n"
    "- Versions: the library exports only `create_model` and `destroy_model`\n"
    "  (`-fvisibility=hidden` and `exports.map`), so `@C@.so` and another version of the\n"
    "  same model load in one process side by side.\n";

int cmssw_write(const Graph *g, Diag *d, const char *dir, int version, int emit)
{
    if (!emit) {
        if (version > 0)
            return diag_error(d, "--cmssw-version: sets the version of the CMSSW library (--emit cmssw), which is not "
                              "in the list of outputs; expected cmssw in --emit, or no --cmssw-version");
        return 0;
    }
    if (version <= 0)
        version = 1;
    char nm[NAMES_IDENT_SIZE], cls[NAMES_IDENT_SIZE + 16], base[NAMES_TEXT_SIZE], vstr[16];
    char nin[32], nout[32], tyin[64], tyout[64], sub[4096], path[4200];
    names_design(nm, sizeof nm, g->name);   /* cemu_write's prefix of every C symbol */
    snprintf(cls, sizeof cls, "%s_v%d", nm, version);
    snprintf(vstr, sizeof vstr, "%d", version);
    const char *file = strrchr(g->file, '/');
    names_comment(base, sizeof base, file ? file + 1 : g->file);
    const Tensor *tin = &g->t[g->inputs[0]], *tout = &g->t[g->outputs[0]];
    snprintf(nin, sizeof nin, "%ld", ir_numel(tin));
    snprintf(nout, sizeof nout, "%ld", ir_numel(tout));
    fx_format(tin->type, tyin, sizeof tyin);
    fx_format(tout->type, tyout, sizeof tyout);
    const Subst s[] = {
        {"C", cls}, {"P", nm}, {"N", vstr}, {"F", base}, {"V", ETCHNN_VERSION},
        {"NI", nin}, {"NO", nout}, {"TI", tyin}, {"TO", tyout},
    };
    static const struct {
        const char *file, *text;   /* file: a template too (@C@.cpp) */
    } files[] = {
        {"include/hls4ml/emulator.h", emulator_h}, {"@C@.cpp", model_cpp}, {"exports.map", exports_map},
        {"Makefile", makefile}, {"README.md", readme},
    };

    snprintf(sub, sizeof sub, "%s/cmssw", dir);
    if (cemu_write(g, d, sub) < 0)   /* sub/c/NAME.{c,h}: the same bytes as DIR/c/ */
        return -1;
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        Buf name = {0}, text = {0};
        expand(&name, files[k].file, s, sizeof s / sizeof s[0]);
        expand(&text, files[k].text, s, sizeof s / sizeof s[0]);
        snprintf(path, sizeof path, "%s/%.*s", sub, (int)name.len, name.data);
        int rc = backend_write_file(d, path, &text);
        buf_free(&name);
        buf_free(&text);
        if (rc < 0)
            return -1;
    }
    return 0;
}
