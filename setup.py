"""Packaging detail pyproject.toml cannot say: the data in resources/ (kept at the top of the
checkout as its source) is installed as the package ``gradviz.resources``, so a wheel carries
the presets, the icon and the .desktop file (read with importlib.resources: gradviz/assets.py).
Everything else about the package is in pyproject.toml."""

from setuptools import find_namespace_packages, setup

DATA = ["gradviz.resources", *(f"gradviz.resources.{name}" for name in find_namespace_packages(where="resources"))]

setup(
    packages=[*find_namespace_packages(include=["gradviz", "gradviz.*"]), *DATA],
    package_dir={"gradviz.resources": "resources"},
    package_data={name: ["*.json", "*.svg", "*.png", "*.desktop", "*.toml", "*.npz"] for name in DATA},
)
