"""A `${...}` expression NeMo Gym cannot evaluate.

Unclosed braces, unknown resolvers, and references that loop back on themselves
(`a: ${b}`, `b: ${a}`) stop NeMo Gym at start-up.

Failing:

    port_a: ${port_b}
    port_b: ${port_a}
    my_server:
      resources_servers:
        my_env:
          entrypoint: app.py
          domain: math
          port: ${port_a}

Passing:

    port_a: 8001
    my_server:
      resources_servers:
        my_env:
          entrypoint: app.py
          domain: math
          port: ${port_a}
"""

ID = "interpolation"
SEVERITY = "error"
SUMMARY = "a ${...} expression that is malformed or refers to itself"
