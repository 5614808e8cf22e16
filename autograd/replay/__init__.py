"""Replays: record the graph one call builds, then rerun its arithmetic without building graphs.

- ``program``: a recorded step as typed data (``Program``, ``Instruction``) and its interpreter;
- ``tape``: ``Tape`` (one whole step) and ``SampleTape`` (one sample's step over a batch);
- ``codegen``: the Python a program becomes;
- ``batch``: ``BatchTape``, one sample's step replayed with arrays across a batch;
- ``arrays``: the NumPy and PyTorch namespaces the batch replay computes with;
- ``reads``: the data reads that make a program unfit for replay.

``import autograd`` loads none of this; ``autograd.Tape``, ``autograd.SampleTape`` and
``autograd.BatchTape`` load it on first use.
"""
