// HTTPServer: see the module's main types.
