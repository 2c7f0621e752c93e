"""Runs the C code under review: a small interpreter for the kernel C that page-table code uses.

cparse turns tree-sitter trees into a small AST, compile lowers it to instructions with hoisted calls,
world holds the memory/list/RCU/lock state, machine is the bot.sim Model that interleaves threads.
What each kernel primitive does comes from rules/primitives.toml, never from this package.
"""
