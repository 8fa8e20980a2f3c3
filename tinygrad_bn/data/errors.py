"""DataFormatError: a data file that is not in the format its loader expects.

Raised for files a user placed in the data root (which are checked for
format and consistency, not checksums) and for files that changed after a
verified download.  The message starts with the file, then says what was
wrong and what was expected.
"""


class DataFormatError(ValueError):
    """``path``: the file (or the archive member) at fault; ``problem``: what was wrong and what was expected."""

    def __init__(self, path, problem):
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = path, problem
