"""Writes the .npy files NpyArrayTests reads, with NumPy's own writer (run from this folder; NumPy 1.24 made them).

Each file is as np.save writes it, except that the version is chosen: np.save picks 1.0 unless the header needs
more; 2.0 and 3.0 are written here with np.lib.format.write_array to cover their longer header length and UTF-8.
"""
import numpy as np
from numpy.lib import format

def save(name, array, version=None):
    with open(name, "wb") as f:
        format.write_array(f, array, version=version)

save("f4_v1.npy", np.array([[1.5, -2.0, 3.25], [0.0, 1e-3, 65504.0]], dtype="<f4"), (1, 0))
save("f8_v2.npy", np.arange(4, dtype="<f8") * 0.5, (2, 0))
save("i4_v3.npy", np.array([-1, 0, 2147483647], dtype="<i4"), (3, 0))
save("i8.npy", np.array([[-(2**40)], [7]], dtype="<i8"))
save("u1.npy", np.array([0, 255, 16], dtype="u1"))
save("b1.npy", np.array([True, False, True]))
save("scalar.npy", np.float32(2.5))
save("fortran.npy", np.asfortranarray(np.arange(4, dtype="<f4").reshape(2, 2)))
save("big_endian.npy", np.array([1, 2], dtype=">i4"))
save("object.npy", np.array([1, "a"], dtype=object))
