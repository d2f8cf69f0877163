"""memo_utils: the computations behind the memorization book.

Imports need only torch and numpy, so experiments run with ``python -m memo_utils`` on a
GPU machine without Jupyter; plotting and widgets are imported by the chapters.
"""
__version__ = "0.1.0"
