"""Unpickling without running code, for the CIFAR-10 batches.

A pickle is a small program: unpickling calls whatever functions the file
names (``os.system`` as readily as ``dict``), so Python's documentation warns
never to unpickle data one does not trust, and a file that merely has the
right name (``data_batch_1``) is no reason for trust.  The CIFAR-10 batches
hold dicts, lists, ints, byte strings and one uint8 array; everything but the
array is built by pickle's own opcodes, and the array needs exactly three
names from NumPy:

    numpy.core.multiarray._reconstruct   makes an empty array (NumPy >= 2 calls
                                         its module numpy._core.multiarray)
    numpy.ndarray                        the array type it is asked to make
    numpy.dtype                          the element type, here uint8

``SafeUnpickler.find_class`` hands out those three and refuses every other
name before anything is called, so a hostile file raises
``pickle.UnpicklingError`` instead of running.
"""
import io
import pickle

import numpy

# ndarray's own pickling recipe names its rebuilder; taking it from there works on NumPy 1 and 2
# without importing a private module.
_reconstruct = numpy.empty(0).__reduce__()[0]
ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,     # as the official files (NumPy 1) name it
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,    # as NumPy >= 2 names it
    ("numpy", "ndarray"): numpy.ndarray,
    ("numpy", "dtype"): numpy.dtype,
}


class SafeUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only the names in ``ALLOWED``."""

    def find_class(self, module, name):
        try:
            return ALLOWED[module, name]
        except KeyError:
            allowed = ", ".join(f"{m}.{n}" for m, n in ALLOWED)
            raise pickle.UnpicklingError(f"refused to load {module}.{name}: only dicts, lists, numbers, "
                                         f"strings and NumPy arrays ({allowed}) are allowed; "
                                         f"no other function was called") from None


def safe_loads(raw):
    """The object pickled in ``raw``; byte strings written by Python 2 stay ``bytes``."""
    return SafeUnpickler(io.BytesIO(raw), encoding="bytes").load()
