"""Tweet providers (X API v2, TwitterAPI.io, RapidAPI) behind one interface."""
