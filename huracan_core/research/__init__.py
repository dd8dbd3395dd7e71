"""Research: a declared search over candidates per coin, and the corrections that judge its winner."""
