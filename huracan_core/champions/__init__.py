"""Champions: which model trades each coin now, the rule that may replace it, and how consumers load it."""
