"""Optimizers and learning-rate schedules: ``from tinygrad_bn import optim``."""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam
from .adamw import AdamW
from .rmsprop import RMSprop
from .adagrad import Adagrad
from .adadelta import Adadelta
from .adamax import Adamax
from . import lr_scheduler
