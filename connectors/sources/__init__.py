"""Sources as pure-Python readers; Bytewax adapters live in connectors.bytewax_source."""
