"""Layers, containers, losses and initializers, PyTorch-shaped: ``from tinygrad_bn import nn``."""
from .module import Module, Parameter
from .container import Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict
from . import init, functional, utils
from .linear import Linear
from .embedding import Embedding
from .conv import Conv2d
from .pooling import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d
from .activation import (Sigmoid, ReLU, Tanh, GELU, LeakyReLU, ELU, Softplus, Identity, Softmax, LogSoftmax, SiLU, Mish,
                         Hardtanh, ReLU6, Hardsigmoid, Hardswish, LogSigmoid, Softsign, Tanhshrink, Softmin, SELU, CELU,
                         PReLU, Threshold, Softshrink, Hardshrink)
from .batchnorm import BatchNorm1d, BatchNorm2d, recompute_population_stats
from .dropout import Dropout
from .flatten import Flatten, Unflatten
from .rnn import RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell
from .upsampling import Upsample, UpsamplingNearest2d, UpsamplingBilinear2d
from .loss import (MSELoss, L1Loss, SmoothL1Loss, HuberLoss, KLDivLoss, CosineSimilarity, PairwiseDistance, NLLLoss,
                   CrossEntropyLoss, BCELoss, BCEWithLogitsLoss)
from .normalization import (LayerNorm, GroupNorm, InstanceNorm1d, InstanceNorm2d, BatchRenorm1d, BatchRenorm2d,
                            RenormWarmup, GhostBatchNorm1d, GhostBatchNorm2d)
