"""Builds the C library for the Python package: `make BUILD=<tmp> <tmp>/libetchnn.so`,
then ships libetchnn.so inside the etchnn package (loaded with ctypes).
Metadata is in pyproject.toml."""
import os
import pathlib
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

ROOT = pathlib.Path(__file__).resolve().parent


class BuildPyWithLibrary(build_py):
    def run(self):
        super().run()
        build = pathlib.Path(self.get_finalized_command("build").build_temp).resolve() / "libetchnn"
        lib = build / "libetchnn.so"
        cmd = ["make", f"-j{os.cpu_count() or 1}", f"BUILD={build}", str(lib)]
        try:
            subprocess.run(cmd, cwd=ROOT, check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            raise SystemExit(f"etchnn: building the C library failed ({' '.join(cmd)}: {e}); "
                             "its build dependencies install with `sh tools/install-deps.sh`") from e
        dest = pathlib.Path(self.build_lib) / "etchnn" / "libetchnn.so"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(lib, dest)


class BinaryDistribution(Distribution):
    """The wheel holds a shared library: tag it for this platform."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildPyWithLibrary}, distclass=BinaryDistribution,
      options={"build": {"build_base": "build/python"}, "egg_info": {"egg_base": "build/python"}})
