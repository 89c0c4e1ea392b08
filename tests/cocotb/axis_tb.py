"""cocotb test bench of an etchnn AXI4-Stream wrapper (OUT/rtl/NAME_axis.v), driven by
tests/test_firmware_axis.py through cocotb's runner.

The events and the expected results (from `etchnn predict`, the bit-exact emulator) come
in files named by environment variables, one event per line as a hexadecimal integer
(element k in bits [k*W +: W], the wrapper's tdata):

  AXIS_IN, AXIS_OUT   input / expected output events
  AXIS_MODE           random:       random valid gaps at the source, random ready gaps at
                                    the sink, input packets of 1-8 events (TLAST only on
                                    a packet's last beat: the wrapper ignores it)
                      backpressure: the source never pauses, the sink stalls for long
                                    stretches (20-300 clocks) between short bursts
                      throughput:   no pause anywhere: one event per clock, checked
  AXIS_SEED           the random gaps' seed

Checks: every result arrives exactly once, in order, bit for bit; each output beat is a
packet of its own (TLAST on every beat); nothing more arrives afterwards.  The counts
are printed in one line starting with AXIS-RESULT for the calling test.
"""
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource


def bit(sig):
    return str(sig.value) == "1"


def random_gaps(rng, p):
    while True:
        yield rng.random() < p


def long_stalls(rng):
    """The sink: stalled for 20-300 clocks, then ready for 1-12."""
    while True:
        for _ in range(rng.randint(20, 300)):
            yield True
        for _ in range(rng.randint(1, 12)):
            yield False


def read_events(path):
    with open(path) as f:
        return [int(line, 16) for line in f if line.strip()]


@cocotb.test()
async def axis_events(dut):
    mode = os.environ.get("AXIS_MODE", "random")
    rng = random.Random(int(os.environ.get("AXIS_SEED", "1")))
    xs = read_events(os.environ["AXIS_IN"])
    ys = read_events(os.environ["AXIS_OUT"])
    assert len(xs) == len(ys)
    bi = len(dut.s_axis_tdata) // 8
    bo = len(dut.m_axis_tdata) // 8

    cocotb.start_soon(Clock(dut.aclk, 10, unit="ns").start())
    source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.aclk, dut.aresetn, reset_active_level=False)
    sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.aclk, dut.aresetn, reset_active_level=False)
    if mode == "random":
        source.set_pause_generator(random_gaps(rng, 0.3))
        sink.set_pause_generator(random_gaps(rng, 0.4))
    elif mode == "backpressure":
        sink.set_pause_generator(long_stalls(rng))
    else:
        assert mode == "throughput", mode

    dut.aresetn.value = 0
    await ClockCycles(dut.aclk, 5)
    dut.aresetn.value = 1
    await RisingEdge(dut.aclk)

    # the handshakes, clock by clock
    stats = {"in": 0, "out": 0, "in_stalled": 0, "out_stalled": 0, "first_in": None, "first_out": None,
             "last_out": None, "cycle": 0}

    async def monitor():
        while True:
            await RisingEdge(dut.aclk)
            c = stats["cycle"] = stats["cycle"] + 1
            if bit(dut.s_axis_tvalid):
                if bit(dut.s_axis_tready):
                    stats["in"] += 1
                    if stats["first_in"] is None:
                        stats["first_in"] = c
                else:
                    stats["in_stalled"] += 1
            if bit(dut.m_axis_tvalid):
                assert bit(dut.m_axis_tlast), f"clock {c}: m_axis_tlast low on a beat"
                if bit(dut.m_axis_tready):
                    stats["out"] += 1
                    stats["last_out"] = c
                    if stats["first_out"] is None:
                        stats["first_out"] = c
                else:
                    stats["out_stalled"] += 1

    cocotb.start_soon(monitor())

    async def send():
        k = 0
        while k < len(xs):
            n = rng.randint(1, 8) if mode == "random" else 1
            data = b"".join(x.to_bytes(bi, "little") for x in xs[k:k + n])
            await source.send(AxiStreamFrame(data))
            k += n

    cocotb.start_soon(send())
    got = []
    for i in range(len(ys)):
        frame = await with_timeout(sink.recv(), 2_000_000, "ns")
        assert len(frame.tdata) == bo, f"result {i}: a packet of {len(frame.tdata)} bytes, expected one beat ({bo})"
        got.append(int.from_bytes(bytes(frame.tdata), "little"))
    await ClockCycles(dut.aclk, 200)
    extra = 0
    while not sink.empty():
        sink.recv_nowait()
        extra += 1
    mismatches = sum(1 for a, b in zip(got, ys) if a != b)
    first_bad = next((i for i, (a, b) in enumerate(zip(got, ys)) if a != b), None)
    span = stats["last_out"] - stats["first_out"] + 1
    dut._log.info("AXIS-RESULT mode=%s events=%d received=%d mismatches=%d extra=%d in_stalled=%d out_stalled=%d "
                  "cycles=%d out_span=%d", mode, len(ys), len(got), mismatches, extra, stats["in_stalled"],
                  stats["out_stalled"], stats["cycle"], span)
    assert extra == 0, f"{extra} results more than events"
    assert stats["in"] == len(xs) and stats["out"] == len(ys), stats
    assert mismatches == 0, f"{mismatches} results differ; first: event {first_bad}: " \
        f"expected {ys[first_bad]:x}, got {got[first_bad]:x}"
    if mode == "throughput":
        assert stats["in_stalled"] == 0 and stats["out_stalled"] == 0, stats
        assert span == len(ys), f"{len(ys)} results took {span} clocks: not one per clock"
    if mode == "backpressure":
        assert stats["in_stalled"] > 0 and stats["out_stalled"] > 0, stats
