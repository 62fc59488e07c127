"""Fashion-MNIST: 70,000 pictures of clothes in 10 classes, 28x28 grey (Xiao, Rasul & Vollgraf 2017).

Offline-capable source: Debian's ``dataset-fashion-mnist`` package (its four IDX files);
Keras's download where there is internet.
"""
from __future__ import annotations

from .builtin import Builtin
from .sources import DebianPackage, KerasDownload

DATASET = Builtin(
    name="fashion-mnist", title="Fashion-MNIST",
    class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    mirror_symmetric=True,  # a mirrored shoe is still a shoe: augmentation may flip
    default_pair=(0, 6), colour="#f28e2b",
    sha256={"x_train": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
            "y_train": "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
            "x_test": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
            "y_test": "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9"},
    shapes={"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28), "y_test": (10000,)},
    sources=(DebianPackage("dataset-fashion-mnist", "usr/share/datasets/fashion-mnist"),
             KerasDownload("fashion_mnist")))
