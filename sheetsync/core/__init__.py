"""The functional core: plain data and pure functions, no I/O, no clock, no third-party imports.

grid of values -> rows + problems (`validate`, `parse`) -> scores (`scoring`) -> owned tabs
(`summary`, `owned`) -> a `WritePlan` (`plan`) that a backend applies. `model` holds the plain
data, `errors` the exception tree every layer raises.
"""
