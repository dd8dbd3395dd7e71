"""Paper trading forward: Hamilton's loop over closed bars — champions scored, the risk manager asked, fills on
paper by the shadow trader's own rules and costs, state and logs kept so a killed process resumes exactly."""
