"""Optimizers and learning-rate schedules: ``from tinygrad_bn import optim``."""
from .optimizer import Optimizer
from .sgd import SGD
from . import lr_scheduler
