// KernelService: see the module's main types.
