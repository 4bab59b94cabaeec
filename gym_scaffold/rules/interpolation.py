"""A `${...}` expression NeMo Gym cannot evaluate.

Unclosed braces, unknown resolvers, and references that loop back on themselves
(`a: ${b}`, `b: ${a}`) stop NeMo Gym at start-up.

Failing:

    a: ${b}
    b: ${a}

Passing:

    a: ${b}
    b: 1
"""

ID = "interpolation"
SEVERITY = "error"
SUMMARY = "a ${...} expression that is malformed or refers to itself"
