"""From what a user holds to a loaded EtnModel: a file path, an onnx.ModelProto,
ONNX bytes, a torch.nn.Module or a Keras 3 model.

torch:  exported in memory with torch.onnx.export (the TorchScript exporter,
        dynamo=False), ONNX nodes renamed after their modules ('/fc1/Gemm' ->
        'fc1'), then read by the C ONNX front end (nn.RNN, nn.LSTM and nn.GRU
        become ONNX RNN/LSTM/GRU nodes, which it unrolls).
Brevitas: exported in memory to QONNX (brevitas.export.export_qonnx) and
        read by the C QONNX reader.
Keras:  saved in memory as a Keras 3 archive (.keras bytes: config.json and
        model.weights.h5) and read by the C Keras front end
        (etn_load_keras_buffer), the same reader as for .keras files; any
        backend.  Where Keras cannot save to memory, translated layer by layer
        into an in-memory ONNX graph (keras_to_onnx).  tf_keras (Keras 2,
        QKeras) models: saved in memory as a Keras 2 .h5 file, read by the
        same C reader.
torch, keras and onnx are imported only when such a model is passed."""
import io
import os
import pathlib
import sys

import numpy as np

from .errors import EtchnnError

MODEL_SUFFIXES = (".onnx", ".keras", ".h5", ".json")


def kind_of(model):
    """'path', 'onnx', 'bytes', 'torch' or 'keras'."""
    if isinstance(model, (str, os.PathLike)):
        return "path"
    if isinstance(model, (bytes, bytearray, memoryview)):
        return "bytes"
    mods = {c.__module__.split(".")[0] for c in type(model).__mro__}
    if "onnx" in mods and hasattr(model, "graph"):
        return "onnx"
    if "keras" in mods or "tf_keras" in mods:   # before torch: with KERAS_BACKEND=torch a Keras model is a Module
        return "keras"
    if "torch" in mods:
        if "brevitas" in mods or any(type(sub).__module__.startswith("brevitas.") for sub in model.modules()):
            return "brevitas"
        return "torch"
    raise EtchnnError(f"cannot convert a {type(model).__module__}.{type(model).__name__}: expected a path to a model file "
                      f"({', '.join(MODEL_SUFFIXES)}), an onnx.ModelProto, ONNX bytes, a torch.nn.Module or a keras.Model")


def load_into(m, model, input_shape=None, name="myproject", keras_weights=None):
    """Load `model` into the _lib.Model m."""
    kind = kind_of(model)
    if kind == "path":
        path = pathlib.Path(model)
        if keras_weights is not None:
            m.set_option("weights_file", os.fspath(keras_weights))
        m.load(os.fspath(path))
        return
    suffix, data = serialize(model, input_shape)
    if suffix in (".keras", ".h5"):
        m.load_keras(data, f"{name}{suffix}")
    else:
        m.load_onnx(data, f"{name}.onnx")


def serialize(model, input_shape=None):
    """(suffix, bytes) of an in-memory model, as the C library reads it:
    ('.keras', a Keras 3 archive) for Keras 3 models, ('.h5', a Keras 2 HDF5
    file) for tf_keras / QKeras models, ('.onnx', ONNX or QONNX bytes) for
    everything else.  Nothing is written to disk."""
    kind = kind_of(model)
    if kind == "bytes":
        return ".onnx", bytes(model)
    if kind == "onnx":
        return ".onnx", model.SerializeToString()
    if kind == "brevitas":
        return ".onnx", brevitas_to_qonnx(model, input_shape).SerializeToString()
    if kind == "torch":
        return ".onnx", torch_to_onnx(model, input_shape).SerializeToString()
    if kind == "keras":
        if _is_tf_keras(model):
            return ".h5", keras2_h5(model)
        data = keras_archive(model)
        if data is not None:
            return ".keras", data
        return ".onnx", keras_to_onnx(model).SerializeToString()
    raise EtchnnError(f"cannot serialize a {kind} model")


def _need(module, why):
    try:
        return __import__(module)
    except ImportError as e:
        raise EtchnnError(f"{why} needs the '{module}' package: pip install {module}") from e


def to_onnx(model, input_shape=None):
    """The onnx.ModelProto of an in-memory model (Keras models: translated
    layer by layer, see keras_to_onnx)."""
    kind = kind_of(model)
    if kind == "brevitas":
        return brevitas_to_qonnx(model, input_shape)
    if kind == "torch":
        return torch_to_onnx(model, input_shape)
    if kind == "keras":
        return keras_to_onnx(model)
    onnx = _need("onnx", "writing an ONNX model")
    return onnx.load_from_string(bytes(model)) if kind == "bytes" else model


# ---- PyTorch -------------------------------------------------------------

def torch_input_shape(model, input_shape):
    """The per-event input shape: given, or the first Linear's in_features
    (a model with a recurrent layer needs it given: the number of time steps
    is nowhere in the model)."""
    if input_shape is not None:
        return _shape_tuple(model, input_shape)
    import torch
    for mod in model.modules():
        if isinstance(mod, torch.nn.RNNBase):
            raise EtchnnError(f"torch model {type(model).__name__}: pass input_shape=(time_steps, "
                              f"{mod.input_size}) (the shape of one event, batch-first, as forward() takes it; "
                              f"the recurrent layer {type(mod).__name__} does not fix the number of steps)")
        if isinstance(mod, torch.nn.Embedding):
            raise EtchnnError(f"torch model {type(model).__name__}: pass input_shape=(indices, ...) (the shape of "
                              f"one event's indices into the nn.Embedding, without the batch dimension)")
        if isinstance(mod, torch.nn.Linear):
            return (mod.in_features,)
        if isinstance(mod, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d)):
            break
    raise EtchnnError(f"torch model {type(model).__name__}: pass input_shape=(features, ...) "
                      "(the shape of one event, without the batch dimension)")


def _shape_tuple(model, shape, what="input_shape"):
    """One event's shape as a tuple of positive ints, or a clear message."""
    dims = shape if isinstance(shape, (tuple, list)) else (shape,)
    try:
        out = tuple(int(d) for d in dims)
        ok = all(int(d) == d and d > 0 for d in dims) and len(out) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise EtchnnError(f"torch model {type(model).__name__}: {what}: expected the shape of one event as a tuple of "
                          f"positive ints, e.g. (16,), or (several inputs) a list of such tuples, e.g. [(4,), (8,)], "
                          f"got {shape!r}")
    return out


def torch_input_shapes(model, input_shape):
    """The per-event shape of every forward() argument: a list of tuples (input_shape a list of tuples: one per
    argument, in order) or [the one shape]."""
    if isinstance(input_shape, (list, tuple)) and input_shape and all(isinstance(s, (list, tuple)) for s in input_shape):
        return [_shape_tuple(model, s, f"input_shape[{k}]") for k, s in enumerate(input_shape)]
    if isinstance(input_shape, (list, tuple)) and any(isinstance(s, (list, tuple)) for s in input_shape):
        raise EtchnnError(f"torch model {type(model).__name__}: input_shape: expected one shape (a tuple of ints) or "
                          f"a list of shapes (one tuple per forward() argument), got a mix: {input_shape!r}")
    return [torch_input_shape(model, input_shape)]


def _forward_names(model, n):
    """Names of forward()'s first n tensor arguments (input_0, ... when they are not plain names)."""
    import inspect
    try:
        params = [p.name for p in inspect.signature(model.forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = params[:n] if len(params) >= n else []
    if len(set(names)) != n or any(nm in ("input", "output") or not nm.isidentifier() for nm in names):
        names = [f"input_{k}" for k in range(n)]
    return names


def _threshold_symbolic(g, x, threshold, value):
    """aten::threshold (nn.Threshold, F.threshold) as ONNX ThresholdedRelu: x > threshold ? x : value is one
    for value 0 only (the TorchScript exporter's own symbolic takes threshold 0 only, as a Relu)."""
    from torch.onnx import symbolic_helper as sh
    th = float(sh._get_const(threshold, "f", "threshold"))
    v = float(sh._get_const(value, "f", "value"))
    if v != 0:
        raise EtchnnError(f"threshold: expected value 0 (x > threshold ? x : 0, a ThresholdedReLU), got value {v}")
    return g.op("ThresholdedRelu", x, alpha_f=th)


def _check_thresholds(model):
    import torch
    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.Threshold) and mod.value != 0:
            raise EtchnnError(f"torch model {type(model).__name__}: layer '{name}' (Threshold): expected value 0 "
                              f"(x > threshold ? x : 0, a ThresholdedReLU), got value {mod.value} (not supported)")


def torch_to_onnx(model, input_shape=None):
    torch = _need("torch", "a torch model")
    onnx = _need("onnx", "converting a torch model")
    shapes = torch_input_shapes(model, input_shape)
    _check_thresholds(model)
    was_training = model.training
    model.eval()
    buf = io.BytesIO()
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dtype = next((p.dtype for p in model.parameters()), torch.float32)
            leaves = [m for m in model.modules() if not list(m.children())]
            if leaves and isinstance(leaves[0], torch.nn.Embedding):
                dtype = torch.long   # indices into the first layer's table (an ONNX Gather of it)
            args = tuple(torch.zeros((1, *s), dtype=dtype) for s in shapes)
            inames = ["input"] if len(shapes) == 1 else _forward_names(model, len(shapes))
            with torch.no_grad():
                y = model(*args)
            nout = len(y) if isinstance(y, (tuple, list)) else 1
            onames = ["output"] if nout == 1 else [f"output_{k}" for k in range(nout)]
            torch.onnx.register_custom_op_symbolic("aten::threshold", _threshold_symbolic, 10)
            try:
                torch.onnx.export(model, args, buf, dynamo=False, input_names=inames, output_names=onames,
                                  dynamic_axes={nm: {0: "batch"} for nm in inames + onames})
            finally:
                torch.onnx.unregister_custom_op_symbolic("aten::threshold", 10)
    except Exception as e:  # the exporter's own message says which op it could not export
        raise EtchnnError(f"torch model {type(model).__name__}: ONNX export failed: {e}") from e
    finally:
        model.train(was_training)
    proto = onnx.load_from_string(buf.getvalue())
    _name_as_hls4ml(proto, model)
    _name_after_modules(proto)
    return proto


def _fx_names(model):
    """torch.fx's names, which hls4ml's PyTorch reader gives its layers: the
    input (the forward argument: 'x', or 'input_1' for nn.Sequential's
    'input') and each leaf module by its qualified name ('seq.0' -> 'seq_0',
    '0' -> '_0').  Where symbolic tracing fails (control flow on values), the
    same rules applied by hand."""
    import inspect
    import keyword
    import re
    import torch
    try:
        g = torch.fx.symbolic_trace(model).graph
        inp = next(n.name for n in g.nodes if n.op == "placeholder")
        mods = {n.target: n.name for n in g.nodes if n.op == "call_module"}
        funcs = [n.name for n in g.nodes if n.op in ("call_function", "call_method")]
        return inp, mods, funcs
    except Exception:  # noqa: BLE001 -- any tracing failure: the rules below
        pass

    def ident(s):
        s = re.sub(r"[^0-9A-Za-z_]", "_", s)
        if s[:1].isdigit():
            s = "_" + s
        return s + "_1" if keyword.iskeyword(s) or s in dir(__builtins__) or s == "input" else s
    params = list(inspect.signature(model.forward).parameters)
    inp = ident(params[0]) if params else "input_1"
    mods = {q: ident(q) for q, m in model.named_modules() if q and not list(m.children())}
    return inp, mods, []


def _name_as_hls4ml(proto, model):
    """Rename the graph input and every node of one leaf module to torch.fx's
    names (_fx_names), so that an hls4ml LayerName config for the model
    reaches the same layers here.  Nodes of the ONNX path '/seq/seq.0/Gemm'
    belong to module 'seq.0'; '/blk/lin/Gemm' to 'blk.lin'.  Functions called
    in a forward() ('/blk/Relu', '/Add') take fx's names ('relu', 'relu_1',
    'add') where their ops and fx's calls pair up one to one, kind by kind, in
    order."""
    import re
    inp, mods, funcs = _fx_names(model)
    old = proto.graph.input[0].name
    if inp != old:
        proto.graph.input[0].name = inp
        for n in proto.graph.node:
            n.input[:] = [inp if s == old else s for s in n.input]
    owner = []
    for n in proto.graph.node:
        q = ""
        for seg in [p for p in n.name.split("/") if p][:-1]:
            q = seg if q and seg.startswith(q + ".") else (f"{q}.{seg}" if q else seg)
        owner.append(q if q in mods else None)
    count = {}
    for q in owner:
        count[q] = count.get(q, 0) + 1
    plumbing = ("Constant", "Identity", "Shape", "Gather", "Unsqueeze", "Concat")
    loose, calls = {}, {}
    for n, q in zip(proto.graph.node, owner):
        if q is None and n.op_type not in plumbing:
            loose.setdefault(n.op_type.lower(), []).append(n)
    for f in funcs:
        calls.setdefault(re.sub(r"_\d+$", "", f), []).append(f)
    for kind, nodes in loose.items():
        if len(calls.get(kind, ())) == len(nodes):
            for n, f in zip(nodes, calls[kind]):
                n.name = f
    taken = {n.name for n, q in zip(proto.graph.node, owner) if q is None}
    for n, q in zip(proto.graph.node, owner):
        if q is None or n.op_type in plumbing:
            continue
        name = mods[q] if count[q] == 1 else f"{mods[q]}_{n.op_type.lower()}"
        if name not in taken:
            n.name = name
            taken.add(name)


def _name_after_modules(proto, drop=()):
    """'/fc1/Gemm' -> 'fc1', '/net/0/Gemm' -> 'net_0'; the op is kept when a
    module holds several nodes or the node is in the top forward().  Path
    segments in `drop` are left out."""
    paths = []
    for n in proto.graph.node:
        parts = [p for p in n.name.split("/") if p and p not in drop]
        paths.append("_".join(parts[:-1]) if len(parts) > 1 else "")
    count = {}
    for p in paths:
        count[p] = count.get(p, 0) + 1
    tables = {t.name for t in proto.graph.initializer}   # a Gather of one is an nn.Embedding: a layer
    for n, p in zip(proto.graph.node, paths):
        if n.op_type in ("Constant", "Identity", "Shape", "Gather", "Unsqueeze", "Concat") and not (
                n.op_type == "Gather" and n.input and n.input[0] in tables):
            continue
        if p and count[p] == 1:
            n.name = p
        elif p:
            n.name = f"{p}_{n.op_type.lower()}"


# ---- Brevitas ---------------------------------------------------------------

def brevitas_to_qonnx(model, input_shape=None):
    """A Brevitas model as QONNX (brevitas.export.export_qonnx, in memory,
    the TorchScript exporter), nodes named after their modules
    ('/1/weight_quant/export_handler/Quant' -> '1_weight_quant')."""
    torch = _need("torch", "a Brevitas model")
    _need("onnx", "converting a Brevitas model")
    try:
        from brevitas.export import export_qonnx
    except ImportError as e:
        raise EtchnnError("a Brevitas model needs the 'brevitas' package with its ONNX export "
                          f"(pip install brevitas onnxoptimizer): {e}") from e
    shape = torch_input_shape(model, input_shape)
    was_training = model.training
    model.eval()
    x = torch.zeros((1, *shape), dtype=torch.float32)
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                proto = export_qonnx(model, x, dynamo=False)
            except TypeError:   # a Brevitas or torch without the dynamo switch
                proto = export_qonnx(model, x)
    except Exception as e:  # the exporter's own message says what it could not export
        raise EtchnnError(f"Brevitas model {type(model).__name__}: QONNX export failed: {e}") from e
    finally:
        model.train(was_training)
    _name_after_modules(proto, drop=("export_handler", "activation_impl", "tensor_quant"))
    return proto


# ---- Keras 3 ---------------------------------------------------------------

_KERAS_ACT = {
    "relu": ("Relu", {}), "sigmoid": ("Sigmoid", {}), "tanh": ("Tanh", {}),
    "softmax": ("Softmax", {"axis": -1}), "hard_sigmoid": ("HardSigmoid", {"alpha": 1.0 / 6.0, "beta": 0.5}),
    "leaky_relu": ("LeakyRelu", {"alpha": 0.2}), "relu6": ("Clip", None),
}
KERAS_LAYERS = ("InputLayer", "Dense", "Activation", "ReLU", "LeakyReLU", "Softmax", "BatchNormalization",
                "Dropout", "Flatten", "Reshape", "Add")


class _OnnxBuilder:
    def __init__(self, onnx):
        self.onnx, self.h = onnx, onnx.helper
        self.nodes, self.inits = [], []

    def const(self, name, array):
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def node(self, op, inputs, name, **attrs):
        out = f"{name}_out"
        self.nodes.append(self.h.make_node(op, inputs, [out], name=name, **attrs))
        return out


def _keras_activation(b, act, x, name):
    if act in (None, "linear"):
        return x
    if act not in _KERAS_ACT:
        raise EtchnnError(f"Keras layer '{name}': activation '{act}' is not supported; expected one of "
                          f"{', '.join(['linear', *_KERAS_ACT])}")
    op, attrs = _KERAS_ACT[act]
    if op == "Clip":
        return b.node("Clip", [x, b.const(f"{name}_min", 0.0), b.const(f"{name}_max", 6.0)], name)
    return b.node(op, [x], name, **attrs)


def _keras_layer(b, layer, xs, rank):
    """Append the ONNX nodes of one Keras layer; returns the output name."""
    cls, name, cfg = type(layer).__name__, layer.name, layer.get_config()
    x = xs[0]
    w = [np.asarray(v) for v in layer.get_weights()]
    if cls == "Dense":
        kernel = w[0]
        bias = w[1] if cfg.get("use_bias", True) else np.zeros(kernel.shape[1])
        if rank == 1:
            y = b.node("Gemm", [x, b.const(f"{name}_kernel", kernel), b.const(f"{name}_bias", bias)], name)
        else:
            y = b.node("MatMul", [x, b.const(f"{name}_kernel", kernel)], name)
            y = b.node("Add", [y, b.const(f"{name}_bias", bias)], f"{name}_bias")
        act = cfg.get("activation")
        return _keras_activation(b, act, y, f"{name}_{act}")
    if cls == "Activation":
        return _keras_activation(b, cfg["activation"], x, name)
    if cls == "ReLU":
        if cfg.get("threshold", 0) and not cfg.get("negative_slope", 0) and cfg.get("max_value") is None:
            return b.node("ThresholdedRelu", [x], name, alpha=float(cfg["threshold"]))
        if cfg.get("negative_slope", 0) or cfg.get("threshold", 0):
            raise EtchnnError(f"Keras layer '{name}' (ReLU): negative_slope and threshold together, or threshold "
                              f"with max_value, are not supported")
        if cfg.get("max_value") is not None:
            return b.node("Clip", [x, b.const(f"{name}_min", 0.0), b.const(f"{name}_max", cfg["max_value"])], name)
        return b.node("Relu", [x], name)
    if cls == "LeakyReLU":
        return b.node("LeakyRelu", [x], name, alpha=float(cfg.get("negative_slope", cfg.get("alpha", 0.3))))
    if cls == "Softmax":
        axis = cfg.get("axis", -1)
        if not isinstance(axis, int):
            raise EtchnnError(f"Keras layer '{name}' (Softmax): expected one axis, got {axis}")
        return b.node("Softmax", [x], name, axis=axis)
    if cls == "BatchNormalization":
        axis = cfg.get("axis", -1)
        if axis not in (-1, rank):
            raise EtchnnError(f"Keras layer '{name}' (BatchNormalization): expected axis -1, got {axis}")
        it = iter(w)
        n = layer.moving_mean.shape[0]
        gamma = next(it) if cfg.get("scale", True) else np.ones(n)
        beta = next(it) if cfg.get("center", True) else np.zeros(n)
        mean, var = next(it), next(it)
        ins = [x] + [b.const(f"{name}_{k}", v) for k, v in
                     (("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var))]
        if rank != 1:
            raise EtchnnError(f"Keras layer '{name}' (BatchNormalization): expected a 1-D input per event, got rank {rank}")
        return b.node("BatchNormalization", ins, name, epsilon=float(cfg.get("epsilon", 1e-3)))
    if cls == "Dropout":
        return x
    if cls == "Flatten":
        return b.node("Flatten", [x], name, axis=1)
    if cls == "Reshape":
        b.inits.append(b.onnx.numpy_helper.from_array(np.array([-1, *cfg["target_shape"]], dtype=np.int64),
                                                      f"{name}_shape"))
        return b.node("Reshape", [x, f"{name}_shape"], name)
    if cls == "Add":
        if len(xs) != 2:
            raise EtchnnError(f"Keras layer '{name}' (Add): expected 2 inputs, got {len(xs)}")
        return b.node("Add", xs, name)
    raise EtchnnError(f"Keras layer '{name}' ({cls}) is not supported by the Python converter; expected one of "
                      f"{', '.join(KERAS_LAYERS)}")


def keras_archive(model):
    """The bytes of a Keras 3 archive (.keras: config.json and
    model.weights.h5) of `model`, built in memory, or None when this Keras
    cannot save to memory (the caller then translates the model to ONNX)."""
    try:
        from keras.src.saving import saving_lib
    except ImportError:
        return None
    if not callable(getattr(saving_lib, "save_model", None)):
        return None
    buf = io.BytesIO()
    try:
        saving_lib.save_model(model, buf)
    except (TypeError, ValueError, AttributeError):
        return None
    return buf.getvalue()


def _is_tf_keras(model):
    return any(c.__module__.split(".")[0] == "tf_keras" for c in type(model).__mro__)


def keras2_h5(model):
    """The bytes of a Keras 2 .h5 file (model_config and weights) of a
    tf_keras model (QKeras layers included), built in memory by tf_keras's
    own HDF5 saver."""
    import h5py
    try:
        from tf_keras.src.saving.legacy import hdf5_format
    except ImportError as e:
        raise EtchnnError(f"Keras 2 model '{model.name}': tf_keras's HDF5 saver is not importable ({e})") from e
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        hdf5_format.save_model_to_hdf5(model, f, include_optimizer=False)
    return buf.getvalue()


def keras_to_onnx(model):
    onnx = _need("onnx", "converting a Keras model")
    graph = getattr(model, "_functional", None) or model
    if not getattr(graph, "inputs", None):
        raise EtchnnError(f"Keras model '{model.name}': it has no known input shape; build it (keras.Input(...)) first")
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise EtchnnError(f"Keras model '{model.name}': expected one input and one output, "
                          f"got {len(graph.inputs)} and {len(graph.outputs)}")
    b = _OnnxBuilder(onnx)
    kin = graph.inputs[0]
    known = {id(kin): "input"}
    for op in graph.operations:
        if type(op).__name__ == "InputLayer":
            continue
        for node in op._inbound_nodes:
            ins = node.input_tensors
            if not ins or not all(id(t) in known for t in ins) or any(id(t) in known for t in node.output_tensors):
                continue
            rank = len(ins[0].shape) - 1
            y = _keras_layer(b, op, [known[id(t)] for t in ins], rank)
            for t in node.output_tensors:
                known[id(t)] = y
    out = graph.outputs[0]
    if id(out) not in known:
        raise EtchnnError(f"Keras model '{model.name}': could not follow the graph to its output")
    # the output tensor gets the name 'output'
    last = known[id(out)]
    if last == "input":
        raise EtchnnError(f"Keras model '{model.name}': it has no layers")
    for n in b.nodes:
        n.output[:] = ["output" if o == last else o for o in n.output]
        n.input[:] = ["output" if i == last else i for i in n.input]
    h = onnx.helper
    dims = ["batch", *[int(d) for d in kin.shape[1:]]]
    odims = ["batch", *[int(d) for d in out.shape[1:]]]
    g = h.make_graph(b.nodes, model.name,
                     [h.make_tensor_value_info("input", onnx.TensorProto.FLOAT, dims)],
                     [h.make_tensor_value_info("output", onnx.TensorProto.FLOAT, odims)], b.inits)
    return h.make_model(g, opset_imports=[h.make_opsetid("", 13)], producer_name="etchnn.keras")
