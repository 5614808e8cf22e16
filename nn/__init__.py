"""valuegrad's neural-network layer on top of ``autograd`` (modules, losses, optimizers, data)."""

__all__: list[str] = []
