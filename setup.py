"""Package metadata for rec-listwise: list-wise feed RL environments, DDQN agents and DRL-Rec distillation."""

from setuptools import find_packages, setup

setup(
    name="rec-listwise",
    version="0.1.0",
    description="Gymnasium list-wise feed environment fitted on logs, DDQN agents and DRL-Rec distillation",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["rec_env*", "agents*", "distill*", "benchmarks*"]),
    install_requires=[
        "gymnasium>=1.0,<2",
        "torch>=2.2",
        "numpy>=1.24",
        "pandas>=2.0",
        "pyarrow>=14",
        "matplotlib>=3.7",
        "tqdm>=4.60",
        "tensorboard>=2.14",
        "scipy>=1.10",  # paired tests of the benchmark tables
    ],
    extras_require={
        "sb3": ["stable-baselines3>=2.3", "sb3-contrib>=2.3"],
        # pytest-xdist: make test runs the suite on every core (-n auto)
        "dev": ["pytest>=8", "pytest-xdist>=3.5", "hypothesis>=6", "ruff>=0.5"],
        "bench": ["sardine-rec>=1.0.8"],
        # ONNX export (torch.onnx.export needs onnx and onnxscript) and ONNX Runtime serving;
        # floors are the versions tested with torch 2.13
        "serve": ["onnxruntime>=1.32", "onnx>=1.23", "onnxscript>=0.7"],
    },
)
