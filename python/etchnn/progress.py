"""A live status line for the long steps (Verilator build and run, synthesis).

The C library reports each step through a callback (etn_verify, etn_synth);
while a step runs, a ticker thread (the C call releases the GIL) redraws one
line on stderr every 0.25 s with the step, the elapsed time and, where the
step can be measured from the files it writes, how far it is:

    verify: Verilator C++ compile [##########----------]  12/25 objects  18.4 s
    synth: yosys  step 2.31 abc9  41.0 s

On a terminal or in a notebook the line is redrawn in place; in a log (not a
terminal) a line is printed when the step changes and every 15 s."""
import os
import pathlib
import re
import sys
import threading
import time


def _interactive(stream):
    if "ipykernel" in sys.modules:   # Jupyter: '\r' redraws the cell's output line
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def verilator_build(out_dir):
    """(done, total, unit) of the Verilator build in out_dir/verify/obj: C++
    objects compiled out of the sources Verilator wrote (+ bench and runtime)."""
    obj = pathlib.Path(out_dir) / "verify" / "obj"

    def measure():
        try:
            names = os.listdir(obj)
        except OSError:
            return None
        if "Vdut.mk" not in names:
            return "verilating (Verilog to C++)"
        total = sum(1 for n in names if n.endswith(".cpp")) + 3   # + tb.o, verilated.o, verilated_threads.o
        done = sum(1 for n in names if n.endswith(".o"))
        return min(done, total), total, "objects"
    return measure


_YOSYS_STEP = re.compile(rb"^(\d+(?:\.\d+)*)\. Executing ([A-Za-z0-9_]+)", re.M)


def yosys_log(out_dir, target):
    """The last pass yosys started, from its full log in out_dir/synth/."""
    log = pathlib.Path(out_dir) / "synth" / f"yosys_{target}_full.log"

    def measure():
        try:
            with open(log, "rb") as f:
                f.seek(0, 2)
                size = f.tell()
                f.seek(max(0, size - 65536))
                tail = f.read()
        except OSError:
            return None
        steps = _YOSYS_STEP.findall(tail)
        if not steps:
            return None
        num, name = steps[-1]
        return f"step {num.decode()} {name.decode().lower()}"
    return measure


class Progress:
    """Context manager: `with Progress(verbose, callback) as p: p.say(msg)`.
    verbose False: nothing is printed (callback, when given, still gets each
    message).  measures: {message prefix: (label, callable)}: while a message
    starting with that prefix is the current step, the line shows the label
    and what the callable returns, (done, total, unit) as a bar or a short
    text (None: the message itself)."""

    def __init__(self, verbose=True, callback=None, measures=None, stream=None, interval=0.25):
        self.verbose = bool(verbose)
        self.callback = callback
        self.measures = measures or {}
        self.stream = stream or sys.stderr
        self.interval = interval
        self.live = self.verbose and _interactive(self.stream)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.step, self.t_step, self.t0 = None, None, None
        self.last_print, self.width = 0.0, 0
        self.thread = None

    def __enter__(self):
        self.t0 = time.monotonic()
        if self.verbose:
            self.thread = threading.Thread(target=self._tick, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if self.thread:
            self.thread.join()
        if self.verbose and self.step is not None:
            with self.lock:
                self._draw(final=True)
        return False

    def say(self, message):
        """A new step, from the C library's callback."""
        if self.callback:
            self.callback(message)
        if not self.verbose:
            return
        with self.lock:
            if self.step is not None:
                self._draw(final=True)
            self.step, self.t_step = message, time.monotonic()
            self._draw(force=True)

    def _status(self):
        now = time.monotonic()
        text = self.step
        for prefix, (label, fn) in self.measures.items():
            if self.step.startswith(prefix):
                m = fn()
                if isinstance(m, tuple):
                    done, total, unit = m
                    k = int(20 * done / total) if total else 0
                    text = f"{label} [{'#' * k}{'-' * (20 - k)}] {done}/{total} {unit}"
                elif m:
                    text = f"{label}  {m}"
                break
        t = now - self.t_step
        return f"{text}  {t:.1f} s" if t >= 0.5 or text != self.step else text

    def _draw(self, force=False, final=False):
        """Live: redraw the line (and end it when final).  Log: print when
        forced (a new step) and every 15 s."""
        line = self.step if force and not self.live else self._status()
        if self.live:
            pad = max(0, self.width - len(line))
            self.stream.write("\r" + line + " " * pad + ("\n" if final else ""))
            self.width = 0 if final else len(line)
        elif force or (not final and time.monotonic() - self.last_print >= 15):
            self.stream.write(line + "\n")
            self.last_print = time.monotonic()
        else:
            return
        self.stream.flush()

    def _tick(self):
        while not self.stop.wait(self.interval):
            with self.lock:
                if self.step is not None:
                    self._draw()
