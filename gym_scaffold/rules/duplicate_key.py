"""The same key twice in one mapping.

NeMo Gym (OmegaConf) refuses to load a file with a duplicate key; plain YAML tools
silently keep the last one, so the mistake survives review.

Failing:

    my_agent:
      responses_api_agents:
        simple_agent:
          entrypoint: app.py
          datasets: []
          datasets: []

Passing:

    my_agent:
      responses_api_agents:
        simple_agent:
          entrypoint: app.py
          datasets: []
"""

ID = "duplicate-key"
SEVERITY = "error"
SUMMARY = "the same key twice in one mapping"
