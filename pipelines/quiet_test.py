"""The start-up filter drops TensorFlow's known noise and nothing else."""
import os
import subprocess
import sys

from pipelines import quiet

CUFFT = ("2026-12-01 04:31:48.758677: E external/local_xla/xla/stream_executor/cuda/cuda_fft.cc:479]"
         " Unable to register cuFFT factory: Attempting to register factory for plugin cuFFT when "
         "one has already been registered\n")


def test_known_noise_is_dropped_and_other_lines_kept():
    text = CUFFT + "E some/real/error.cc:12] Could not open file: permission denied\n"
    assert quiet.drop_known_noise(text) == (
        "E some/real/error.cc:12] Could not open file: permission denied\n")


def test_tensorflow_import_leaves_no_noise_on_stderr():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="0")
    plain = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True,
                           text=True, env=env, check=True, timeout=300)
    assert quiet.KNOWN_NOISE.search(plain.stderr), "TensorFlow no longer prints this noise"
    result = subprocess.run(
        [sys.executable, "-c", "from pipelines import quiet; quiet.import_tensorflow_quietly();"
                               "import sys; print('imported', 'tensorflow' in sys.modules)"],
        capture_output=True, text=True, env=env, check=True, timeout=300)
    assert result.stdout.strip() == "imported True"
    assert not quiet.KNOWN_NOISE.search(result.stderr), result.stderr
