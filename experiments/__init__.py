"""Experiments on sd-env: rollouts, measures, the dilemma table, training runs and the command line."""
