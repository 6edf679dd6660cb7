# A PyTorch install that fails to import, for the official-trainer checks' tests.
raise ImportError('libtorch_cpu.so: cannot open shared object file (stand-in failure)')
