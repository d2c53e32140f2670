#!/usr/bin/env python3
"""Differential test: espforge's gen_esp32part twin against the reference gen_esp32part.py on
random partition CSVs (and random binary tables made from them).

usage: bench/part_diff.py [--count N] [--seed S] [--espforge build/espforge] [--keep DIR]

The reference is looked up as $ESF_REF_DIR/esp-idf/components/partition_table/gen_esp32part.py
(ESF_REF_DIR defaults to ../ref next to the checkout, then /work/ref); when it is absent the
script prints SKIP and exits 0. It only runs the reference; nothing of it is copied.

A case agrees when: the exit status is equal (or the reference crashed with a traceback, exit 1,
and the twin exited 2 with a message and no output file); stdout and the output file are
byte-identical; stderr is identical once the twin's own "gen_esp32part.py: warning:" lines
are removed. Prints counts per outcome and the first disagreements.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

TYPES = ['app', 'data', 'bootloader', 'partition_table', 'APP', 'Data', '0', '1', '2', '3', '0x40',
         '0xfe', '64', '254', '255', '0x100', 'dta', '', 'appk', ' data ']
APP_SUB = ['factory', 'test', 'ota_0', 'ota_1', 'ota_2', 'ota_15', 'ota_16', 'tee_0', 'tee_1',
           '0x10', '0x20', '', 'FACTORY', 'nvs', '0', '0x31']
DATA_SUB = ['ota', 'phy', 'nvs', 'coredump', 'nvs_keys', 'efuse', 'undefined', 'esphttpd', 'fat',
            'spiffs', 'littlefs', 'tee_ota', '', 'NVS', '0x81', '0x40', '0xfe', '6', 'factory',
            'my_sub']
BOOT_SUB = ['primary', 'ota', 'recovery', '', '5', '0x7']
NAMES = ['nvs', 'otadata', 'phy_init', 'factory', 'ota_0', 'ota_1', 'app', 'data', 'storage',
         'coredump', 'fctry', 'test', 'primary', 'a' * 16, 'b' * 17, 'name_of_20_chars_xyz', '',
         'vfs', 'nvs_key', 'spiffs', 'x y', '"q"', 'ünïcödé', 'ünïcödé_long_name', '$HOME',
         'tab\tname', 'bootloader', 'a#b', '\u00a0nbsp\u2003', 'x\u2028y', 'k\u212a', 'ＡＢ',
         'abcdefghijklmnoé', 'd\x1fe']
FLAGS = ['', '', '', 'encrypted', 'readonly', 'encrypted:readonly', 'readonly:encrypted',
         ':readonly', 'encrypted ', 'secure', 'readonly::', 'ENCRYPTED']


EXOTIC = [0.3]  # per-case chance of an unusual field value


def rnd_size(r, app):
    unit = 0x10000 if app else 0x1000
    kind = r.random()
    if r.random() > EXOTIC[0] and kind >= 0.72:
        kind = r.random() * 0.65
    if kind < 0.35:
        return hex(unit * r.randint(1, 40))
    if kind < 0.55:
        return '%dK' % (4 * r.randint(1, 400))
    if kind < 0.65:
        return '%dM' % r.randint(1, 3)
    if kind < 0.72:
        return str(unit * r.randint(1, 20))
    if kind < 0.78:
        return '-%dM' % r.randint(1, 8)
    return r.choice(['0x1000', '0x2000', '0x3000', '0x6000', '1M', '0x100800', '64k', '0x10K',
                     '24_576', '0x_6000', '010', '1.5M', '0x6000x', '', '0', '1kk', '0X1000',
                     ' 0x1000 ', '-0x1000', '0x1_0000', '4096 ', '0b1000000000000',
                     '0o10000', '99999999999', '4\u212a', '1\u00a0K', '４K', '0x1000\u3000'])


def rnd_offset(r, app, cursor):
    kind = r.random()
    if kind < 0.6:
        return ''
    if r.random() > EXOTIC[0]:
        return ''
    align = 0x10000 if app else 0x1000
    if kind < 0.85:
        return hex((cursor + align - 1) // align * align + align * r.randint(0, 2))
    return r.choice(['0x9000', '0x8000', '0x7000', '0x10000', '0x11000', '0x20000', 'N/A',
                     '0x340000', hex(cursor + 0x800), '64K'])


def rnd_row(r, cursor):
    t = r.choice(TYPES) if r.random() < EXOTIC[0] else r.choice(['app', 'data', 'data', 'data'])
    tl = t.strip().lower()
    if tl in ('app', '0', 'appk'):
        sub = r.choice(APP_SUB) if r.random() < EXOTIC[0] else r.choice(
            ['factory', 'ota_0', 'ota_1', 'ota_3', 'test', 'tee_0'])
        app = True
    elif tl in ('bootloader', '2', 'partition_table', '3'):
        sub = r.choice(BOOT_SUB)
        app = False
    else:
        sub = r.choice(DATA_SUB) if r.random() < EXOTIC[0] else r.choice(
            ['nvs', 'phy', 'fat', 'spiffs', 'littlefs', 'coredump', 'nvs_keys', '0x40', 'undefined'])
        app = False
    name = r.choice(NAMES) if r.random() < EXOTIC[0] else 'p%d' % r.randint(0, 9999)
    fields = [name, t, sub, rnd_offset(r, app, cursor), rnd_size(r, app), r.choice(FLAGS) if r.random() < EXOTIC[0] else r.choice(['', '', 'encrypted', 'readonly'])]
    if r.random() < 0.3:
        fields = fields[:5]
    if r.random() < 0.05:
        fields.append('extra')
    sep = r.choice([',', ', ', ' , ', ',\t'])
    return sep.join(fields)


def rnd_csv(r):
    lines = []
    if r.random() < 0.5:
        lines.append('# Name,   Type, SubType, Offset,  Size, Flags')
    cursor = 0x9000
    for _ in range(r.randint(0, 10)):
        k = r.random()
        if k < 0.06:
            lines.append('')
        elif k < 0.1:
            lines.append('   # a comment, with commas')
        elif k < 0.12 and r.random() < EXOTIC[0]:
            lines.append('$ESF_UNSET_VARIABLE_X, data, nvs, , 0x6000')
        elif k < 0.14:
            lines.append('${ESF_DIFF_NAME}, data, nvs, , 0x6000')
        else:
            lines.append(rnd_row(r, cursor))
            cursor += 0x10000
    if r.random() < 0.05:
        lines = ['nvs, data, nvs, , 0x6000'] * r.randint(90, 97)
    eol = r.choice(['\n', '\n', '\r\n', '\r'])
    text = eol.join(lines) + (eol if r.random() < 0.8 else '')
    data = text.encode('utf-8')
    k = r.random()
    if k < 0.03:
        data = b'\xef\xbb\xbf' + data
    elif k < 0.05:
        data = text.encode('utf-16')
    elif k < 0.06:
        data = data + b'\xff'
    return data


def rnd_args(r):
    a = []
    if r.random() < 0.2:
        a += ['--offset', r.choice(['0x9000', '0x10000', '0xa000', '0x8000', '36864', '0x10800'])]
    if r.random() < 0.15:
        a += ['--disable-md5sum']
    if r.random() < 0.15:
        a += ['--secure', r.choice(['v1', 'v2'])]
    if r.random() < 0.15:
        a += ['--flash-size', r.choice(['1MB', '2MB', '4MB', '8MB'])]
    if r.random() < 0.1:
        a += ['--no-verify']
    if r.random() < 0.2:
        a += ['--primary-bootloader-offset', r.choice(['0x1000', '0x0', '0x2000'])]
    if r.random() < 0.1:
        a += ['--recovery-bootloader-offset', r.choice(['0x100000', '0x3f0000'])]
    if r.random() < 0.1:
        a += ['--extra-partition-subtypes'] + r.sample(
            ['data,my_sub,40', 'app,my_app,0x50', 'data,dup,81', 'foo,bar,0', 'data,Upper,41',
             'data,bigk,42', 'bootloader,extra,9', 'data, spaced , 43 '], r.randint(1, 2)) + ['--']
    if r.random() < 0.7:
        a += ['-q']
    return a


def mangle_argv(r, a, inp, out):
    """The same options spelled differently: --opt=value, unique prefixes, input first, a '--'."""
    b = []
    i = 0
    while i < len(a):
        x = a[i]
        if x.startswith('--') and x != '--' and r.random() < 0.4:
            x = x[:r.randint(5, len(x))]  # a prefix, maybe ambiguous or too short
        if (x.startswith('--off') or x.startswith('--pri') or x.startswith('--rec')) and i + 1 < len(a) \
                and r.random() < 0.5:
            b.append(x + '=' + a[i + 1])
            i += 2
            continue
        b.append(x)
        i += 1
    k = r.random()
    if k < 0.3:
        return [inp] + b + [out]          # argparse then refuses OUTPUT as unrecognized
    if k < 0.5 and '--extra-partition-subtypes' not in a:
        return b + ['--', inp, out]
    if k < 0.6:
        return b + [inp]                  # output to stdout
    return b + [inp, out]


def run(cmd, cwd, env):
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--count', type=int, default=500)
    ap.add_argument('--seed', default='1')
    ap.add_argument('--espforge', default=os.path.join(ROOT, 'build', 'espforge'))
    ap.add_argument('--keep', help='copy disagreeing cases here')
    args = ap.parse_args()
    refdir = os.environ.get('ESF_REF_DIR') or os.path.join(os.path.dirname(ROOT), 'ref')
    ref = os.path.join(refdir, 'esp-idf/components/partition_table/gen_esp32part.py')
    if not os.path.exists(ref):
        ref = '/work/ref/esp-idf/components/partition_table/gen_esp32part.py'
    if not os.path.exists(ref):
        print('SKIP: reference gen_esp32part.py not found (set ESF_REF_DIR)')
        return 0
    py = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable
    r = random.Random(args.seed)
    env = dict(os.environ, ESF_DIFF_NAME='envname')
    env.pop('ESF_UNSET_VARIABLE_X', None)
    counts = {}
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.count):
            case = os.path.join(tmp, str(i))
            os.makedirs(case)
            EXOTIC[0] = r.choice([0.02, 0.1, 0.3])
            data = rnd_csv(r)
            a = rnd_args(r)
            binary_case = r.random() < 0.25
            with open(os.path.join(case, 'in.csv'), 'wb') as f:
                f.write(data)
            inp = 'in.csv'
            if binary_case:
                # make a binary table with the reference, then maybe damage it
                rc, _, _ = run([py, ref, '-q', 'in.csv', 'in.bin'], case, env)
                if rc != 0:
                    continue
                b = bytearray(open(os.path.join(case, 'in.bin'), 'rb').read())
                k = r.random()
                if k < 0.3 and len(b) > 40:
                    pos = r.randrange(2, min(len(b), 200))
                    b[pos] ^= 1 << r.randrange(8)
                elif k < 0.4:
                    b = b[:r.randrange(2, len(b))]
                open(os.path.join(case, 'in.bin'), 'wb').write(bytes(b))
                inp = 'in.bin'
                a = [x for x in a if x not in ('--offset',)]
            out = r.choice(['out.bin', 'sub/dir/out.bin', '-'])
            argv = a + [inp, out]
            if r.random() < 0.3:
                argv = mangle_argv(r, a, inp, out)
            ref_rc, ref_so, ref_se = run([py, ref] + argv, case, env)
            ref_out = None
            if out != '-' and os.path.exists(os.path.join(case, out)):
                ref_out = open(os.path.join(case, out), 'rb').read()
                shutil.rmtree(os.path.join(case, 'sub'), ignore_errors=True)
                if os.path.exists(os.path.join(case, out)):
                    os.remove(os.path.join(case, out))
            my_rc, my_so, my_se = run([args.espforge, 'gen_esp32part'] + argv, case, env)
            my_out = None
            if out != '-' and os.path.exists(os.path.join(case, out)):
                my_out = open(os.path.join(case, out), 'rb').read()
            my_se_ref = b''.join(l for l in my_se.splitlines(True)
                                 if not l.startswith(b'gen_esp32part.py: warning:'))
            if ref_rc == 1:
                ok = my_rc == 2 and my_out is None and my_se.strip() != b'' and my_so == b''
                kind = 'reference crashed, twin exit 2'
            else:
                ok = (ref_rc == my_rc and ref_so == my_so and ref_out == my_out and
                      (ref_rc == 2 and ref_se.startswith(b'usage:') or ref_se == my_se_ref))
                kind = 'exit %d%s' % (ref_rc, ' (binary input)' if binary_case else '')
            counts[(kind, ok)] = counts.get((kind, ok), 0) + 1
            if not ok:
                bad.append((i, a, inp, out, ref_rc, my_rc, ref_se[-600:], my_se[-600:]))
                if args.keep:
                    shutil.copytree(case, os.path.join(args.keep, str(i)), dirs_exist_ok=True)
    total = sum(counts.values())
    agree = sum(v for (k, ok), v in counts.items() if ok)
    for (k, ok), v in sorted(counts.items()):
        print('%-45s %-9s %d' % (k, 'agree' if ok else 'DISAGREE', v))
    print('part_diff: %d cases, %d agree, %d disagree (seed %s)' % (total, agree, total - agree, args.seed))
    for b in bad[:8]:
        print('--- case %d args %r input %s output %s: reference exit %d, twin exit %d' % b[:6])
        print('reference stderr:', b[6].decode('utf-8', 'replace'))
        print('twin stderr:     ', b[7].decode('utf-8', 'replace'))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
