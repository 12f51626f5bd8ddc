// numpy cells for browser_test.js (run after its own cells, in the same kernel): numpy's
// metadata and %pip before the first import, which fetches numpy's Python files; then
// linalg, fft, random with a seed, the test-only modules left out, and accel.sum_f64 on
// numpy arrays. tests/lite/test_browser.py checks the results against values computed
// natively.
module.exports = {
  // numpy's metadata is staged with the kernel: installed before its files are fetched
  numpy_metadata: "import importlib.metadata, sys\n(importlib.metadata.version('numpy'), 'numpy' in sys.modules)",
  numpy_pip: "%pip install numpy",
  numpy_import: "import time\nt0 = time.monotonic()\nimport numpy as np\nprint(np.__version__, f'{time.monotonic() - t0:.3f}')",
  numpy_linalg: "x = np.linalg.solve(np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([9.0, 8.0]))\n"
    + "(x.tolist(), round(float(np.linalg.det(np.array([[1.0, 2.0], [3.0, 4.0]]))), 9), "
    + "np.linalg.eigvalsh(np.array([[2.0, 1.0], [1.0, 2.0]])).round(9).tolist())",
  numpy_fft: "(np.fft.fft(np.array([1.0, 2.0, 3.0, 4.0])).tolist(), np.fft.irfft(np.fft.rfft(np.arange(8.0))).round(9).tolist())",
  numpy_random: "(np.random.default_rng(42).integers(0, 1000, 5).tolist(), np.random.default_rng(7).standard_normal(2).tolist())",
  numpy_sum_f64: "import accel\n(await accel.sum_f64(np.arange(1000, dtype=np.float64)), await accel.sum_f64(np.ones(1_000_000)))",
  // numpy's test-only extension modules are not linked into the browser kernel
  numpy_test_modules: "import sys\n(sorted(m for m in sys.builtin_module_names if m.startswith('numpy.')), "
    + "[m for m in ('numpy._core._multiarray_tests', 'numpy._core._umath_tests') if __import__('importlib.util').util.find_spec(m)])",
  numpy_sum_f64_int: "try:\n    accel.sum_f64(np.arange(5))\nexcept TypeError as e:\n    print('TypeError:', e)",
};
