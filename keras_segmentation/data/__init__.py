"""Datasets: reading, pairing, verifying, visualising, augmenting and loading images and masks."""
