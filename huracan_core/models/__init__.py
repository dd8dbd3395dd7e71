"""Models: walk-forward splits, promotion gates and the training that reads them."""
