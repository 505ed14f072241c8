"""Keep TensorFlow's start-up noise off the user's terminal.

Importing TensorFlow 2.16 on a machine without a GPU writes "Unable to register cuFFT/cuDNN/cuBLAS
factory" lines (and, without TF_CPP_MIN_LOG_LEVEL, CUDA-driver, oneDNN and TensorRT notices) straight to file
descriptor 2 from C++, where Python's logging cannot filter them. They are harmless (see the
environment facts) and bury what the user needs, so the import runs with fd 2 captured and only the
lines that are not this known noise are written back.
"""
import os
import re
import sys
import tempfile

KNOWN_NOISE = re.compile(
    r"Unable to register (cuFFT|cuDNN|cuBLAS) factory"
    r"|oneDNN custom operations are on"
    r"|Could not find cuda drivers on your machine"
    r"|TF-TRT Warning: Could not find TensorRT"
    r"|This TensorFlow binary is optimized to use available CPU instructions"
    r"|To enable the following instructions: .* in other operations, rebuild TensorFlow")


def drop_known_noise(text: str) -> str:
    """`text` without the lines of TensorFlow's harmless start-up noise."""
    return "".join(line for line in text.splitlines(keepends=True)
                   if not KNOWN_NOISE.search(line))


def import_tensorflow_quietly() -> None:
    """Import TensorFlow once with its native start-up lines filtered; a no-op when it is loaded."""
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
        finally:
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
            captured.seek(0)
            sys.stderr.write(drop_known_noise(captured.read().decode("utf-8", "replace")))
            sys.stderr.flush()
