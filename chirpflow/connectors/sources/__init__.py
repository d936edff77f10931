"""Sources as pure-Python readers; Bytewax adapters live in chirpflow.connectors.bytewax_source."""
