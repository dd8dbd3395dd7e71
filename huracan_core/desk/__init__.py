"""The day's trading: a symbol-day traded by its champion model or the rules, and what its trades teach. It sits
above ``trading`` (costs, exits, the shadow trader) and ``models`` (the coin models), so neither imports the other's
day."""
