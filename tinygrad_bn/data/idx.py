"""The IDX file format (LeCun's format for MNIST): read and write.

An IDX file is a big-endian header followed by the raw array:

    bytes 0-1   zero
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    4 * d       the size of each dimension (unsigned 32-bit, big-endian)
    ...         prod(sizes) elements in C order, big-endian

so the first four bytes read as one integer, the *magic number*, are
``0x0803`` for an MNIST image file (uint8, 3 dimensions) and ``0x0801`` for
a label file.  Files may be gzipped; a file is read as gzip when it starts
with the gzip signature, whatever its name.
"""
import gzip
import struct
import zlib

import numpy

from .errors import DataFormatError

DTYPES = {0x08: numpy.dtype("u1"), 0x09: numpy.dtype("i1"), 0x0B: numpy.dtype(">i2"),
          0x0C: numpy.dtype(">i4"), 0x0D: numpy.dtype(">f4"), 0x0E: numpy.dtype(">f8")}
_GZIP_SIGNATURE = b"\x1f\x8b"


class IDXFormatError(DataFormatError):
    """A file that is not a valid IDX file (or not the IDX file that was expected)."""


def magic_number(dtype, ndim):
    """The first four header bytes as one integer, e.g. 0x0803 for uint8 with 3 dimensions."""
    codes = {d.newbyteorder("="): code for code, d in DTYPES.items()}
    native = numpy.dtype(dtype).newbyteorder("=")
    if native not in codes:
        raise TypeError(f"IDX cannot store dtype {native}: expected one of {[str(d) for d in codes]}")
    return codes[native] << 8 | ndim


def _read_bytes(path):
    """The file's bytes, decompressed when the file is gzipped."""
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.startswith(_GZIP_SIGNATURE):
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError as exc:
        raise IDXFormatError(path, "gzip stream is truncated (the file ends early)") from exc
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise IDXFormatError(path, f"corrupt gzip stream ({exc})") from exc


def read_idx(path):
    """The array stored in an IDX file (gzipped or raw), in native byte order."""
    data = _read_bytes(path)
    if len(data) < 4:
        raise IDXFormatError(path, f"file is truncated: {len(data)} bytes, an IDX header needs at least 4")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in DTYPES:
        raise IDXFormatError(
            path, f"wrong magic number 0x{int.from_bytes(data[:4], 'big'):08X}: an IDX file starts with "
                  f"two zero bytes and a type code in {sorted(hex(c) for c in DTYPES)}")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IDXFormatError(path, f"file is truncated inside the header: {len(data)} bytes, "
                                   f"the header of a {ndim}-dimensional array needs {header_size}")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = DTYPES[code]
    expected = int(numpy.prod(shape, dtype=numpy.int64)) * dtype.itemsize
    found = len(data) - header_size
    if found < expected:
        raise IDXFormatError(path, f"file is truncated: the header announces shape {shape} "
                                   f"({expected} data bytes) but only {found} follow")
    if found > expected:
        raise IDXFormatError(path, f"{found - expected} unexpected bytes after the data of shape {shape}")
    array = numpy.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=header_size)
    return array.reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array):
    """Write ``array`` as an IDX file; the file is gzipped when ``path`` ends in ``.gz``."""
    array = numpy.asarray(array)
    header = struct.pack(f">I{array.ndim}I", magic_number(array.dtype, array.ndim), *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(payload)
