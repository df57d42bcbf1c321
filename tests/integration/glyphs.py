#!/usr/bin/env python3
"""glyphs.py - does a line of text in a screenshot show glyphs or boxes?

  glyphs.py SHOT.png Y0 Y1 N      # the band of rows [Y0, Y1) holds N characters

Prints, per character cell, the share of ink in the middle of the cell and
exits 0 when every cell has ink there and the cells differ from each other
(glyphs), 1 when not (the hollow, identical boxes a browser draws for
characters no installed font has).  Used by test_report.sh on Chromium's
screenshot of the report; a control line of such characters checks that
this tells boxes from glyphs.  Only the standard library: PNG decoded here.
"""
import struct
import sys
import zlib


def png_ink(path):
    """Rows of booleans: dark pixel (R+G+B < 384).  8-bit RGB/RGBA only."""
    d = open(path, "rb").read()
    assert d[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    i, idat = 8, b""
    while i < len(d):
        n, typ = struct.unpack(">I4s", d[i:i + 8])
        body = d[i + 8:i + 8 + n]
        i += 12 + n
        if typ == b"IHDR":
            w, h, depth, ctype, _, _, lace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and lace == 0 and ctype in (2, 6), (depth, ctype, lace)
            bpp = 3 if ctype == 2 else 4
        elif typ == b"IDAT":
            idat += body
    raw, stride = zlib.decompress(idat), w * bpp
    rows, prev, o = [], bytearray(stride), 0
    for _ in range(h):
        f, line = raw[o], bytearray(raw[o + 1:o + 1 + stride])
        o += 1 + stride
        for x in range(stride):     # PNG filters, RFC 2083 section 6
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([sum(line[x * bpp:x * bpp + 3]) < 384 for x in range(w)])
        prev = line
    return rows


def cells(rows, y0, y1, n, grid=12):
    """The ink box of the band cut into n equal cells, each as a grid of
    ink shares."""
    band = rows[y0:y1]
    xs = [x for x in range(len(band[0])) if any(r[x] for r in band)]
    ys = [y for y, r in enumerate(band) if any(r)]
    if not xs:
        return []
    x0, x1, top, bot = xs[0], xs[-1] + 1, ys[0], ys[-1] + 1
    out = []
    for k in range(n):
        cx0, cx1 = x0 + (x1 - x0) * k // n, x0 + (x1 - x0) * (k + 1) // n
        g = []
        for gy in range(grid):
            ya, yb = top + (bot - top) * gy // grid, top + (bot - top) * (gy + 1) // grid
            for gx in range(grid):
                xa, xb = cx0 + (cx1 - cx0) * gx // grid, cx0 + (cx1 - cx0) * (gx + 1) // grid
                area = max(1, (yb - ya) * (xb - xa))
                g.append(sum(band[y][x] for y in range(ya, yb) for x in range(xa, xb)) / area)
        out.append(g)
    return out


def main():
    shot, y0, y1, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    cs = cells(png_ink(shot), y0, y1, n)
    if len(cs) != n:
        print("no ink in the band")
        return 1
    # a box is hollow: nothing in the middle third of its cell
    middle = [sum(g[y * 12 + x] for y in range(4, 8) for x in range(4, 8)) / 16 for g in cs]
    # and every box is the same box
    spread = min(sum(abs(a - b) for a, b in zip(cs[i], cs[j])) / len(cs[i])
                 for i in range(n) for j in range(i + 1, n))
    print("middle ink", " ".join("%.2f" % m for m in middle), "spread %.3f" % spread)
    return 0 if min(middle) > 0.05 and spread > 0.15 else 1


if __name__ == "__main__":
    sys.exit(main())
