// VatKernel: the pure kernel core.
