"""The CMSSW emulator library (compile --emit c,cmssw, OUT/cmssw/, issue 14 item 5).

- jet_tagger compiled twice, fixed<16,6> as version 1 and fixed<8,3> as version 2; each
  OUT/cmssw/Makefile builds jet_tagger_v<N>.so with -Wall -Wextra -Werror;
- a C++ host dlopens BOTH libraries in one process (RTLD_LOCAL | RTLD_NOW), gets a model from each
  library's create_model, runs 1,000 events through both (interleaved, event by event) via
  prepare_input / predict / read_result, and the outputs equal `etchnn predict` at the matching
  precision exactly (0 differences, doubles printed with %.17g); the float path too;
- a wrong type, a wrong size and a null pointer throw std::invalid_argument;
- `nm -D --defined-only` of each library: create_model and destroy_model, nothing else;
- models whose names carry comment terminators, newlines and keywords, in files named after C++
  keywords (an io_stream conv net among them), build with -Werror and no payload reaches the files;
- --cmssw-version is validated and refused without cmssw in --emit."""
import os
import shutil
import subprocess

import numpy as np
import pytest

from conftest import ROOT, run

GXX = shutil.which("g++")
MAKE = shutil.which("make")
NM = shutil.which("nm")
JET = ROOT / "examples" / "jet_tagger.onnx"
N_EVENTS = 1000

HOST = r"""
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <stdexcept>
#include <string>
#include <vector>
#include "hls4ml/emulator.h"

struct Lib {
    void *handle;
    hls4mlEmulator::create_model_cls *create;
    hls4mlEmulator::destroy_model_cls *destroy;
};

static Lib open_lib(const char *path)
{
    Lib l;
    l.handle = dlopen(path, RTLD_LOCAL | RTLD_NOW);
    if (!l.handle) { std::fprintf(stderr, "dlopen %s: %s\n", path, dlerror()); std::exit(3); }
    l.create = reinterpret_cast<hls4mlEmulator::create_model_cls *>(dlsym(l.handle, "create_model"));
    l.destroy = reinterpret_cast<hls4mlEmulator::destroy_model_cls *>(dlsym(l.handle, "destroy_model"));
    if (!l.create || !l.destroy) { std::fprintf(stderr, "dlsym %s\n", path); std::exit(3); }
    return l;
}

template <typename F> static int throws(F f, const char *what)
{
    try { f(); } catch (const std::invalid_argument &e) {
        std::printf("refused %s: %s\n", what, e.what());
        return 0;
    }
    std::fprintf(stderr, "no exception for %s\n", what);
    return 1;
}

// host LIB1 LIB2 X.txt NIN OUT1 OUT2 OUT2F
int main(int argc, char **argv)
{
    if (argc != 8) return 2;
    Lib l1 = open_lib(argv[1]), l2 = open_lib(argv[2]);
    if (l1.create == l2.create) { std::fprintf(stderr, "one create_model for both libraries\n"); return 4; }
    hls4mlEmulator::Model *m1 = l1.create(), *m2 = l2.create(), *m2f = l2.create();
    std::size_t nin = std::strtoul(argv[4], nullptr, 10);
    FILE *in = std::fopen(argv[3], "r"), *o1 = std::fopen(argv[5], "w"), *o2 = std::fopen(argv[6], "w"),
         *o2f = std::fopen(argv[7], "w");
    if (!in || !o1 || !o2 || !o2f) return 5;
    std::vector<double> x(nin), y1, y2;
    std::vector<float> xf(nin), y2f;
    long events = 0;
    for (;;) {
        std::size_t k = 0;
        for (; k < nin; k++)
            if (std::fscanf(in, "%lf", &x[k]) != 1) break;
        if (k == 0) break;
        if (k != nin) return 6;
        for (k = 0; k < nin; k++) xf[k] = static_cast<float>(x[k]);
        m1->prepare_input(x);                     // std::vector<double> by value
        m2->prepare_input(&x);                    // a pointer to it
        m2f->prepare_input(xf.data());            // float*
        m1->predict();
        m2->predict();
        m2f->predict();
        m1->read_result(&y1);                     // std::vector<double>*
        m2->read_result(&y2);
        m2f->read_result(&y2f);                   // std::vector<float>*
        for (std::size_t j = 0; j < y1.size(); j++) std::fprintf(o1, "%s%.17g", j ? " " : "", y1[j]);
        for (std::size_t j = 0; j < y2.size(); j++) std::fprintf(o2, "%s%.17g", j ? " " : "", y2[j]);
        for (std::size_t j = 0; j < y2f.size(); j++) std::fprintf(o2f, "%s%.9g", j ? " " : "", (double)y2f[j]);
        std::fputs("\n", o1); std::fputs("\n", o2); std::fputs("\n", o2f);
        events++;
    }
    int bad = 0;
    std::vector<double> shortv(nin - 1);
    double *null = nullptr;
    bad += throws([&] { m1->prepare_input(shortv); }, "short vector");
    bad += throws([&] { m1->prepare_input(42); }, "int");
    bad += throws([&] { m1->prepare_input(std::any()); }, "empty");
    bad += throws([&] { m1->prepare_input(null); }, "null input");
    bad += throws([&] { m1->read_result(y1); }, "vector by value");
    bad += throws([&] { m1->read_result(null); }, "null result");
    l1.destroy(m1);
    l2.destroy(m2);
    l2.destroy(m2f);
    std::fclose(o1); std::fclose(o2); std::fclose(o2f); std::fclose(in);
    std::printf("events %ld\n", events);
    return bad ? 7 : 0;
}
"""


def need_tools():
    for tool, path in (("g++", GXX), ("make", MAKE), ("nm", NM)):
        if path is None:
            pytest.skip(f"{tool} not installed")


def build(cmssw_dir):
    r = subprocess.run([MAKE, "-C", str(cmssw_dir)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    libs = list(cmssw_dir.glob("*.so"))
    assert len(libs) == 1, libs
    return libs[0]


def exports(lib):
    r = subprocess.run([NM, "-D", "--defined-only", str(lib)], capture_output=True, text=True, check=True)
    return sorted(line.split()[-1] for line in r.stdout.splitlines() if line.strip())


def read(path):
    return np.array([[float(v) for v in line.split()] for line in path.read_text().splitlines() if line.strip()])


def test_two_versions_in_one_process_equal_predict(tmp_path):
    need_tools()
    precs = {1: "fixed<16,6>", 2: "fixed<8,3>"}
    outs = {}
    for v, p in precs.items():
        outs[v] = tmp_path / f"v{v}"
        extra = [] if v == 1 else ["--cmssw-version", str(v)]   # version 1 is the default
        run("compile", JET, "-o", outs[v], "--precision", p, "--emit", "c,cmssw", *extra)
        assert (outs[v] / "cmssw" / f"jet_tagger_v{v}.cpp").exists()
        # the C emulator inside OUT/cmssw is the file --emit c writes
        assert (outs[v] / "cmssw" / "c" / "jet_tagger.c").read_bytes() == (outs[v] / "c" / "jet_tagger.c").read_bytes()
    libs = {v: build(outs[v] / "cmssw") for v in precs}
    assert libs[1].name == "jet_tagger_v1.so" and libs[2].name == "jet_tagger_v2.so"
    for lib in libs.values():
        assert exports(lib) == ["create_model", "destroy_model"], exports(lib)

    rng = np.random.default_rng(14)
    x = rng.standard_normal((N_EVENTS, 16)) * 3
    x[::7] *= 20   # some saturate
    xt = tmp_path / "x.txt"
    xt.write_text("".join(" ".join(f"{v:.17g}" for v in row) + "\n" for row in x))
    xf = tmp_path / "xf.txt"   # the same inputs rounded to float, as the float* path sees them
    xf.write_text("".join(" ".join(f"{float(v):.17g}" for v in row) + "\n" for row in x.astype(np.float32)))

    host = tmp_path / "host"
    r = subprocess.run([GXX, "-std=c++17", "-O1", "-Wall", "-Wextra", "-Werror", "-I",
                        str(outs[1] / "cmssw" / "include"), "-o", str(host), "-x", "c++", "-", "-ldl"],
                       input=HOST, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-4000:]
    y1, y2, y2f = tmp_path / "y1.txt", tmp_path / "y2.txt", tmp_path / "y2f.txt"
    r = subprocess.run([str(host), str(libs[1]), str(libs[2]), str(xt), "16", str(y1), str(y2), str(y2f)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert f"events {N_EVENTS}" in r.stdout, r.stdout
    assert r.stdout.count("refused ") == 6 and "jet_tagger_v1::prepare_input: expected 16 input values" in r.stdout
    assert "jet_tagger_v1::read_result: expected std::vector<float>*" in r.stdout, r.stdout

    got = {1: read(y1), 2: read(y2)}
    for v, p in precs.items():
        ref = tmp_path / f"ref{v}.txt"
        run("predict", JET, "--precision", p, "--input", xt, "--output", ref)
        want = read(ref)
        assert got[v].shape == want.shape == (N_EVENTS, 5)
        assert int((got[v] != want).sum()) == 0, f"version {v}: {(got[v] != want).sum()} differences"
    assert (got[1] != got[2]).any()   # two different networks answered, not one library twice
    ref = tmp_path / "ref2f.txt"
    run("predict", JET, "--precision", precs[2], "--input", xf, "--output", ref)
    want, gotf = read(ref), read(y2f)
    assert gotf.shape == want.shape and int((gotf != want).sum()) == 0


def test_hostile_names_build_with_werror(tmp_path):
    need_tools()
    pytest.importorskip("onnx")
    pytest.importorskip("yaml")
    import test_names_injection as tni
    for kind, where in (("mlp", "evil"), ("sig", "namespace.onnx"), ("mlp", "class.onnx"), ("conv", "template.onnx")):
        p = tni.model_file(tmp_path / f"{kind}_{where[:5]}", kind, where)
        out = tmp_path / f"out_{kind}_{where[:5]}"
        opts = tni.MODELS[kind][1] or ["--precision", "fixed<10,4>"]   # conv: --io stream and its precision
        run("compile", p, "-o", out, *opts, "--emit", "c,cmssw", "--cmssw-version", "3")
        tni.scan(out)   # the generated text (before the build adds binaries)
        lib = build(out / "cmssw")
        assert lib.name.endswith("_v3.so")
        assert exports(lib) == ["create_model", "destroy_model"]


def test_cmssw_version_is_checked(tmp_path):
    for bad in ("0", "-1", "1.5", "x", "", "+2", "99999999999"):
        r = run("compile", JET, "-o", tmp_path / "o", "--emit", "c,cmssw", "--cmssw-version", bad, check=False)
        assert r.returncode == 2 and "--cmssw-version: expected a positive integer" in r.stderr, (bad, r.stderr)
    r = run("compile", JET, "-o", tmp_path / "o", "--cmssw-version", "2", check=False)
    assert r.returncode == 2 and "expected cmssw in --emit" in r.stderr, r.stderr
    assert not (tmp_path / "o").exists()
    r = run("predict", JET, "--input", tmp_path / "none.txt", "--cmssw-version", "2", check=False)
    assert r.returncode == 2, r.stderr
    run("compile", JET, "-o", tmp_path / "all", "--precision", "fixed<8,3>", "--emit", "all")
    assert (tmp_path / "all" / "cmssw" / "jet_tagger_v1.cpp").exists()
    assert os.path.exists(tmp_path / "all" / "cmssw" / "include" / "hls4ml" / "emulator.h")
