"""Media I/O. The only modules in synthmark that use PyAV."""
