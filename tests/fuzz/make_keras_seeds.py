#!/usr/bin/env python3
"""Seeds for fuzz_keras.  Its input: a byte choosing the form (0 json + h5,
1 .h5 with model_config, 2 .keras), a byte choosing the weights file (index in
the sorted list of .h5 files of $ETCHNN_FUZZ_KERAS_WEIGHTS), the JSON.

    python3 tests/fuzz/make_keras_seeds.py
        hand-built models: weights -> tests/fuzz/keras_weights/a-*.h5, seeds -> tests/fuzz/corpus_keras/
    python3 tests/fuzz/make_keras_seeds.py --shared MODELS WEIGHTS_DIR CORPUS_DIR
        the shared models (json + weights, Keras 2 .h5, .keras): their weights copied to WEIGHTS_DIR
        (beside a copy of keras_weights/), seeds to CORPUS_DIR (done at fuzz time; not checked in)

Needs numpy and h5py."""
import io
import json
import pathlib
import shutil
import sys
import zipfile

import h5py
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent


def seed(form, index, js):
    return bytes([form, index]) + (js.encode() if isinstance(js, str) else js)


def h5_bytes(layers):
    """Keras 2 save_weights layout: group per layer with weight_names."""
    bio = io.BytesIO()
    with h5py.File(bio, "w") as f:
        f.attrs["layer_names"] = [n.encode() for n in layers]
        for name, ws in layers.items():
            g = f.create_group(name)
            g.attrs["weight_names"] = [f"{name}/{k}:0".encode() for k in ws]
            for k, v in ws.items():
                g.create_dataset(f"{name}/{k}:0", data=np.asarray(v, dtype=np.float32))
    return bio.getvalue()


def seq(layers, inp):
    ls = []
    for i, (cls, cfg) in enumerate(layers):
        c = dict(cfg)
        if i == 0:
            c["batch_input_shape"] = [None] + list(inp)
        ls.append({"class_name": cls, "config": c})
    return json.dumps({"class_name": "Sequential", "config": ls, "keras_version": "2.0.5"})


def shared(models, wdir, cdir):
    wdir.mkdir(parents=True, exist_ok=True)
    cdir.mkdir(parents=True, exist_ok=True)
    for f in (HERE / "keras_weights").glob("a-*.h5"):
        shutil.copy(f, wdir / f.name)
    todo = []   # (seed name, form, weights file name, json bytes)
    for d in (models / "keras", models / "qkeras", models / "hgq"):
        if not d.exists():
            continue
        for j in sorted(d.glob("*.json")):
            w = j.with_name(j.stem + "_weights.h5")
            if w.exists() and w.stat().st_size < 300000:
                shutil.copy(w, wdir / f"s-{w.name}")
                todo.append((j.stem, 0, f"s-{w.name}", j.read_bytes()))
        for f in sorted(d.glob("*.h5")):
            if f.stem.endswith("_weights") or f.stat().st_size > 300000:
                continue
            with h5py.File(f, "r") as src:
                if "model_config" not in src.attrs or "model_weights" not in src:
                    continue
                cfg = src.attrs["model_config"]
                name = f"s-{f.stem}-model_weights.h5"
                with h5py.File(wdir / name, "w") as dst:
                    for k in src["model_weights"]:
                        src.copy(src["model_weights"][k], dst, name=k)
                    for k, v in src["model_weights"].attrs.items():
                        dst.attrs[k] = v
            todo.append((f.stem, 1, name, cfg.encode() if isinstance(cfg, str) else bytes(cfg)))
        for f in sorted(d.glob("*.keras")):
            with zipfile.ZipFile(f) as z:
                name = f"s-{f.stem}.weights.h5"
                (wdir / name).write_bytes(z.read("model.weights.h5"))
                todo.append((f.stem, 2, name, z.read("config.json")))
    names = sorted(p.name for p in wdir.glob("*.h5"))
    for stem, form, wname, js in todo:
        (cdir / f"shared-{stem}").write_bytes(seed(form, names.index(wname), js))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--shared":
        shared(*map(pathlib.Path, sys.argv[2:]))
        return
    out, wdir = HERE / "corpus_keras", HERE / "keras_weights"
    out.mkdir(exist_ok=True)
    wdir.mkdir(exist_ok=True)
    models = []   # (seed name, form, weights name, json, weights bytes)
    rng = np.random.default_rng(0)
    r = lambda *s: rng.uniform(-1, 1, s)  # noqa: E731
    bn = lambda n: {"gamma": 1 + 0.1 * r(n), "beta": r(n), "moving_mean": r(n), "moving_variance": 1 + rng.uniform(0, 1, n)}  # noqa: E731
    bnc = {"epsilon": 1e-3, "center": True, "scale": True, "axis": -1}
    layers = [("Dense", {"name": "d1", "units": 4, "activation": "relu", "use_bias": True}),
              ("BatchNormalization", dict(bnc, name="bn1")),
              ("Activation", {"name": "a1", "activation": "tanh"}),
              ("Dense", {"name": "d2", "units": 3, "activation": "softmax", "use_bias": True})]
    w = {"d1": {"kernel": r(5, 4), "bias": r(4)}, "bn1": bn(4), "d2": {"kernel": r(4, 3), "bias": r(3)}}
    models.append(("dense_bn", 0, "a-dense_bn.h5", seq(layers, [5]), h5_bytes(w)))
    models.append(("dense_bn-h5", 1, "a-dense_bn.h5", seq(layers, [5]), None))
    for cls, act in (("BinaryDense", "binary_tanh"), ("TernaryDense", "ternary_tanh")):
        layers = [(cls, {"name": "f1", "units": 4, "H": 1, "use_bias": False, "activation": "linear"}),
                  ("BatchNormalization", dict(bnc, name="b1")), ("Activation", {"name": "t1", "activation": act}),
                  (cls, {"name": "f2", "units": 2, "H": 1, "use_bias": False, "activation": "linear"}),
                  ("BatchNormalization", dict(bnc, name="b2")), ("Activation", {"name": "t2", "activation": "relu1"})]
        w = {"f1": {"kernel": r(6, 4)}, "b1": bn(4), "f2": {"kernel": r(4, 2)}, "b2": bn(2)}
        models.append((cls.lower(), 0, f"a-{cls.lower()}.h5", seq(layers, [6]), h5_bytes(w)))
    q6 = {"class_name": "quantized_bits", "config": {"bits": 6, "integer": 0, "keep_negative": True, "alpha": 1}}
    layers = [("QDense", {"name": "q1", "units": 4, "activation": "linear", "use_bias": True, "kernel_quantizer": q6,
                          "bias_quantizer": "quantized_bits(4,0,alpha=1)"}),
              ("QActivation", {"name": "r1", "activation": "quantized_relu(3,1)"}),
              ("QDense", {"name": "q2", "units": 2, "activation": "quantized_bits(8,2)", "use_bias": True,
                          "kernel_quantizer": {"class_name": "quantized_po2", "config": {"bits": 4}},
                          "bias_quantizer": {"class_name": "ternary", "config": {}}})]
    w = {"q1": {"kernel": r(3, 4), "bias": r(4)}, "q2": {"kernel": r(4, 2), "bias": r(2)}}
    models.append(("qkeras", 0, "a-qkeras.h5", seq(layers, [3]), h5_bytes(w)))
    k3 = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 2], "name": "x"}},
        {"class_name": "Dense", "config": {"name": "d1", "units": 3, "activation": "relu", "use_bias": True}}]}}
    wb = io.BytesIO()
    with h5py.File(wb, "w") as f:
        v = f.create_group("layers/dense/vars")
        v.create_dataset("0", data=r(2, 3).astype(np.float32))
        v.create_dataset("1", data=r(3).astype(np.float32))
    models.append(("keras3", 2, "a-keras3.weights.h5", json.dumps(k3), wb.getvalue()))
    # QKeras recurrent layers: a QLSTM (state quantizer, quantized_tanh, QKeras' hard_sigmoid) and a QGRU
    # (reset_after, quantized_sigmoid) over 4 steps; weights named as QKeras' cells save them
    rq = np.random.default_rng(12)
    qb = lambda b, i: {"class_name": "quantized_bits", "config": {"bits": b, "integer": i, "alpha": 1}}  # noqa: E731
    layers = [("QLSTM", {"name": "ql", "units": 3, "activation": {"class_name": "quantized_tanh", "config": {"bits": 6}},
                         "recurrent_activation": "hard_sigmoid", "return_sequences": True, "use_bias": True,
                         "kernel_quantizer": qb(6, 0), "recurrent_quantizer": "quantized_bits(5,0,alpha=1)",
                         "bias_quantizer": qb(8, 2), "state_quantizer": qb(8, 1)}),
              ("QGRU", {"name": "qg", "units": 2, "activation": "quantized_tanh(8)", "reset_after": True,
                        "recurrent_activation": {"class_name": "quantized_sigmoid", "config": {"bits": 6}},
                        "kernel_quantizer": qb(6, 0), "recurrent_quantizer": qb(6, 0), "bias_quantizer": qb(8, 2),
                        "state_quantizer": "quantized_bits(8,1,alpha=1)", "use_bias": True})]
    wq = {"ql": {"kernel": rq.uniform(-1, 1, (2, 12)), "recurrent_kernel": rq.uniform(-1, 1, (3, 12)),
                 "bias": rq.uniform(-1, 1, 12)},
          "qg": {"kernel": rq.uniform(-1, 1, (3, 6)), "recurrent_kernel": rq.uniform(-1, 1, (2, 6)),
                 "bias": rq.uniform(-1, 1, (2, 6))}}
    models.append(("qlstm", 0, "c-qlstm.h5", seq(layers, [4, 2]), h5_bytes(wq)))
    # Keras 2 Bidirectional(LSTM), return_sequences, merge sum: the two layers' weights under forward_lstm and
    # backward_lstm, as tf_keras saves them
    rb = np.random.default_rng(13)
    lstm = {"name": "lstm", "units": 3, "activation": "tanh", "recurrent_activation": "hard_sigmoid",
            "return_sequences": True, "use_bias": True}
    layers = [("Bidirectional", {"name": "bi", "merge_mode": "sum", "layer": {"class_name": "LSTM", "config": lstm}}),
              ("Flatten", {"name": "flat"}), ("Dense", {"name": "d", "units": 2, "activation": "linear", "use_bias": True})]
    wb2 = {"bi": {f"{d}_lstm/lstm_cell/{k}": rb.uniform(-1, 1, shp) for d in ("forward", "backward")
                  for k, shp in (("kernel", (2, 12)), ("recurrent_kernel", (3, 12)), ("bias", (12,)))},
           "d": {"kernel": rb.uniform(-1, 1, (12, 2)), "bias": rb.uniform(-1, 1, 2)}}
    models.append(("bi2", 1, "d-bi2.h5", seq(layers, [4, 2]), h5_bytes(wb2)))
    # Keras 2 PReLU (alpha per element, one shared axis) after a Conv1D, and an ELU layer
    rp = np.random.default_rng(14)
    layers = [("Conv1D", {"name": "c1", "filters": 3, "kernel_size": 2, "activation": "linear", "use_bias": True}),
              ("PReLU", {"name": "p1", "shared_axes": [1]}), ("ELU", {"name": "e1", "alpha": 0.5}),
              ("Flatten", {"name": "f"})]
    wp = {"c1": {"kernel": rp.uniform(-1, 1, (2, 2, 3)), "bias": rp.uniform(-1, 1, 3)},
          "p1": {"alpha": rp.uniform(-0.5, 0.8, (1, 3))}}
    models.append(("prelu", 0, "e-prelu.h5", seq(layers, [5, 2]), h5_bytes(wp)))
    # Keras 2 ThresholdedReLU(theta), a ReLU with a threshold (Keras 3's form of it) and hard_sigmoid
    rt = np.random.default_rng(15)
    layers = [("Dense", {"name": "d1", "units": 4, "activation": "linear", "use_bias": True}),
              ("ThresholdedReLU", {"name": "t1", "theta": 0.4}), ("ReLU", {"name": "r1", "threshold": 0.2}),
              ("Activation", {"name": "hs", "activation": "hard_sigmoid"})]
    wt = {"d1": {"kernel": rt.uniform(-1, 1, (3, 4)), "bias": rt.uniform(-1, 1, 4)}}
    models.append(("thresholded_relu", 0, "f-thr.h5", seq(layers, [3]), h5_bytes(wt)))
    # HGQ2 (Keras 3 .keras): a Quantizer (kbi, SAT) then a QDense (kif WRAP iq, kbi SAT_SYM kq, kbi WRAP bq, kif SAT
    # oq) with per-element bit widths stored as hgq2 0.2 stores them; i_decay_speed written as Infinity, as Python's
    # json writes it
    rh = np.random.default_rng(15)

    def qconf(qt, rnd, ovf, weight=False):
        return {"module": "hgq.quantizer.config", "class_name": "QuantizerConfig", "registered_name": "hgq>QuantizerConfig",
                "config": {"q_type": qt, "round_mode": rnd, "overflow_mode": ovf, "is_weight": weight, "trainable": True,
                           "scaler": None, "affine": None, "bw_mapper": None, "i_decay_speed": "@INF@"}}
    hl = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "x"}},
          {"module": "hgq.quantizer.quantizer", "class_name": "Quantizer", "registered_name": "hgq>Quantizer",
           "config": {"name": "quantizer", "config": qconf("kbi", "TRN", "SAT")}},
          {"module": "hgq.layers.core.dense", "class_name": "QDense", "registered_name": "hgq>QDense",
           "config": {"name": "q_dense", "units": 3, "activation": "relu", "use_bias": True, "enable_iq": True,
                      "enable_oq": True, "trainable": True, "iq_conf": qconf("kif", "RND", "WRAP"),
                      "kq_conf": qconf("kbi", "RND", "SAT_SYM", True), "bq_conf": qconf("kbi", "RND_CONV", "WRAP"),
                      "oq_conf": qconf("kif", "RND", "SAT")}}]
    hj = json.dumps({"class_name": "Sequential", "config": {"name": "s", "layers": hl}}).replace('"@INF@"', "Infinity")
    wb = io.BytesIO()
    u8 = lambda shp: rh.integers(0, 2, shp).astype(np.uint8)  # noqa: E731
    fl = lambda lo, hi, shp: rh.integers(lo, hi, shp).astype(np.float32)  # noqa: E731
    with h5py.File(wb, "w") as f:
        f.create_group("layers/quantizer/vars")   # the Quantizer's own (empty) variables
        for path, arrs in (("layers/quantizer/quantizer", [fl(0, 9, (1, 4)), fl(-1, 4, (1, 4)), u8((1, 4))]),
                           ("layers/q_dense", [rh.uniform(-2, 2, (4, 3)).astype(np.float32),
                                               rh.uniform(-2, 2, 3).astype(np.float32)]),
                           ("layers/q_dense/iq/quantizer", [fl(0, 6, (1, 4)), u8((1, 4)), fl(-1, 4, (1, 4))]),
                           ("layers/q_dense/kq/quantizer", [fl(0, 8, (4, 3)), fl(-1, 3, (4, 3)), u8((4, 3))]),
                           ("layers/q_dense/bq/quantizer", [fl(0, 8, 3), u8(3), fl(-1, 3, 3)]),
                           ("layers/q_dense/oq/quantizer", [fl(-1, 4, (1, 3)), fl(0, 6, (1, 3)), u8((1, 3))])):
            v = f.create_group(path + "/vars")
            for k, a in enumerate(arrs):
                v.create_dataset(str(k), data=a)
    models.append(("hgq2", 2, "g-hgq2.weights.h5", hj, wb.getvalue()))
    # Keras 2 Embedding(7, 3) on 4 indices, then a Dense over the rows (last: the seeds above keep their bytes)
    re_ = np.random.default_rng(16)
    layers = [("Embedding", {"name": "emb", "input_dim": 7, "output_dim": 3, "mask_zero": False}),
              ("Flatten", {"name": "f"}), ("Dense", {"name": "d1", "units": 2, "activation": "linear", "use_bias": True})]
    we = {"emb": {"embeddings": re_.uniform(-1, 1, (7, 3))},
          "d1": {"kernel": re_.uniform(-1, 1, (12, 2)), "bias": re_.uniform(-1, 1, 2)}}
    models.append(("embedding", 0, "h-emb.h5", seq(layers, [4]), h5_bytes(we)))
    # QKeras activation quantizers, po2 above 8 bits, alpha 'auto_po2' (its own generator: the seeds above keep
    # their bytes; its weights file sorts last, so their weights indexes stay)
    rq = np.random.default_rng(15)
    qa = {"class_name": "quantized_bits", "config": {"bits": 4, "integer": 0, "symmetric": True, "alpha": "auto_po2"}}
    layers = [("QDense", {"name": "q1", "units": 4, "activation": "linear", "use_bias": True, "kernel_quantizer": qa,
                          "bias_quantizer": "quantized_bits(8,2,alpha=1)"}),
              ("QActivation", {"name": "r1", "activation": "quantized_relu(8,2,negative_slope=0.25)"}),
              ("QDense", {"name": "q2", "units": 3, "activation": "quantized_tanh(6,symmetric=True)", "use_bias": True,
                          "kernel_quantizer": "quantized_po2(10,max_value=1)"}),
              ("QActivation", {"name": "s1", "activation": "quantized_sigmoid(5,symmetric=True)"})]
    w = {"q1": {"kernel": rq.uniform(-1, 1, (3, 4)), "bias": rq.uniform(-1, 1, 4)},
         "q2": {"kernel": rq.uniform(-1, 1, (4, 3)), "bias": rq.uniform(-1, 1, 3)}}
    models.append(("qkeras_act", 0, "z-qkeras_act.h5", seq(layers, [3]), h5_bytes(w)))
    # Keras 2 DepthwiseConv1D ('same') then Conv1D with padding 'causal' (strides 2); a functional Dot of two vectors
    rd = np.random.default_rng(16)
    layers = [("DepthwiseConv1D", {"name": "dw", "kernel_size": [3], "strides": [1], "padding": "same",
                                   "depth_multiplier": 1, "activation": "linear", "use_bias": True}),
              ("Conv1D", {"name": "cc", "filters": 2, "kernel_size": [3], "strides": [2], "padding": "causal",
                          "dilation_rate": [1], "activation": "relu", "use_bias": True})]
    wd = {"dw": {"depthwise_kernel": rd.uniform(-1, 1, (3, 2, 1)), "bias": rd.uniform(-1, 1, 2)},
          "cc": {"kernel": rd.uniform(-1, 1, (3, 2, 2)), "bias": rd.uniform(-1, 1, 2)}}
    models.append(("dwconv1d_causal", 0, "zz-dwconv1d.h5", seq(layers, [7, 2]), h5_bytes(wd)))
    inp = lambda nm: {"class_name": "InputLayer", "name": nm, "inbound_nodes": [],  # noqa: E731
                      "config": {"name": nm, "batch_input_shape": [None, 5]}}
    dj = {"class_name": "Functional", "keras_version": "2.0.5", "config": {
        "name": "m", "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["dot", 0, 0]],
        "layers": [inp("a"), inp("b"), {"class_name": "Dot", "name": "dot", "inbound_nodes": [[["a", 0, 0, {}], ["b", 0, 0, {}]]],
                                        "config": {"name": "dot", "axes": 1, "normalize": False}}]}}
    models.append(("dot", 0, "zz-dwconv1d.h5", json.dumps(dj), None))
    # Keras 2 LayerNormalization over the last axis, then a Dense
    rl = np.random.default_rng(17)
    layers = [("LayerNormalization", {"name": "ln", "axis": [2], "epsilon": 0.001, "center": True, "scale": True}),
              ("Flatten", {"name": "fl"}),
              ("Dense", {"name": "fc", "units": 2, "activation": "linear", "use_bias": True})]
    wl = {"ln": {"gamma": rl.normal(1, 0.1, 4), "beta": rl.normal(0, 0.1, 4)},
          "fc": {"kernel": rl.uniform(-1, 1, (12, 2)), "bias": rl.uniform(-1, 1, 2)}}
    models.append(("layernorm", 0, "zzz-ln.h5", seq(layers, [3, 4]), h5_bytes(wl)))
    # HGQ2: QBatchNormalization, QBatchNormDense(relu), QUnaryFunctionLUT(tanh) on 3 features (one table output type)
    rb = np.random.default_rng(17)
    u8b = lambda shp: rb.integers(0, 2, shp).astype(np.uint8)  # noqa: E731
    flb = lambda lo, hi, shp: rb.integers(lo, hi, shp).astype(np.float32)  # noqa: E731
    un = lambda lo, hi, shp: rb.uniform(lo, hi, shp).astype(np.float32)  # noqa: E731
    hb = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 3], "name": "x"}},
          {"module": "hgq.layers.batch_normalization", "class_name": "QBatchNormalization",
           "registered_name": "hgq>QBatchNormalization",
           "config": {"name": "q_batch_normalization", "axis": -1, "epsilon": 0.001, "center": True, "scale": True,
                      "enable_iq": True, "enable_oq": False, "trainable": True, "iq_conf": qconf("kif", "RND", "WRAP"),
                      "kq_conf": qconf("kbi", "RND", "SAT_SYM", True), "bq_conf": qconf("kbi", "RND_CONV", "WRAP")}},
          {"module": "hgq.layers.core.dense", "class_name": "QBatchNormDense", "registered_name": "hgq>QBatchNormDense",
           "config": {"name": "q_batch_norm_dense", "units": 2, "activation": "relu", "use_bias": True, "scale": True,
                      "epsilon": 0.001, "enable_iq": True, "enable_oq": False, "trainable": True,
                      "iq_conf": qconf("kif", "RND", "WRAP"), "kq_conf": qconf("kbi", "RND", "SAT_SYM", True),
                      "bq_conf": qconf("kbi", "RND_CONV", "WRAP")}},
          {"module": "hgq.layers.activation", "class_name": "QUnaryFunctionLUT", "registered_name": "hgq>QUnaryFunctionLUT",
           "config": {"name": "q_unary_function_lut", "activation": "tanh", "enable_iq": True, "enable_oq": True,
                      "trainable": True, "iq_conf": qconf("kif", "RND", "WRAP"), "oq_conf": qconf("kbi", "RND", "SAT_SYM")}}]
    hbj = json.dumps({"class_name": "Sequential", "config": {"name": "s", "layers": hb}}).replace('"@INF@"', "Infinity")
    wbb = io.BytesIO()
    with h5py.File(wbb, "w") as f:
        for path, arrs in (("layers/q_batch_normalization", [un(0.5, 2, 3), un(-1, 1, 3), un(-1, 1, 3), un(0.2, 3, 3),
                                                             np.float32(1e-5), np.float32(0)]),
                           ("layers/q_batch_normalization/iq/quantizer", [flb(0, 6, (1, 3)), u8b((1, 3)),
                                                                          flb(-1, 4, (1, 3)), np.float32(0.01)]),
                           ("layers/q_batch_normalization/kq/quantizer", [flb(0, 8, 3), flb(-1, 3, 3), u8b(3)]),
                           ("layers/q_batch_normalization/bq/quantizer", [flb(0, 8, 3), u8b(3), flb(-1, 3, 3)]),
                           ("layers/q_batch_norm_dense", [un(-2, 2, (3, 2)), un(-1, 1, 2), un(0.5, 2, 3), np.float32(1e-5),
                                                          np.float32(0), un(-1, 1, 3), un(0.2, 3, 3)]),
                           ("layers/q_batch_norm_dense/iq/quantizer", [flb(0, 6, (1, 3)), u8b((1, 3)), flb(-1, 4, (1, 3))]),
                           ("layers/q_batch_norm_dense/kq/quantizer", [flb(0, 8, (3, 2)), flb(-1, 3, (3, 2)), u8b((3, 2))]),
                           ("layers/q_batch_norm_dense/bq/quantizer", [flb(0, 8, 2), u8b(2), flb(-1, 3, 2)]),
                           ("layers/q_unary_function_lut", [np.float32(1e-5), np.float32(0)]),
                           ("layers/q_unary_function_lut/iq/quantizer", [flb(1, 5, (1, 2)), np.ones((1, 2), np.uint8),
                                                                          flb(0, 3, (1, 2))]),
                           ("layers/q_unary_function_lut/oq/quantizer", [np.full((1, 1), 8, np.float32),
                                                                          np.full((1, 1), 1, np.float32),
                                                                          np.ones((1, 1), np.uint8)])):
            v = f.create_group(path + "/vars")
            for k, a in enumerate(arrs):
                v.create_dataset(str(k), data=a)
    models.append(("hgq2_bn_lut", 2, "zzzz-hgq2b.weights.h5", hbj, wbb.getvalue()))
    for _, _, wname, _, wbytes in models:
        if wbytes is not None:
            (wdir / wname).write_bytes(wbytes)
    names = sorted(p.name for p in wdir.glob("*.h5"))
    for stem, form, wname, js, _ in models:
        (out / stem).write_bytes(seed(form, names.index(wname), js))


if __name__ == "__main__":
    main()
