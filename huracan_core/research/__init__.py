"""The research search: many candidate setups per coin, each judged out of sample after costs, then corrected for having searched."""
