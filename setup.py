"""Package list for setuptools: interp's subpackages plus the mapped cli/ and data/ directories."""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["interp", "interp.*"]) + ["interp_cli", "interp.data"])
