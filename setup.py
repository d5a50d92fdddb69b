from setuptools import find_packages, setup

setup(
    name="ermi",
    version="0.1.0",
    description="Ecologically Rational Meta-learned Inference: meta-learned models of human learning and decision making",
    packages=find_packages(include=["ermi", "ermi.*", "taskgeneration", "categorisation", "categorisation.*",
                                    "functionlearning", "decisionmaking"]),
    python_requires=">=3.10",
    install_requires=[line for line in open("requirements.txt").read().splitlines() if line and not line.startswith("#")],
)
