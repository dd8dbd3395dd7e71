"""Trading: costs, alpha engines, consensus, the shadow trader, trade analysis and performance metrics."""
