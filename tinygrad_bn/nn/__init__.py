"""Layers, containers and initializers, PyTorch-shaped: ``from tinygrad_bn import nn``."""
from .module import Module, Parameter, Sequential
