# Stand-in for PyTorch in the official-trainer checks' tests (NOT PyTorch): answers the probe's questions.
__version__ = '0.0+standin'


class cuda:  # noqa: N801 - mirrors torch.cuda
    @staticmethod
    def is_available():
        return False

    @staticmethod
    def device_count():
        return 0
