"""Software-defined assets, one module per stage, with their checks beside them."""
