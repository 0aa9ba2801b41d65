"""Pure domain core: enums, dataclasses and rules. No I/O, no framework imports."""
