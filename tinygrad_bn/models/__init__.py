"""Architectures to train or study, built from tinygrad_bn.nn (as torchvision.models is from torch.nn).

    resnet   the CIFAR residual networks of He et al. (2016), section 4.2: ResNet, BasicBlock,
             resnet20, resnet110; normalization layer and shortcut option as arguments
"""
from .resnet import BasicBlock, ResNet, ZeroPadShortcut, resnet20, resnet110
