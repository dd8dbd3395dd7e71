"""The research search: candidates per coin judged out of sample after costs, corrected for having searched."""
