"""From a notebook to firmware: train a jet-tagger-shaped Keras 3 model, turn
it into bit-exact fixed-point firmware with etchnn, look at where the bits go,
write the project and print its report.  Run it like a notebook, cell by cell,
or as a script:

    pip install .  keras torch onnx matplotlib     # from the repository root
    KERAS_BACKEND=torch python examples/train_and_convert.py

The data are synthetic: 16 jet features, 5 classes (the shape of the hls4ml
jet-tagging benchmark), each class a Gaussian blob with its own mean."""
# %% setup
import os
import time

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np
import keras

import etchnn
from etchnn import profiling

rng = np.random.default_rng(0)
n_features, n_classes = 16, 5
centers = rng.normal(0, 1.0, (n_classes, n_features))
labels = rng.integers(0, n_classes, 20000)
x = (centers[labels] + rng.normal(0, 1.2, (len(labels), n_features))).astype(np.float32)
x_train, y_train, x_test, y_test = x[:15000], labels[:15000], x[15000:], labels[15000:]

# %% train: the hls4ml jet tagger's shape, 16 -> 64 -> 32 -> 32 -> 5
keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input((n_features,)),
    keras.layers.Dense(64, activation="relu", name="fc1"),
    keras.layers.Dense(32, activation="relu", name="fc2"),
    keras.layers.Dense(32, activation="relu", name="fc3"),
    keras.layers.Dense(n_classes, name="output"),
    keras.layers.Activation("softmax", name="softmax"),
], name="jet_tagger")
model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=5, batch_size=256, verbose=0)
float_acc = (model.predict(x_test, verbose=0).argmax(1) == y_test).mean()

# %% configure: one precision per layer, as hls4ml users write it
config = etchnn.config_from_model(model, granularity="name", default_precision="fixed<16,6>")
config["LayerName"]["fc1"]["Precision"]["weight"] = "fixed<8,3>"     # narrower weights in the first layer
print(list(config["LayerName"]))

# %% convert and predict: bit-exact, in this process
t = time.perf_counter()
fw = etchnn.convert(model, config=config, output_dir="etchnn_prj/jet_tagger", clock_mhz=200,
                    project_name="jet_tagger")
print(f"converted in {time.perf_counter() - t:.2f} s: {fw}")
y_fixed = fw.predict(x_test)
fixed_acc = (y_fixed.argmax(1) == y_test).mean()
print(f"accuracy: float {float_acc:.4f}, firmware {fixed_acc:.4f}")
x_many = np.resize(x_test, (1_000_000, n_features))
t = time.perf_counter()
fw.predict(x_many)
print(f"predict: {len(x_many) / (time.perf_counter() - t):.3g} events/s on 10^6 events")

# %% where the bits go: distributions against each type's range, and per-layer error
os.makedirs("etchnn_prj", exist_ok=True)
fig = profiling.numerical(model, fw, x_test[:2000])
fig.savefig("etchnn_prj/jet_tagger_profile.png", dpi=90)
print(profiling.compare(model, fw, x_test[:2000]))

# %% per-layer outputs of one event
for name, values in fw.trace(x_test[0]).items():
    print(f"{name:10s} {values[:4]}")

# %% write the project (C emulator, Verilog, report) and print the report
out = fw.write()
print(f"wrote {out}: {sorted(p.name for p in out.iterdir())}")
print(fw.report())

# %% verify the Verilog against the emulator (Verilator): a live progress line while it builds
result = fw.verify(x_test[:1000])
print(result)
assert result.ok
