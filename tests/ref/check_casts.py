#!/usr/bin/env python3
"""Compare hls4ml_semantics' casts with the ap_fixed headers shipped in the
hls4ml wheel (templates/vivado/ap_types), for every quantization and
overflow mode.

    python tests/ref/check_casts.py

Writes a small C++ program into a temporary folder, builds it with g++ and
feeds it random codes and doubles. Three conversions per mode pair:
fixed<24,10> -> fixed<8,3,Q,O>, double -> fixed<8,3,Q,O>,
fixed<24,10> -> ufixed<6,2,Q,O>. Exits 1 on any difference.
"""

import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hls4ml_semantics import OVF_MODES, QUANT_MODES, FixedType, cast_codes, double_to_codes  # noqa: E402


def ap_types_dir():
    import importlib.util

    spec = importlib.util.find_spec('hls4ml')
    return os.path.join(os.path.dirname(spec.origin), 'templates', 'vivado', 'ap_types')


def program():
    lines = ['#include "ap_fixed.h"', '#include <cstdio>', 'int main() {', '  long long c; double d;',
             '  while (scanf("%lld %lf", &c, &d) == 2) {', '    ap_fixed<24,10> s; s.range() = c;']
    for q in QUANT_MODES:
        for o in OVF_MODES:
            a = f'AP_{q},AP_{o}'
            lines.append(f'    {{ ap_fixed<8,3,{a}> t = s; ap_fixed<8,3,{a}> u = d; ap_ufixed<6,2,{a}> v = s;')
            lines.append('      printf("%lld %lld %lld ", (long long)t.range().to_int64(),'
                         ' (long long)u.range().to_int64(), (long long)v.range().to_int64()); }')
    lines += ['    printf("\\n");', '  }', '}']
    return '\n'.join(lines) + '\n'


def main():
    rng = np.random.default_rng(1)
    lo = -(1 << 23)
    c = np.concatenate([rng.integers(lo, -lo, 20000), np.arange(-(1 << 12), 1 << 12),
                        [-(4 << 14), -(4 << 14) - 1, -(4 << 14) + 1, 4 << 14, lo, -lo - 1]])
    d = np.concatenate([rng.normal(0, 3, len(c) - 200), rng.integers(-300, 300, 200) / 32.0])
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'casts.cpp')
        exe = os.path.join(tmp, 'casts')
        with open(src, 'w') as f:
            f.write(program())
        subprocess.run(['g++', '-O1', '-I', ap_types_dir(), src, '-o', exe], check=True)
        text = '\n'.join(f'{int(a)} {float(b)!r}' for a, b in zip(c, d)) + '\n'
        out = subprocess.run([exe], input=text, capture_output=True, text=True, check=True).stdout
    ref = np.array([[int(v) for v in line.split()] for line in out.splitlines() if line.strip()])
    bad, k = 0, 0
    for q in QUANT_MODES:
        for o in OVF_MODES:
            t, u = FixedType(8, 3, True, q, o), FixedType(6, 2, False, q, o)
            mine = [cast_codes(c, 14, t) & 0xFF, double_to_codes(d, t) & 0xFF, cast_codes(c, 14, u) & 0x3F]
            for j, (label, m) in enumerate(zip(('fixed->fixed', 'double->fixed', 'fixed->ufixed'), mine)):
                n = int((m != ref[:, k + j]).sum())
                bad += n
                if n:
                    print(f'{q},{o} {label}: {n} differences')
            k += 3
    print(f'{len(c)} values x {len(QUANT_MODES) * len(OVF_MODES)} mode pairs x 3 conversions: {bad} differences')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
