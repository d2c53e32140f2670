#!/usr/bin/env python3
"""Make the damaged NVS images under tests/data/nvs-tool/corrupt/ from generator vectors.

Our own script (stdlib only): each case takes a generator image from tests/data/nvs/ and changes a
few bytes the way a device, a power cut or bit rot can. Run from the repository root:
    python3 tests/tools/make_nvs_corrupt.py
The outputs are committed; this script documents how they were made.
"""
import os
import random
import sys
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data')
OUT = os.path.join(ROOT, 'nvs-tool', 'corrupt')
PAGE = 4096


def load(case):
    with open(os.path.join(ROOT, 'nvs', case, 'expected.bin'), 'rb') as f:
        return bytearray(f.read())


def eoff(p, i):
    return p * PAGE + 64 + 32 * i


def entry(img, p, i):
    o = eoff(p, i)
    return img[o:o + 32]


def fix_crc(img, p, i):
    o = eoff(p, i)
    e = img[o:o + 32]
    c = zlib.crc32(bytes(e[0:4] + e[8:32]), 0xFFFFFFFF)
    img[o + 4:o + 8] = c.to_bytes(4, 'little')


def set_state(img, p, i, st):  # 3 empty, 2 written, 0 erased, 1 illegal
    o = p * PAGE + 32 + i // 4
    sh = 2 * (i % 4)
    img[o] = (img[o] & ~(3 << sh) & 0xFF) | (st << sh)


def get_state(img, p, i):
    return (img[p * PAGE + 32 + i // 4] >> (2 * (i % 4))) & 3


def first_empty(img, p):
    for i in range(126):
        if get_state(img, p, i) == 3:
            return i
    raise SystemExit('no empty entry')


def find(img, pred):
    for p in range(len(img) // PAGE):
        if img[p * PAGE:p * PAGE + 4] == b'\xff' * 4:
            continue
        i = 0
        while i < 126:
            e = entry(img, p, i)
            span = e[2] if e[2] not in (0, 0xFF) else 1
            if get_state(img, p, i) == 2 and pred(e):
                yield p, i
            i += span


def key_is(e, k):
    return bytes(e[8:24]).rstrip(b'\0') == k


def put(img, p, i, data):
    o = eoff(p, i)
    img[o:o + len(data)] = data


def cases():
    c = {}
    # bad entry header CRC: one key byte changed, CRC left alone
    img = load('n12_namespaces')
    p, i = next(find(img, lambda e: e[0] == 1))
    img[eoff(p, i) + 8] ^= 0x20
    c['c01_entry_crc'] = img
    # bad page header CRC: sequence number changed, CRC left alone
    img = load('n12_namespaces')
    img[4] = 5
    c['c02_header_crc'] = img
    # orphan blob chunks: the BLOB_IDX items erased
    img = load('n07_multipage_blob_v2')
    for p, i in list(find(img, lambda e: e[1] == 0x48)):
        set_state(img, p, i, 0)
    c['c03_orphan_chunks'] = img
    # duplicate live key: a newer copy of a u8 item appended without erasing the old one
    img = load('n01_primitives_v2')
    p, i = next(find(img, lambda e: e[0] == 1 and e[1] == 0x01))
    e = bytearray(entry(img, p, i))
    e[24] ^= 0x5A
    j = first_empty(img, p)
    put(img, p, j, e)
    fix_crc(img, p, j)
    set_state(img, p, j, 2)
    c['c04_duplicate_key'] = img
    # runtime update: new value appended, old entry erased; a second erased entry purged (zeros)
    img = load('n01_primitives_v2')
    items = list(find(img, lambda e: e[0] == 1 and e[2] == 1))
    p, i = items[0]
    e = bytearray(entry(img, p, i))
    e[24] = 0x42
    j = first_empty(img, p)
    put(img, p, j, e)
    fix_crc(img, p, j)
    set_state(img, p, j, 2)
    set_state(img, p, i, 0)
    p2, i2 = items[1]
    set_state(img, p2, i2, 0)
    put(img, p2, i2, b'\0' * 32)
    c['c05_erased_update'] = img
    # interrupted garbage collection: first page left in state FREEING
    img = load('n07_multipage_blob_v2')
    img[0:4] = (0xFFFFFFF8).to_bytes(4, 'little')
    c['c06_freeing_page'] = img
    # bad string payload CRC
    img = load('n03_strings_v2')
    p, i = next(find(img, lambda e: e[1] == 0x21 and e[2] > 2))
    img[eoff(p, i + 1) + 3] ^= 0x01
    c['c07_data_crc'] = img
    # a missing chunk: the second chunk of a multi-page blob erased (header and payload)
    img = load('n07_multipage_blob_v2')
    p, i = next(find(img, lambda e: e[1] == 0x42 and e[3] == 1))
    for k in range(entry(img, p, i)[2]):
        set_state(img, p, i + k, 0)
    c['c08_missing_chunk'] = img
    # unknown type (0x24 = FLOAT of IDF >= 6.1), CRC fixed
    img = load('n01_primitives_v2')
    p, i = next(find(img, lambda e: e[0] == 1 and e[1] == 0x04))
    img[eoff(p, i) + 1] = 0x24
    fix_crc(img, p, i)
    c['c09_unknown_type'] = img
    # span out of bounds (a string whose span byte says 126), CRC fixed
    img = load('n03_strings_v2')
    p, i = next(find(img, lambda e: e[1] == 0x21 and e[2] > 2))
    img[eoff(p, i) + 2] = 126
    fix_crc(img, p, i)
    c['c10_span_oob'] = img
    # undefined namespace index, CRC fixed
    img = load('n01_primitives_v2')
    p, i = next(find(img, lambda e: e[0] == 1 and e[1] == 0x08))
    img[eoff(p, i)] = 7
    fix_crc(img, p, i)
    c['c11_undefined_ns'] = img
    # unused namespace and a second definition of an existing name
    img = load('n12_namespaces')
    j = first_empty(img, 0)
    for name, idx in ((b'unused', 9), (b'alpha', 12)):
        e = bytearray(b'\xff' * 32)
        e[0:4] = bytes([0, 0x01, 1, 0xFF])
        e[8:24] = name.ljust(16, b'\0')
        e[24] = idx
        put(img, 0, j, e)
        fix_crc(img, 0, j)
        set_state(img, 0, j, 2)
        j += 1
    c['c12_namespaces'] = img
    # page states: stored 0 ("Corrupted") and an unknown value ("Invalid")
    img = load('n13_page_boundaries_v2')
    img[PAGE:PAGE + 4] = b'\0\0\0\0'
    img[2 * PAGE:2 * PAGE + 4] = b'\x78\x56\x34\x12'
    c['c13_page_states'] = img
    # entry states: written-but-empty, erased-but-empty, illegal (01), torn write (data, state Empty)
    img = load('n01_primitives_v2')
    j = first_empty(img, 0)
    set_state(img, 0, j, 2)
    set_state(img, 0, j + 1, 0)
    set_state(img, 0, 1, 1)
    e = bytearray(entry(img, 0, 1))
    e[8:24] = b'torn'.ljust(16, b'\0')
    put(img, 0, j + 3, e)
    fix_crc(img, 0, j + 3)
    c['c14_entry_states'] = img
    # inconsistent data state: a string payload entry erased
    img = load('n03_strings_v2')
    p, i = next(find(img, lambda e: e[1] == 0x21 and e[2] > 2))
    set_state(img, p, i + 1, 0)
    c['c15_child_state'] = img
    # blob rewritten by the runtime: VER_1 chunk family (chunkStart 0x80), old family erased
    img = load('n06_blobs_inline_v2')
    for p, i in list(find(img, lambda e: e[1] in (0x42, 0x48))):
        e = entry(img, p, i)
        if e[1] == 0x42:
            img[eoff(p, i) + 3] = e[3] | 0x80
        else:
            img[eoff(p, i) + 29] = 0x80
        fix_crc(img, p, i)
    c['c16_blob_ver1'] = img
    # garbage page (bit rot): page 1 of a multi-page image overwritten with random bytes
    img = load('n13_page_boundaries_v2')
    rnd = random.Random(1234)
    img[PAGE:2 * PAGE] = bytes(rnd.randrange(256) for _ in range(PAGE))
    c['c17_garbage_page'] = img
    # power cut during a blob rewrite: old VER_0 chunks still written next to the new VER_1 set
    # (nvs_tool's checker crashes on this one: IndexError)
    img = load('n06_blobs_inline_v2')
    p, i = next(find(img, lambda e: e[1] == 0x42 and e[2] > 1))
    old = bytearray(img[eoff(p, i):eoff(p, i) + 32 * entry(img, p, i)[2]])
    j = first_empty(img, p)
    old[3] = 0x80
    put(img, p, j, old)
    fix_crc(img, p, j)
    for k in range(old[2]):
        set_state(img, p, j + k, 2)
    ix = next(q for q in find(img, lambda e: e[1] == 0x48 and bytes(e[8:24]) == bytes(old[8:24])))
    e = bytearray(entry(img, *ix))
    e[29] = 0x80
    put(img, p, j + old[2], e)
    fix_crc(img, p, j + old[2])
    set_state(img, p, j + old[2], 2)
    set_state(img, ix[0], ix[1], 0)
    c['c18_stale_blob_version'] = img
    return c


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, img in cases().items():
        with open(os.path.join(OUT, name + '.bin'), 'wb') as f:
            f.write(img)
        print(name)


if __name__ == '__main__':
    sys.exit(main())
