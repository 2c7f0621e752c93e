"""The scenario simulator: an explicit-state model checker that knows nothing of pages or RCU.

Models plug in through the narrow protocol in bot.sim.core; RCU machinery that several models share
(contexts, RCU, locks, lists, lifetimes) lives in bot.sim.semantics.
"""
