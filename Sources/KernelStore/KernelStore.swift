// KernelStore: see the module's main types.
