"""One QKeras case of the peer suite, hls4ml's side, in a process of its own: QKeras 0.9 needs TensorFlow's Keras 2
(tf_keras, TF_USE_LEGACY_KERAS=1), which must not meet the Keras 3 of the other cases.  hls4ml is run as in a
Keras 2 installation (the one QKeras needs): it is shown tf_keras's version, so it reads the model with its Keras 2
reader, as hls4ml's test_qkeras.py does.

    python3 -m tests.peer.qkeras_child NAME WORKDIR N SEED     (from the repository root; run.py calls it)

Writes WORKDIR/m.json and m_weights.h5 (the model, for etchnn), x<k>.npy (the inputs), cfg.yml (hls4ml's
configuration), and y_hls4ml.npy (its C simulation) or hls4ml_error.txt."""
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(name, work, n, seed):
    import pathlib
    import traceback

    import numpy as np
    work = pathlib.Path(work)
    work.mkdir(parents=True, exist_ok=True)
    import keras
    import tf_keras
    import yaml
    keras.__version__ = tf_keras.__version__
    import qkeras
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent.parent))
    from tests.peer.cases import by_name
    c = by_name()[name]
    tf_keras.utils.set_random_seed(seed)
    xs = [np.ascontiguousarray(x, dtype=np.float64) for x in c.inputs(np.random.default_rng(seed), n)]
    for k, x in enumerate(xs):
        np.save(work / f"x{k}.npy", x)
    m = c.build(tf_keras, qkeras)
    (work / "m.json").write_text(m.to_json())
    m.save_weights(str(work / "m_weights.h5"))
    try:
        import hls4ml
        cfg = c.config(hls4ml, m)
        (work / "cfg.yml").write_text(yaml.safe_dump({k: v for k, v in cfg.items() if k != "KerasModel"}, sort_keys=False))
        if c.convert:
            hm = c.convert(hls4ml, m, cfg, str(work / "prj"), c.io_type)
        else:
            hm = hls4ml.converters.convert_from_keras_model(m, output_dir=str(work / "prj"), io_type=c.io_type,
                                                            backend="Vivado", hls_config=cfg)
        hm.compile()
        ref = hm.predict(xs if len(xs) > 1 else xs[0])
        ref = ref if isinstance(ref, list) else [ref]
        np.save(work / "y_hls4ml.npy", np.concatenate([np.asarray(r, dtype=np.float64).reshape(n, -1) for r in ref], axis=1))
    except Exception as e:
        (work / "hls4ml_error.txt").write_text(f"{type(e).__name__}: {e}\n{traceback.format_exc()}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
